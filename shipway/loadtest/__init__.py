"""The load-test gate: Locust command lines, the gate on its CSV stats, and the loopback runner."""
