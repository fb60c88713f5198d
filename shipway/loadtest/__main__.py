"""``python -m shipway.loadtest``: the load-test gate on loopback, with real Locust processes.

Exit status: 0 when the gate passes, 1 when it fails (thresholds breached, no requests, a crashed master,
a timeout), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import signal
import sys
import tempfile
from pathlib import Path

from ..spec.vocabulary import RUN_TIME, run_time_seconds
from .commands import Load
from .gate import Thresholds, summary


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _number_where(ok, wanted: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{text} is not {wanted}")
        return value

    return parse


_positive_float = _number_where(lambda value: value > 0, "above 0")
_ratio = _number_where(lambda value: 0 <= value <= 1, "between 0 and 1")


def _run_time(text: str) -> str:
    if not re.match(RUN_TIME, text) or run_time_seconds(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 3m, 90s or 1h30m")
    return text


def _url(text: str) -> str:
    if not re.match(r"^https?://[^\s/]+(?:/[^\s]*)?$", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s):// URL")
    return text


def _locustfile(text: str) -> str:
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"{text} is not a file")
    return text


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m shipway.loadtest",
        description="Run a distributed Locust load test on loopback (one master, N workers) and gate it "
                    "on the aggregated p95 latency and failure ratio.",
    )
    p.add_argument("--host", type=_url, required=True, help="the URL under test")
    p.add_argument("--locustfile", type=_locustfile, required=True)
    p.add_argument("--workers", type=_positive_int, required=True, help="Locust worker processes")
    p.add_argument("--users", type=_positive_int, required=True, help="peak concurrent users")
    p.add_argument("--spawn-rate", type=_positive_float, required=True, help="users started per second")
    p.add_argument("--run-time", type=_run_time, required=True, help="e.g. 30s, 3m, 1h30m")
    p.add_argument("--p95-ms", type=_positive_float, required=True, help="highest passing p95 latency, ms")
    p.add_argument("--failure-ratio", type=_ratio, required=True, help="highest passing failures / requests")
    p.add_argument("--results", type=Path, help="keep the CSV stats, logs and summary.md in this directory")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Locust and psutil are the extra shipway[loadtest]: the CDK app, which shares this package, needs neither.
    missing = [name for name in ("locust", "psutil") if importlib.util.find_spec(name) is None]
    if missing:
        print(f"shipway: the load test needs {' and '.join(missing)}: pip install 'shipway[loadtest]'",
              file=sys.stderr)
        return 2
    from .runner import run_local

    load = Load(host=args.host, locustfile=args.locustfile, workers=args.workers, users=args.users,
                spawn_rate=args.spawn_rate, run_time=args.run_time)
    thresholds = Thresholds(p95_ms=args.p95_ms, failure_ratio=args.failure_ratio)
    # SIGTERM unwinds like Ctrl-C, so the runner stops its Locust processes either way.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="shipway-loadtest-") as scratch:
        workdir = args.results or Path(scratch)
        verdict = run_local(load, thresholds, workdir=workdir)
        report = summary(verdict)
        (workdir / "summary.md").write_text(report)
    print(report, end="")
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the runner has stopped its Locust processes on the way out
        print("interrupted: the load test was stopped", file=sys.stderr)
        sys.exit(130)
