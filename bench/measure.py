"""Timing a synth as a user's `cdk synth` runs it: a fresh `python app.py` process and its jsii Node child.

Every figure comes from a new process tree, so imports, Node's start and jsii's load of aws-cdk-lib are
paid each time, as they are on a laptop or in CI. Peak memory is the sum over the tree (python + node) of
each process's own peak resident set (``VmHWM`` in /proc), sampled while it runs.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from shipway.synth import ROOT, cdk_context

FLOOR_APP = Path(__file__).with_name("floor_app.py")
REPLAY_APP = Path(__file__).with_name("replay_app.py")
CDK = ROOT / "node_modules" / ".bin" / "cdk"
SAMPLE_SECONDS = 0.1


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float  # user + system of the whole tree: what a busy neighbour does not inflate
    peak_rss: dict[str, int]  # process name -> peak resident bytes

    @property
    def total_rss(self) -> int:
        return sum(self.peak_rss.values())


@dataclass
class Series:
    """Repeated runs of one variant."""

    label: str
    runs: list[Run] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def spread(self) -> tuple[float, float]:
        return min(r.seconds for r in self.runs), max(r.seconds for r in self.runs)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(r.cpu_seconds for r in self.runs)

    @property
    def peak_rss(self) -> int:
        return int(statistics.median(r.total_rss for r in self.runs))

    def peak_rss_of(self, process: str) -> int:
        return int(statistics.median(r.peak_rss.get(process, 0) for r in self.runs))


def cli_context(spec: Path | None = None) -> dict:
    """The context the pinned CDK CLI hands the app in CDK_CONTEXT_JSON (captured from `cdk synth`).

    It also passes ``@aws-cdk/core:failSynthOnValidationErrors: false`` and reports findings itself; here
    the app keeps failing on them, so a broken synth is never timed as a fast one.
    """
    context = cdk_context()
    context.update({"aws:cdk:disable-version-reporting": True, "aws:cdk:bundling-stacks": ["**"]})
    if spec is not None:
        context["spec"] = str(spec)
    return context


Command = Callable[[Path], tuple[list[str], dict[str, str]]]


def python_synth(script: Path, context: dict, node: str | None = None, extra_env: dict | None = None) -> Command:
    """A variant: ``python script`` with ``context``, on ``node`` (a path) or the first Node on PATH."""

    def command(outdir: Path) -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ, CDK_OUTDIR=str(outdir), CDK_CONTEXT_JSON=json.dumps(context), **(extra_env or {}))
        if node is not None:
            env["JSII_NODE"] = node
            # jsii prints a banner for Node 20 (end-of-life); it does not change the work done.
            env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "1"
        return [sys.executable, str(script)], env

    return command


def run_once(command: Command, keep: Path | None = None) -> Run:
    """Run one synth in a fresh output folder; raise with its stderr if it fails."""
    outdir = Path(tempfile.mkdtemp(prefix="shipway-bench-"))
    try:
        argv, env = command(outdir)
        peaks: dict[int, tuple[str, int]] = {}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        sampler = threading.Thread(target=_sample, args=(process.pid, peaks, process), daemon=True)
        sampler.start()
        _, stderr = process.communicate()
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        sampler.join()
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({process.returncode}):\n{stderr.decode()[-4000:]}")
        if not (outdir / "manifest.json").exists():
            raise RuntimeError(f"{' '.join(argv)} wrote no cloud assembly")
        if keep is not None:
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(outdir, keep)
        totals: dict[str, int] = {}
        for name, peak in peaks.values():
            totals[name] = totals.get(name, 0) + peak
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return Run(seconds, cpu, totals)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def _sample(pid: int, peaks: dict[int, tuple[str, int]], process: subprocess.Popen) -> None:
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for proc in tree:
            peak = _high_water_mark(proc.pid)
            if peak is not None:
                name = _kind(proc)
                peaks[proc.pid] = (name, max(peak, peaks.get(proc.pid, (name, 0))[1]))
        time.sleep(SAMPLE_SECONDS)


def _kind(proc: psutil.Process) -> str:
    """node, python or the executable's name (Node 24 renames its main thread, so the exe decides)."""
    try:
        name = Path(proc.exe()).name
    except psutil.Error:
        return "other"
    return "node" if name.startswith("node") else "python" if name.startswith("python") else name


def _high_water_mark(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def compare(variants: dict[str, Command], repetitions: int, log=print, *, warm_up: bool = False,
            keep: dict[str, Path] | None = None) -> dict[str, Series]:
    """Run every variant ``repetitions`` times, interleaved (A B C A B C ...), so that a busy neighbour slows
    all of them alike and each ratio comes from the same stretch of time. ``warm_up`` runs each once first,
    discarded (the first comparison of a session: cold disk caches); ``keep`` saves the last run's assembly."""
    series = {label: Series(label) for label in variants}
    keep = keep or {}
    if warm_up:
        for label, command in variants.items():
            run_once(command)
            log(f"  warm-up {label}")
    for i in range(repetitions):
        for label, command in variants.items():
            run = run_once(command, keep=keep.get(label) if i == repetitions - 1 else None)
            series[label].runs.append(run)
            log(f"  {i + 1}/{repetitions} {label}: {run.seconds:.2f} s, {run.cpu_seconds:.2f} s CPU, "
                f"{run.total_rss / 2**20:.0f} MiB")
    return series
