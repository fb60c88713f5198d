"""The real CDK CLI on a bad spec: one clear message per problem, a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shipway.summary import summarize
from shipway.synth import ROOT

CDK = ROOT / "node_modules" / ".bin" / "cdk"


def cdk_synth(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [str(CDK), "synth", "--quiet", "--output", str(tmp_path / "out"), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def test_cdk_synth_of_a_bad_spec_prints_the_problems_and_fails(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: tiny\nenvironments:\n  dev: {network: {nat_gateways: 9}}\napps: {}\n")
    result = cdk_synth("-c", f"spec={bad}", tmp_path=tmp_path)
    assert result.returncode != 0
    assert (f"{bad}:3: environments.dev.network.nat_gateways: Input should be less than or equal to 6 (got 9)"
            in result.stderr)
    assert "Traceback" not in result.stderr + result.stdout


def test_cdk_synth_of_a_missing_spec_says_so(tmp_path):
    result = cdk_synth("-c", "spec=does-not-exist.yaml", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "does-not-exist.yaml: no such file; pass another with -c spec=PATH" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_summary_has_one_line_per_stack(minimal):
    rows = summarize(minimal.outdir)
    assert [name for name, _, _ in rows] == ["tiny-dev-platform", "tiny-dev-data", "tiny-hello", "tiny-hello-dev"]
    for name, resources, size in rows:
        assert resources > 0 and size == (minimal.outdir / f"{name}.template.json").stat().st_size
