"""The load-test gate: Locust's aggregated p95 and failure ratio against the app's thresholds.

A run passes when it made at least one request, its aggregated 95th percentile is at most ``p95_ms``
and failures / requests is at most ``failure_ratio``. A run without requests proves nothing: it fails.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

AGGREGATED = "Aggregated"


class GateError(Exception):
    """The stats cannot be read: no file, no Aggregated row, or a value that is not a number."""


@dataclass(frozen=True)
class Stats:
    requests: int
    failures: int
    p95_ms: float | None  # Locust writes N/A when nothing was measured

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Thresholds:
    p95_ms: float
    failure_ratio: float


@dataclass(frozen=True)
class Verdict:
    thresholds: Thresholds
    stats: Stats | None
    reasons: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.reasons


def read_aggregated(path: str | Path) -> Stats:
    """The Aggregated row of Locust's ``<prefix>_stats.csv``."""
    path = Path(path)
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        raise GateError(f"no Locust stats at {path}") from None
    for row in rows:
        if row.get("Name") == AGGREGATED:
            return Stats(
                requests=_number(row, "Request Count", int),
                failures=_number(row, "Failure Count", int),
                p95_ms=None if row.get("95%") in ("N/A", "", None) else _number(row, "95%", float),
            )
    raise GateError(f"{path} has no {AGGREGATED} row")


def _number(row: dict[str, str], column: str, kind: type):
    try:
        return kind(row[column])
    except (KeyError, TypeError, ValueError):
        raise GateError(f"the {AGGREGATED} row's {column!r} is {row.get(column)!r}, not a number") from None


def evaluate(stats: Stats, thresholds: Thresholds) -> Verdict:
    reasons = []
    if stats.requests <= 0:
        reasons.append("no requests were made")
    else:
        if stats.p95_ms is None:
            reasons.append("Locust measured no 95th percentile")
        elif stats.p95_ms > thresholds.p95_ms:
            reasons.append(f"p95 {stats.p95_ms:g} ms is above {thresholds.p95_ms:g} ms")
        if stats.failure_ratio > thresholds.failure_ratio:
            reasons.append(
                f"failure ratio {stats.failure_ratio:.4g} ({stats.failures}/{stats.requests}) "
                f"is above {thresholds.failure_ratio:g}"
            )
    return Verdict(thresholds=thresholds, stats=stats, reasons=reasons)


def judge(csv_path: str | Path, thresholds: Thresholds) -> Verdict:
    """Read and evaluate; unreadable stats are a failed gate with the reason, never a pass."""
    try:
        return evaluate(read_aggregated(csv_path), thresholds)
    except GateError as error:
        return Verdict(thresholds=thresholds, stats=None, reasons=[str(error)])


def after_master(exit_code: int, csv_path: str | Path, thresholds: Thresholds, *, log: str = "") -> Verdict:
    """The verdict on a finished master: a non-zero exit is a crash (the master leaves failures to us)."""
    if exit_code != 0:
        return failed(thresholds, f"the Locust master crashed (exit code {exit_code})" + (f":\n{log}" if log else ""))
    return judge(csv_path, thresholds)


def failed(thresholds: Thresholds, reason: str) -> Verdict:
    """A verdict for a run that produced no stats to judge (a crashed master, a timeout)."""
    return Verdict(thresholds=thresholds, stats=None, reasons=[reason])


def summary(verdict: Verdict) -> str:
    """A short markdown report: the verdict, the numbers against the thresholds, and why it failed."""
    t, s = verdict.thresholds, verdict.stats
    lines = [f"# Load test: {'PASSED' if verdict.passed else 'FAILED'}", ""]
    if s is not None:
        p95 = "n/a" if s.p95_ms is None else f"{s.p95_ms:g} ms"
        lines += [
            "| measure | value | threshold |",
            "| --- | --- | --- |",
            f"| requests | {s.requests} | at least 1 |",
            f"| p95 latency | {p95} | at most {t.p95_ms:g} ms |",
            f"| failure ratio | {s.failure_ratio:.4g} ({s.failures} failed) | at most {t.failure_ratio:g} |",
            "",
        ]
    lines += [f"- {reason}" for reason in verdict.reasons]
    return "\n".join(lines).rstrip() + "\n"
