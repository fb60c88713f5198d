"""The Locust master and worker command lines, built in one place for every place that runs them.

The local runner starts these on loopback and the ECS task definitions carry them verbatim, so a load
test behaves the same on a laptop and in an environment: only the addresses differ.
"""

from __future__ import annotations

from dataclasses import dataclass

# Locust's default master port; the ECS security group rule and the task definitions use it too.
MASTER_PORT = 5557
# How long the master waits for its workers in ECS: Spot placement and image pulls take minutes.
WORKERS_MAX_WAIT = 300


@dataclass(frozen=True, kw_only=True)
class Load:
    """What one load test does: the target, the locustfile and the shape of the load."""

    host: str
    locustfile: str
    workers: int
    users: int
    spawn_rate: float
    run_time: str


@dataclass(frozen=True)
class Commands:
    master: list[str]
    worker: list[str]


def locust_commands(
    load: Load,
    *,
    master_host: str,
    csv_prefix: str,
    master_port: int = MASTER_PORT,
    bind_host: str = "*",
    workers_max_wait: int = WORKERS_MAX_WAIT,
) -> Commands:
    """The headless master (with CSV stats) and the worker that connects to it at ``master_host``.

    ``--exit-code-on-error 0`` leaves the verdict on failures to the gate: a non-zero exit of the master
    then always means it crashed (or gave up waiting ``workers_max_wait`` seconds for its workers).
    """
    master = [
        "locust", "--master", "--headless",
        "--expect-workers", str(load.workers), "--expect-workers-max-wait", str(workers_max_wait),
        "-u", str(load.users), "-r", f"{load.spawn_rate:g}", "-t", load.run_time,
        "--csv", csv_prefix, "--only-summary", "--exit-code-on-error", "0",
        "--master-bind-host", bind_host, "--master-bind-port", str(master_port),
        "--host", load.host, "-f", load.locustfile,
    ]
    worker = [
        "locust", "--worker", "--master-host", master_host, "--master-port", str(master_port),
        "-f", load.locustfile,
    ]
    return Commands(master=master, worker=worker)


def stats_csv(csv_prefix: str) -> str:
    """The file Locust's ``--csv PREFIX`` writes the per-endpoint and Aggregated stats to."""
    return f"{csv_prefix}_stats.csv"
