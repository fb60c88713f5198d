"""The local runner: one Locust master and N workers as real processes on loopback, then the gate.

The processes are those of ``commands.locust_commands``, the same the ECS task definitions carry. Every
process is stopped on the way out, whatever the way out is (a verdict, a timeout, Ctrl-C, an exception).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil

from ..spec.vocabulary import run_time_seconds
from .commands import Load, locust_commands, stats_csv
from .gate import Thresholds, Verdict, after_master, failed
from .limits import STOP_MARGIN

LOOPBACK = "127.0.0.1"
# How long the master waits for its workers on loopback; they connect within seconds.
WORKERS_MAX_WAIT = 60
STOP_GRACE = 10


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def run_local(load: Load, thresholds: Thresholds, *, workdir: Path) -> Verdict:
    """Run ``load`` on loopback with its results in ``workdir`` and judge them."""
    workdir.mkdir(parents=True, exist_ok=True)
    csv_prefix = str(workdir / "stats")
    commands = locust_commands(
        load, master_host=LOOPBACK, csv_prefix=csv_prefix, master_port=free_port(), bind_host=LOOPBACK,
        workers_max_wait=WORKERS_MAX_WAIT,
    )
    master_log = workdir / "master.log"
    timeout = run_time_seconds(load.run_time) + WORKERS_MAX_WAIT + STOP_MARGIN
    with locust_processes() as start:
        master = start(commands.master, master_log)
        for i in range(load.workers):
            start(commands.worker, workdir / f"worker-{i}.log")
        try:
            code = master.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return failed(thresholds, f"the Locust master did not finish within {timeout} s")
    return after_master(code, stats_csv(csv_prefix), thresholds, log=_tail(master_log) if code else "")


@contextmanager
def locust_processes() -> Iterator:
    """``start(argv, log)`` starts a process (``locust`` through this interpreter); all are stopped on exit."""
    started: list[subprocess.Popen] = []
    # Children we had before (a CDK app's jsii kernel, when tests run us in-process) are not ours to stop.
    before = {child.pid for child in psutil.Process().children()}

    def start(argv: list[str], log: Path) -> subprocess.Popen:
        # `locust` through this interpreter: the runner works without the venv's bin on PATH.
        argv = [sys.executable, "-m", "locust", *argv[1:]] if argv[0] == "locust" else argv
        with log.open("wb") as out:
            # A session of its own: Ctrl-C in a terminal reaches us, and we stop the whole group.
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        started.append(process)
        return process

    try:
        yield start
    finally:
        _stop(started)
        _stop_strays(before)


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to every process group, STOP_GRACE seconds for all of them together, then SIGKILL."""
    for process in processes:
        _signal(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal(process, signal.SIGKILL)
            process.wait()


def _stop_strays(before: set[int]) -> None:
    """Kill children that Popen forked but never handed back.

    A Ctrl-C that lands while Popen waits for the child's exec raises before the child is tracked; the
    child then runs on, in a session of its own, unless it is found here among our children.
    """
    strays = [child for child in psutil.Process().children() if child.pid not in before]
    for stray in strays:
        with suppress(psutil.NoSuchProcess):
            stray.kill()
    psutil.wait_procs(strays, timeout=STOP_GRACE)


def _signal(process: subprocess.Popen, signum: int) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signum)


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
