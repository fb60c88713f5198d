"""Locust and psutil are the optional extra ``shipway[loadtest]``: the CDK app synthesizes without them.

The load test is one slice (shipway/loadtest): its runtime code (the loopback runner, the master's entry point)
and its synth code (the constructs, their spec translation). The CDK app imports the synth side only; what it
needs of the runtime side (MASTER_PORT, WORKERS_MAX_WAIT, STOP_MARGIN) sits in modules that import neither.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib

from shipway.loadtest import image
from shipway.synth import ROOT, cdk_context

RUNTIME_ONLY = ("locust", "psutil", "gevent")

# app.py as the CDK CLI runs it (the CLI passes cdk.json's context and the output directory through the
# environment), then the modules that run imported.
PROBE = """
import json, runpy, sys
try:
    runpy.run_path("app.py", run_name="__main__")
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
print(json.dumps(sorted(sys.modules)))
"""


def test_the_cdk_app_imports_neither_locust_nor_psutil(tmp_path):
    env = os.environ | {"CDK_OUTDIR": str(tmp_path), "CDK_CONTEXT_JSON": json.dumps(cdk_context())}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=False, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    modules = json.loads(result.stdout.splitlines()[-1])
    # the shipped spec has a load test: its constructs were built, and the stacks were written
    assert {"shipway.loadtest.locust_construct", "shipway.loadtest.gate_construct"} <= set(modules)
    assert (tmp_path / "acme-minne-staging.template.json").exists()
    imported = sorted(m for m in modules if m.split(".")[0] in RUNTIME_ONLY)
    assert imported == []
    assert "shipway.loadtest.runner" not in modules


def test_the_extra_is_pinned_as_the_tests_and_the_image_run_it():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["loadtest"]
    pins = dict(line.split("==") for line in extra)
    assert set(pins) == {"locust", "psutil"}
    dev = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+)$", (ROOT / "requirements-dev.txt").read_text(), flags=re.MULTILINE))
    runtime = (ROOT / "requirements.txt").read_text()
    for name, version in pins.items():
        assert dev[name] == version, name
        assert not re.search(rf"^{name}\b", runtime, flags=re.MULTILINE), f"{name} is in requirements.txt"
    assert pins["locust"] == image.LOCUST_VERSION  # the image's Locust is the loopback runner's


def test_the_runner_without_the_extra_says_what_to_install(tmp_path):
    """A Python without Locust and psutil: one line naming the extra, exit status 2, no traceback."""
    blocker = tmp_path / "sitecustomize.py"
    # a module set to None in sys.modules cannot be imported, and importlib.util.find_spec gives None for it
    blocker.write_text("import sys\nsys.modules.update(locust=None, psutil=None)\n")
    (tmp_path / "x.py").write_text("")
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-m", "shipway.loadtest", "--host", "http://127.0.0.1:9", "--locustfile", "x.py",
         "--workers", "1", "--users", "1", "--spawn-rate", "1", "--run-time", "1s", "--p95-ms", "100",
         "--failure-ratio", "0"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "shipway: the load test needs locust and psutil: pip install 'shipway[loadtest]'"
