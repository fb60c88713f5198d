"""What a user sees when something is missing: one line and a documented exit code, never a traceback.

These run the real console entry point (`python -m shipway`) in a subprocess, with the environment a user
without credentials or region would have."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from shipway.cli import cli
from shipway.synth import ROOT
from tests.conftest import SPECS

CLI_SPEC = SPECS / "cli.yaml"
VERBS = ["apps", "apps:create", "apps:destroy", "config", "config:get", "config:set", "config:unset", "deploy",
         "diff", "exec", "info", "logs", "open", "ps", "ps:autoscale", "ps:scale", "ps:wait", "releases", "review",
         "rollback", "run", "synth"]


def shipway(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                 "AWS_EC2_METADATA_DISABLED": "true"})
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "shipway", *args], cwd=ROOT, env=base, capture_output=True,
                          text=True, timeout=120, check=False)


def test_missing_credentials_are_one_line_and_exit_4():
    result = shipway("ps", "--spec", str(CLI_SPEC), env={"AWS_REGION": "us-east-1"})
    assert result.returncode == 4
    assert result.stderr == ("shipway: no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                             "(or run aws sso login)\n")


def test_a_missing_region_is_one_line_and_exit_4():
    result = shipway("ps", "--spec", str(CLI_SPEC), env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"})
    assert result.returncode == 4
    assert result.stderr == ("shipway: no AWS region: set AWS_REGION or AWS_DEFAULT_REGION (or the environment's "
                             "region in shipway.yaml)\n")


def test_an_invalid_spec_is_one_line_per_problem_and_exit_3(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: tiny\nenvironments:\n  dev: {network: {nat_gateways: 9}}\napps: {}\n")
    result = shipway("ps", "--spec", str(bad))
    assert result.returncode == 3
    assert result.stderr == (f"shipway: {bad}:3: environments.dev.network.nat_gateways: Input should be less than "
                             "or equal to 6 (got 9)\n")
    missing = shipway("config:set", "A=b", "--spec", str(tmp_path / "nope.yaml"))
    assert (missing.returncode, missing.stderr) == (
        3, f"shipway: {tmp_path / 'nope.yaml'}: no such file; pass another with --spec PATH\n")


def test_unknown_app_environment_and_process_are_one_line_and_exit_5():
    app = shipway("info", "-a", "nope", "--spec", str(CLI_SPEC))
    assert (app.returncode, app.stderr) == (5, "shipway: unknown app 'nope'; the spec has: store\n")
    env = shipway("ps", "-e", "qa", "--spec", str(CLI_SPEC))
    assert (env.returncode, env.stderr) == (5, "shipway: unknown environment 'qa'; the spec has: staging, production\n")
    process = shipway("logs", "-p", "nope", "--spec", str(CLI_SPEC))
    assert (process.returncode, process.stderr) == (
        5, "shipway: unknown process 'nope' of store; it has: web, worker\n")


def test_every_verb_is_registered_and_has_help():
    assert set(VERBS) <= set(cli.commands)
    for verb in VERBS:
        result = CliRunner().invoke(cli, [verb, "--help"])
        assert result.exit_code == 0, verb
        assert result.stdout.startswith(f"Usage: cli {verb} ") or result.stdout.startswith(f"Usage: shipway {verb} ")


@pytest.mark.parametrize("verb", ["config:set", "ps:scale"])
def test_a_usage_error_exits_2(verb):
    result = shipway(verb, "--spec", str(CLI_SPEC))
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_the_docs_transcripts_regenerate(tmp_path):
    """scripts/cli_transcripts.py reruns every transcript of docs/cli.md against the emulator."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import cli_transcripts
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    doc = tmp_path / "cli.md"
    doc.write_text((ROOT / "docs" / "cli.md").read_text())
    assert cli_transcripts.main(["cli_transcripts", str(doc)]) == 0
    blocks = cli_transcripts.BLOCK.findall(doc.read_text())
    assert len(blocks) == 18
    text = doc.read_text()
    reading_part = text.split("### Reading")[1].split("### State-changing")[0]
    assert "[exit" not in reading_part and "Traceback" not in text
    assert "$ shipway ps -e staging\n=== store in staging (cluster shop-staging" in text
