"""Run the pipeline's buildspecs as CodeBuild runs them: real bash, and the real AWS CLI answering from moto.

CodeBuild (buildspec 0.2) runs a phase's commands one after another in one shell and stops the phase at the
first command that fails; the phase's ``finally`` commands then run, under the same rule; a failed phase
ends the build (``on-failure: ABORT``, what shipway's buildspecs declare or, with one phase, never need).
``buildspec_script`` (e2e/codebuild.py, shared with the emulated deploy) writes exactly that as one bash script,
so a test sees what CodeBuild would do.

The AWS CLI is the venv's (``awscli`` pinned in requirements-dev.txt), pointed at moto's server with
``AWS_ENDPOINT_URL``. Its ECS waiters are the real ones with ``delay`` 0 and 3 attempts (``AWS_DATA_PATH``
takes precedence over the CLI's own models): the acceptors are AWS's, only the 10-minute polling is gone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from e2e.codebuild import buildspec_script

VENV_BIN = Path(sys.executable).parent
REAL_AWS = VENV_BIN / "aws"
HOOKS = Path(__file__).parent / "aws_hooks"
REGION = "us-east-1"


def run_buildspec(spec: dict, cwd: Path, env: dict[str, str], *, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", buildspec_script(spec)], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=timeout)


def run_commands(commands: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A build phase of just ``commands``, without AWS (jq, bash): PATH is the system's."""
    return run_buildspec({"phases": {"build": {"commands": commands}}}, cwd, {"PATH": "/usr/bin:/bin", **env},
                         timeout=30)


# --- the AWS CLI against moto -----------------------------------------------------------------------------


def fast_waiters(directory: Path) -> Path:
    """An AWS_DATA_PATH whose ECS waiters are the CLI's own with no delay and 3 attempts."""
    models = REAL_AWS.parent.parent / "lib"
    (source,) = models.glob("python3*/site-packages/awscli/botocore/data/ecs/*/waiters-2.json")
    waiters = json.loads(source.read_text())
    for waiter in waiters["waiters"].values():
        waiter.update(delay=0, maxAttempts=3)
    target = directory / "ecs" / source.parent.name / "waiters-2.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(waiters))
    return directory


def aws_env(endpoint: str, workdir: Path, *, hooks: bool = False, **variables: str) -> dict[str, str]:
    """The environment of a build whose ``aws`` is the real CLI against moto; ``hooks`` puts tests/aws_hooks/aws
    (the real CLI plus AWS_CALL_LOG, AWS_FAIL and AWS_PLAY_MASTER) first on PATH."""
    path = [str(HOOKS)] if hooks else []
    return {
        "PATH": ":".join([*path, str(VENV_BIN), "/usr/bin", "/bin"]),
        "HOME": str(workdir),
        "REAL_AWS": str(REAL_AWS),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DATA_PATH": str(fast_waiters(workdir / "aws-data")),
        # an error is reported at once, as it would be after the CLI's retries
        "AWS_MAX_ATTEMPTS": "1",
        **variables,
    }


def reset(endpoint: str, *, tasks: str) -> None:
    """Empty moto, and say how its ECS tasks move: ``stop`` at once (a task that ran and exited 0: moto runs
    no container) or ``run`` until something stops them."""
    requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
    transitions: dict[str, dict[str, Any]] = {
        "stop": {"progression": "immediate"}, "run": {"progression": "manual", "times": 10**9}}
    transition = transitions[tasks]
    requests.post(f"{endpoint}/moto-api/state-manager/set-transition", timeout=10,
                  json={"model_name": "ecs::task", "transition": transition}).raise_for_status()


def unset_transitions(endpoint: str) -> None:
    requests.post(f"{endpoint}/moto-api/state-manager/unset-transition", timeout=10,
                  json={"model_name": "ecs::task"}).raise_for_status()
