"""Moving in: `shipway import copilot` and `shipway import heroku` turn another platform's description of an app
into a ``shipway.yaml`` and a report of everything that did not carry over (docs/import.md)."""
