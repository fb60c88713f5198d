"""Every editing verb on a spec with comments, anchors, aliases and odd quoting: only the intended lines change,
and the result still validates. (--no-apply: the spec edit alone; the applied side is in the other tests.)"""

from __future__ import annotations

import difflib
import shutil

import pytest
from click.testing import CliRunner

from shipway.cli import cli
from shipway.cli.spec_edit import SpecDocument
from shipway.spec import load_spec
from shipway.synth import ROOT
from tests import emulator
from tests.conftest import SPECS, free_port

ROUNDTRIP = SPECS / "cli-roundtrip.yaml"


def changed_lines(before: str, after: str) -> list[str]:
    return [line.rstrip("\n") for line in difflib.ndiff(before.splitlines(True), after.splitlines(True))
            if line[:2] in ("+ ", "- ")]


@pytest.mark.parametrize("path", [ROOT / "shipway.yaml", ROUNDTRIP, SPECS / "minimal.yaml", SPECS / "cli.yaml"])
def test_loading_and_saving_without_an_edit_is_byte_identical(path):
    document = SpecDocument(path)
    assert document.render() == path.read_text()


EDITS = [
    (["config:set", "-a", "api", "GREETING=bye: now"],
     ['-       GREETING: "héllo: world"       # a colon and non-ASCII, double-quoted',
      '+       GREETING: "bye: now"           # a colon and non-ASCII, double-quoted']),
    (["config:set", "-a", "api", "NEW=0012"],
     ["+       NEW: '0012'"]),
    (["config:unset", "-a", "api", "EMPTY"],
     ["-       EMPTY: ''"]),
    (["ps:scale", "-a", "api", "web=3"],
     ["-         count: 2", "+         count: 3"]),
    (["ps:scale", "-a", "api", "worker=2x"],
     ["-         size: *small                 # the alias of web's size",
      "+         size: 2x                     # the alias of web's size"]),
    (["ps:scale", "-a", "jobs", "worker=3"],
     ["-       worker: {command: ./bin/jobs}", "+       worker: {command: ./bin/jobs, count: 3}"]),
    (["ps:autoscale", "-a", "api", "web", "--min", "2", "--max", "5"],
     ["+         autoscale:", "+           min: 2", "+           max: 5"]),
    (["apps:create", "admin", "--buildpacks", "heroku/builder:24"],
     ["+   admin:", "+     source:", "+       codecommit: admin", "+       branch: main", "+     build:",
      "+       buildpacks: heroku/builder:24", "+     processes:", "+       web:", "+         port: 8080"]),
    (["apps:destroy", "batch", "--confirm", "batch"],
     ["-   batch:", "-     source: {codecommit: batch}",
      "-     config: *shared_config           # the same config mapping as jobs'",
      "-     processes:", "-       worker: {command: ./bin/batch}"]),
]


@pytest.mark.parametrize("args,expected", EDITS, ids=[" ".join(a[:2]) for a, _ in EDITS])
def test_each_editing_verb_changes_only_its_lines(args, expected, tmp_path):
    spec = tmp_path / "shipway.yaml"
    shutil.copy(ROUNDTRIP, spec)
    before = spec.read_text()
    result = CliRunner().invoke(cli, [*args, "--spec", str(spec), "--no-apply"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    after = spec.read_text()
    assert changed_lines(before, after) == expected
    load_spec(spec)  # still a valid spec


def test_a_secret_is_stored_and_only_its_arn_lands_in_the_spec(tmp_path):
    spec = tmp_path / "shipway.yaml"
    shutil.copy(ROUNDTRIP, spec)
    before = spec.read_text()
    with emulator.emulator(free_port()):
        result = CliRunner().invoke(cli, ["config:set", "-a", "api", "--secret", "TOKEN=s3cr3t-value", "--spec",
                                          str(spec), "--no-apply"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    after = spec.read_text()
    assert "s3cr3t-value" not in after + result.output
    lines = changed_lines(before, after)
    assert lines[0] == "+     secrets:" and lines[1].startswith(
        "+       TOKEN: arn:aws:secretsmanager:us-east-1:123456789012:secret:shipway/odd/api/TOKEN-")
    assert len(lines) == 2


def test_an_edit_through_a_shared_anchor_is_refused(tmp_path):
    spec = tmp_path / "shipway.yaml"
    shutil.copy(ROUNDTRIP, spec)
    before = spec.read_text()
    for args in (["config:set", "-a", "jobs", "X=1"], ["config:unset", "-a", "batch", "QUEUE"]):
        result = CliRunner().invoke(cli, [*args, "--spec", str(spec), "--no-apply"])
        assert result.exit_code == 3
        assert result.stderr == (
            f"shipway: {spec}: apps.{args[2]}.config is the anchor &shared_config, used 1 more time(s) elsewhere; "
            "an edit here would change them too: edit the file by hand\n")
    assert spec.read_text() == before
