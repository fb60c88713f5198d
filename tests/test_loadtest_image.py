"""The load-test image: pinned Locust, the app's locustfile, shipway's gate; build commands that really run."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

import pytest

from shipway.loadtest import image

LOCUSTFILE = "loadtest/locustfile.py"


def test_the_image_pins_the_locust_and_boto3_the_tests_run():
    dockerfile = image.dockerfile(LOCUSTFILE)
    assert dockerfile.splitlines()[3] == f"FROM locustio/locust:{version('locust')}"
    assert f"RUN pip install --no-cache-dir boto3=={version('boto3')}" in dockerfile
    assert "COPY --from=app . /mnt/app/loadtest/" in dockerfile
    assert image.locustfile_in_image(LOCUSTFILE) == "/mnt/app/loadtest/locustfile.py"


def test_a_locustfile_at_the_repository_root_copies_the_root():
    assert "COPY --from=app . /mnt/app/\n" in image.dockerfile("locustfile.py")
    assert "--build-context app=. " in " ".join(image.build_commands("locustfile.py"))


@pytest.mark.parametrize("locustfile", [LOCUSTFILE, "locustfile.py", "load tests/it's.py"])
def test_every_build_command_is_valid_bash(locustfile):
    for command in image.build_commands(locustfile):
        result = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True, check=False)
        assert result.returncode == 0, (command[:200], result.stderr)


def test_the_context_is_deterministic():
    assert image.context_archive(LOCUSTFILE) == image.context_archive(LOCUSTFILE)


def test_the_build_commands_write_a_context_whose_gate_runs_on_its_own(tmp_path):
    """Run the context-writing commands in bash in a checkout; the gate modules import from the context alone."""
    (tmp_path / "loadtest").mkdir()
    (tmp_path / LOCUSTFILE).write_text("from locust import HttpUser\n")
    commands = image.build_commands(LOCUSTFILE)
    setup = [c for c in commands if not c.startswith(("if ", "LOADTEST_"))]
    assert len(setup) == len(commands) - 3
    subprocess.run(["bash", "-e", "-c", "\n".join(setup)], cwd=tmp_path, check=True, timeout=30)
    context = tmp_path / image.CONTEXT
    assert (context / "Dockerfile").read_text() == image.dockerfile(LOCUSTFILE)
    env = {**os.environ, "PYTHONPATH": str(context)}
    probe = ("import shipway.loadtest.task as t, sys; print(t.__file__); "
             "print(sorted(m for m in sys.modules if m.startswith('shipway')))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                            check=True)
    where, modules = result.stdout.splitlines()
    assert where == str(context / "shipway" / "loadtest" / "task.py")
    assert modules == str(["shipway", "shipway.loadtest", "shipway.loadtest.commands", "shipway.loadtest.gate",
                           "shipway.loadtest.task"])


def test_a_missing_locustfile_fails_the_build(tmp_path):
    setup = [c for c in image.build_commands(LOCUSTFILE) if not c.startswith(("if ", "LOADTEST_"))]
    result = subprocess.run(["bash", "-e", "-c", "\n".join(setup)], cwd=tmp_path, timeout=30, check=False)
    assert result.returncode != 0


def test_the_load_test_repository_derives_from_the_apps():
    from shipway import naming

    commands = "\n".join(image.build_commands(LOCUSTFILE))
    script = commands.split("if aws ecr")[0] + 'echo "$LOADTEST_REPOSITORY_NAME $LOADTEST_IMAGE_URI"'
    script = "\n".join(line for line in script.splitlines() if line.startswith(("LOADTEST_", 'echo "$')))
    registry = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"
    env = {"IMAGE_REPOSITORY_NAME": naming.image_repository("acme", "minne"), "IMAGE_TAG": "0123abcd",
           "IMAGE_REPOSITORY_URI": f"{registry}/{naming.image_repository('acme', 'minne')}"}
    printed = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert printed.split() == [naming.loadtest_repository("acme", "minne"),
                               f"{registry}/acme/minne-loadtest:0123abcd"]
