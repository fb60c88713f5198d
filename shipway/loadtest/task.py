"""The master container's entry point in ECS: run the Locust master, judge it, store the results.

    python -m shipway.loadtest.task --p95-ms P --failure-ratio F --csv-prefix PREFIX -- locust --master ...

The command after ``--`` is ``commands.locust_commands(...).master``, as the task definition carries it.
The CSV files and ``summary.md`` go to ``s3://$SHIPWAY_RESULTS_BUCKET/$SHIPWAY_RESULTS_KEY/`` (the gate action
sets the key to the pipeline execution ID). Exit status: 0 when the gate passes, 1 when it fails, 2 on
usage errors; so the task's exit code is the verdict.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .commands import stats_csv
from .gate import Thresholds, after_master, summary

SUMMARY = "summary.md"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m shipway.loadtest.task")
    p.add_argument("--p95-ms", type=float, required=True)
    p.add_argument("--failure-ratio", type=float, required=True)
    p.add_argument("--csv-prefix", required=True)
    p.add_argument("master", nargs=argparse.REMAINDER, help="-- then the Locust master command")
    args = p.parse_args(argv)
    master = args.master[1:] if args.master[:1] == ["--"] else args.master
    if not master:
        p.error("give the Locust master command after --")
    thresholds = Thresholds(p95_ms=args.p95_ms, failure_ratio=args.failure_ratio)

    Path(args.csv_prefix).parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(master)
    # ECS stops a task with SIGTERM to this process: pass it on, so Locust stops and writes its CSV.
    signal.signal(signal.SIGTERM, lambda *_: process.send_signal(signal.SIGTERM))
    verdict = after_master(process.wait(), stats_csv(args.csv_prefix), thresholds)
    report = summary(verdict)
    summary_path = Path(args.csv_prefix).parent / SUMMARY
    summary_path.write_text(report)
    print(report, end="", flush=True)

    bucket = os.environ.get("SHIPWAY_RESULTS_BUCKET")
    if bucket:
        key = os.environ.get("SHIPWAY_RESULTS_KEY") or time.strftime("manual/%Y%m%dT%H%M%SZ", time.gmtime())
        upload(bucket, key, [*Path(args.csv_prefix).parent.glob(Path(args.csv_prefix).name + "_*.csv"), summary_path])
    return 0 if verdict.passed else 1


def upload(bucket: str, key: str, files: list[Path]) -> None:
    """Put ``files`` under ``s3://bucket/key/``; a failed upload fails the task (the gate needs the results)."""
    import boto3  # only in the load-test image, and only here

    s3 = boto3.client("s3")
    for path in sorted(files):
        content_type = "text/markdown" if path.suffix == ".md" else "text/csv"
        s3.upload_file(str(path), bucket, f"{key}/{path.name}", ExtraArgs={"ContentType": content_type})
        print(f"uploaded s3://{bucket}/{key}/{path.name}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
