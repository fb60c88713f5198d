"""The load-test gate with real Locust processes (one master, two workers) against loopback servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import psutil
import pytest

from shipway.loadtest.commands import Load, locust_commands
from shipway.loadtest.gate import Thresholds
from shipway.loadtest.runner import free_port, locust_processes, run_local

pytestmark = pytest.mark.system

LOCUSTFILES = Path(__file__).parent / "locustfiles"
THRESHOLDS = Thresholds(p95_ms=400, failure_ratio=0.01)
SLOW_SECONDS = 0.8  # twice the p95 threshold


def _handler(status: int, delay: float):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(delay)
            body = b"ok\n"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def _serve(status: int = 200, delay: float = 0.0):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(status, delay))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def server(request):
    server = _serve(**request.param)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _load(host: str, locustfile: str = "hello.py") -> Load:
    return Load(host=host, locustfile=str(LOCUSTFILES / locustfile), workers=2, users=4, spawn_rate=4,
                run_time="3s")


def _cli(load: Load, thresholds: Thresholds, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "shipway.loadtest", "--host", load.host, "--locustfile", load.locustfile,
        "--workers", str(load.workers), "--users", str(load.users), "--spawn-rate", f"{load.spawn_rate:g}",
        "--run-time", load.run_time, "--p95-ms", f"{thresholds.p95_ms:g}",
        "--failure-ratio", f"{thresholds.failure_ratio:g}", *extra,
    ]


@pytest.mark.parametrize("server", [{}], indirect=True)
def test_a_fast_server_passes_and_the_cli_exits_0(server, tmp_path):
    result = subprocess.run(_cli(_load(server), THRESHOLDS, "--results", str(tmp_path)),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("# Load test: PASSED")
    assert (tmp_path / "summary.md").read_text() == result.stdout
    assert (tmp_path / "stats_stats.csv").is_file()
    # two workers really took part
    assert "reported as ready. 2 workers connected." in (tmp_path / "master.log").read_text()


@pytest.mark.parametrize("server", [{"delay": SLOW_SECONDS}], indirect=True)
def test_a_slow_server_fails_on_p95_and_the_cli_exits_1(server, tmp_path):
    result = subprocess.run(_cli(_load(server), THRESHOLDS), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("# Load test: FAILED")
    assert "p95" in result.stdout and "is above 400 ms" in result.stdout
    assert "failure ratio 0" not in result.stdout


@pytest.mark.parametrize("server", [{"status": 500}], indirect=True)
def test_a_server_answering_500_fails_on_the_failure_ratio(server, tmp_path):
    verdict = run_local(_load(server), THRESHOLDS, workdir=tmp_path)
    assert not verdict.passed
    assert verdict.stats.requests > 0 and verdict.stats.failures == verdict.stats.requests
    assert [r for r in verdict.reasons if r.startswith("failure ratio 1 ")], verdict.reasons
    assert not [r for r in verdict.reasons if r.startswith("p95")], verdict.reasons


def test_a_crashed_master_fails_the_gate(tmp_path):
    verdict = run_local(_load("http://127.0.0.1:9", "broken.py"), THRESHOLDS, workdir=tmp_path)
    assert not verdict.passed
    assert verdict.stats is None
    assert "the Locust master crashed" in verdict.reasons[0]
    assert "broken on purpose" in verdict.reasons[0]


@pytest.mark.parametrize("server", [{}], indirect=True)
def test_ctrl_c_stops_every_locust_process(server, tmp_path):
    load = Load(host=server, locustfile=str(LOCUSTFILES / "hello.py"), workers=2, users=2, spawn_rate=2,
                run_time="5m")
    # As from a terminal: a test run in the background (CI, nohup) would pass SIGINT on as ignored.
    cli = subprocess.Popen(_cli(load, THRESHOLDS), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           # PLW1509: this test starts no thread, and the child only resets SIGINT
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
    parent = psutil.Process(cli.pid)
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while len(parent.children()) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        children = parent.children()
        assert len(children) == 3  # the master and two workers
        time.sleep(1)  # past the last start: the signal lands while the runner waits for the master
        started = time.monotonic()
        cli.send_signal(signal.SIGINT)
        assert cli.wait(timeout=90) == 130
        _, alive = psutil.wait_procs(children, timeout=5)
        assert alive == []
        assert time.monotonic() - started < 60
    finally:  # never leave a 5-minute load test behind, whatever failed above
        for process in [*children, parent]:
            if process.is_running():
                process.kill()


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--failure-ratio", "2", "is not between 0 and 1"),
        ("--run-time", "3 minutes", "is not a duration"),
        ("--workers", "0", "is not at least 1"),
        ("--host", "localhost:8000", "is not an http(s):// URL"),
        ("--locustfile", "no/such/locustfile.py", "is not a file"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(flag, value, message):
    argv = _cli(_load("http://127.0.0.1:9"), THRESHOLDS)
    argv[argv.index(flag) + 1] = value
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert f"argument {flag}" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("server", [{}], indirect=True)
def test_the_ecs_master_entry_point_judges_and_stores_the_results_in_s3(server, moto_s3, tmp_path):
    """The master container's command, as the task definition carries it, against moto's S3 on loopback."""
    s3 = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket="results")
    csv_prefix = str(tmp_path / "results" / "stats")
    commands = locust_commands(_load(server), master_host="127.0.0.1", csv_prefix=csv_prefix,
                               master_port=free_port(), bind_host="127.0.0.1", workers_max_wait=60)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": moto_s3,
        "SHIPWAY_RESULTS_BUCKET": "results", "SHIPWAY_RESULTS_KEY": "0123abcd-execution",
        # the image has `locust` on PATH; so does this interpreter's bin
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    entry_point = [sys.executable, "-m", "shipway.loadtest.task", "--p95-ms", "400", "--failure-ratio", "0.01",
                   "--csv-prefix", csv_prefix, "--"]
    with locust_processes() as start:
        for i in range(2):
            start(commands.worker, tmp_path / f"worker-{i}.log")
        result = subprocess.run([*entry_point, *commands.master], env=env, capture_output=True, text=True,
                                timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "# Load test: PASSED" in result.stdout
    listed = s3.list_objects_v2(Bucket="results", Prefix="0123abcd-execution/")
    keys = sorted(o["Key"] for o in listed["Contents"])
    assert "0123abcd-execution/summary.md" in keys and "0123abcd-execution/stats_stats.csv" in keys
    summary = s3.get_object(Bucket="results", Key="0123abcd-execution/summary.md")
    assert summary["Body"].read().decode() == (tmp_path / "results" / "summary.md").read_text()
    assert summary["ContentType"] == "text/markdown"
