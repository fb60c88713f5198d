"""`python -m bench.phases SPEC OUTDIR [--no-checks] [--profile FILE]`: one synth in this fresh process, in phases.

Prints JSON: wall seconds and jsii round-trips (requests Python sent to the Node kernel) for each phase:
importing aws-cdk-lib (which starts Node and loads the library into it), importing shipway (cdk-nag's
assembly), loading the spec, building the construct tree, and ``app.synth()`` (all Node: validation,
cdk-nag, rendering and writing the templates). With ``--profile`` it also writes pyinstrument's text report.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path


def _count_round_trips(counter: Counter, sites: Counter) -> None:
    """Count each request to the Node kernel, and the innermost shipway line that caused it."""
    from jsii._kernel.providers import process

    send = process._NodeProcess.send

    def counted(self, request, response_type):
        counter[type(request).__name__] += 1
        frame = sys._getframe(1)
        while frame is not None and "/shipway/" not in frame.f_code.co_filename:
            frame = frame.f_back
        if frame is not None:
            where = frame.f_code.co_filename.rsplit("/shipway/", 1)[1]
            sites[f"shipway/{where}:{frame.f_lineno} ({frame.f_code.co_name})"] += 1
        return send(self, request, response_type)

    process._NodeProcess.send = counted  # type: ignore[method-assign]  # counting, for this process only


def _shipway_frames(root) -> list[tuple[str, float]]:
    """Inclusive seconds of each shipway function (recursion counted once), largest first."""
    totals: dict[str, float] = {}

    def walk(frame, seen: frozenset) -> None:
        key = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        inside = "shipway/" in (frame.file_path or "") and key not in seen
        if inside:
            totals[key] = totals.get(key, 0.0) + frame.time
            seen = seen | {key}
        for child in frame.children:
            walk(child, seen)

    walk(root, frozenset())
    return sorted(((k, round(v, 3)) for k, v in totals.items()), key=lambda kv: -kv[1])[:25]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec", type=Path)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--no-checks", action="store_true", help="leave cdk-nag out, to see what it costs")
    parser.add_argument("--profile", type=Path, help="write pyinstrument's report of the whole run here")
    args = parser.parse_args(argv)

    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)  # a coarse timer: this machine's fine one is costly
        profiler.start()

    round_trips: Counter = Counter()
    sites: Counter = Counter()
    phases: dict[str, dict] = {}
    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = {"seconds": round(now - mark, 3), "round_trips": sum(round_trips.values())}
        round_trips.clear()
        mark = now

    _count_round_trips(round_trips, sites)
    import aws_cdk as cdk

    phase("import aws-cdk-lib (Node start, library load)")
    from shipway.app import build_app
    from shipway.spec import load_spec
    from shipway.synth import builtin_validation, cdk_context

    phase("import shipway (cdk-nag)")
    spec = load_spec(args.spec)
    phase("load and validate the spec")
    app = cdk.App(
        outdir=str(args.outdir), context=cdk_context(), analytics_reporting=False,
        builtin_cloud_formation_validation=builtin_validation(),
    )
    build_app(spec, app=app, checks=not args.no_checks)
    phase("build the construct tree")
    app.synth()
    phase("app.synth() (validate, cdk-nag, render, write)")

    result = {"phases": phases, "sites": sites.most_common(20)}
    if profiler is not None:
        profiler.stop()
        args.profile.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        session = profiler.last_session
        assert session is not None  # stopped above
        result["shipway"] = _shipway_frames(session.root_frame())
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
