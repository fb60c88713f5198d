"""bench/replay_app.py, the bench's measure of what CDK alone charges for shipway's templates, writes the same
templates, and says so only when it does: otherwise the bound it measures would be for other templates."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from bench.replay_app import differences
from shipway.synth import ROOT


def replay(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``python -m bench.replay_app`` in a fresh process, as the bench runs it."""
    return subprocess.run([sys.executable, "-m", "bench.replay_app", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "CDK_VALIDATION": "false", **env}, timeout=300, check=False)


def test_the_replay_writes_the_shipped_templates_again(shipped):
    result = replay(str(shipped.outdir))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "every template written the same"


def test_a_template_not_written_the_same_is_named(shipped, tmp_path):
    """What the check would say of a resource CfnInclude dropped: the replay writes the shipped assembly, and is
    compared with a copy that holds one more resource."""
    source = tmp_path / "assembly"
    shutil.copytree(shipped.outdir, source)
    template = source / "acme-blog.template.json"
    body = json.loads(template.read_text())
    body["Resources"]["Unrelated"] = {"Type": "AWS::SNS::Topic", "Properties": {}}
    template.write_text(json.dumps(body))
    written = tmp_path / "written"
    result = replay(CDK_OUTDIR=str(written), REPLAY_FROM=str(shipped.outdir))
    assert result.returncode == 0, result.stderr[-2000:]
    assert differences(source, written) == ["acme-blog.template.json"]


def test_the_replay_with_cdk_nag_reports_findings_without_failing(shipped, tmp_path):
    """With cdk-nag's rules on, the replay (holding none of shipway's acknowledgements) still writes every
    template: its cost is measured, its findings are not the gate."""
    written = tmp_path / "checked"
    result = replay(CDK_OUTDIR=str(written), REPLAY_FROM=str(shipped.outdir), REPLAY_CHECKS="true")
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in written.glob("*.template.json")) == sorted(
        p.name for p in shipped.outdir.glob("*.template.json"))
    assert "AwsSolutions-" in (written / "validation-report.json").read_text()
