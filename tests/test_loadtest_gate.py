"""The gate's decision on Locust CSV stats, at and around its boundaries, and the command lines it judges."""

from __future__ import annotations

import pytest

from shipway.loadtest.commands import Load, locust_commands, stats_csv
from shipway.loadtest.gate import Thresholds, judge, summary

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
    "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
    "99.99%,100%"
)
THRESHOLDS = Thresholds(p95_ms=500, failure_ratio=0.01)


def _csv(tmp_path, requests, failures, p95, *, name="Aggregated", endpoint_p95=1):
    path = tmp_path / "stats_stats.csv"
    rows = [
        HEADER,
        # an endpoint row with other numbers: the gate must read the Aggregated row, not the first one
        f"GET,/,1,0,1,1,1,1,3,1.0,0.0,1,1,1,1,1,{endpoint_p95},1,1,1,1,1",
        f",{name},{requests},{failures},40,42.5,3,900,3.0,10.0,0.0,40,50,60,70,80,{p95},{p95},{p95},{p95},{p95},{p95}",
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("requests", "failures", "p95", "passed"),
    [
        (1000, 10, 500, True),      # both exactly at their threshold: pass
        (1000, 0, 510, False),      # p95 just above (Locust rounds to 2 significant digits above 100 ms)
        (1000, 11, 100, False),     # 0.011 > 0.01
        (100000, 1000, 499, True),  # 0.01 exactly, at a larger count
        (1000, 0, 0, True),
        (1000, 1000, 0, False),
    ],
)
def test_boundaries(tmp_path, requests, failures, p95, passed):
    verdict = judge(_csv(tmp_path, requests, failures, p95, endpoint_p95=99999), THRESHOLDS)
    assert verdict.passed is passed, verdict.reasons


def test_p95_and_failures_are_both_reported(tmp_path):
    verdict = judge(_csv(tmp_path, 200, 100, 2300), THRESHOLDS)
    assert verdict.reasons == [
        "p95 2300 ms is above 500 ms",
        "failure ratio 0.5 (100/200) is above 0.01",
    ]


def test_zero_requests_fail(tmp_path):
    verdict = judge(_csv(tmp_path, 0, 0, "N/A"), THRESHOLDS)
    assert not verdict.passed
    assert verdict.reasons == ["no requests were made"]


def test_a_missing_aggregated_row_fails(tmp_path):
    verdict = judge(_csv(tmp_path, 1000, 0, 10, name="/other"), THRESHOLDS)
    assert not verdict.passed
    assert "has no Aggregated row" in verdict.reasons[0]


def test_missing_stats_fail(tmp_path):
    verdict = judge(tmp_path / "nothing_stats.csv", THRESHOLDS)
    assert not verdict.passed
    assert verdict.reasons[0].startswith("no Locust stats at ")


def test_a_value_that_is_not_a_number_fails(tmp_path):
    verdict = judge(_csv(tmp_path, "lots", 0, 10), THRESHOLDS)
    assert not verdict.passed
    assert verdict.reasons == ["the Aggregated row's 'Request Count' is 'lots', not a number"]


def test_summary_shows_numbers_against_thresholds(tmp_path):
    report = summary(judge(_csv(tmp_path, 1000, 20, 640), THRESHOLDS))
    assert report.splitlines()[0] == "# Load test: FAILED"
    assert "| p95 latency | 640 ms | at most 500 ms |" in report
    assert "| failure ratio | 0.02 (20 failed) | at most 0.01 |" in report
    assert report.endswith("- failure ratio 0.02 (20/1000) is above 0.01\n")
    assert summary(judge(_csv(tmp_path, 10, 0, 5), THRESHOLDS)).startswith("# Load test: PASSED\n")


def test_master_and_worker_commands():
    load = Load(host="https://minne.example.com", locustfile="/mnt/locust/locustfile.py", workers=4, users=400,
                spawn_rate=40.0, run_time="3m")
    commands = locust_commands(load, master_host="master.staging.acme.internal", csv_prefix="/results/stats")
    master = " ".join(commands.master)
    assert master.startswith("locust --master --headless --expect-workers 4 ")
    assert "-u 400 -r 40 -t 3m --csv /results/stats" in master
    assert "--exit-code-on-error 0" in master  # failures are the gate's call; non-zero means a crash
    assert "--master-bind-port 5557 --host https://minne.example.com -f /mnt/locust/locustfile.py" in master
    assert commands.worker == [
        "locust", "--worker", "--master-host", "master.staging.acme.internal", "--master-port", "5557",
        "-f", "/mnt/locust/locustfile.py",
    ]
    assert stats_csv("/results/stats") == "/results/stats_stats.csv"
