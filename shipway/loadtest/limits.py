"""How long a load test may take beyond its run, for the loopback runner and the pipeline's gate alike.

Standard library only: the CDK app imports this module (the gate's wait), and it must import neither Locust nor
psutil, which only the runner needs (``pip install shipway[loadtest]``).
"""

from __future__ import annotations

# Beyond run time and worker wait: Locust's start-up, its stop and the CSV write.
STOP_MARGIN = 30
