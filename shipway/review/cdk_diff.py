"""The CDK's own view of each stack's change: ``cdk diff --template``, offline, for a collapsed section.

With ``--app`` naming a synthesized assembly and ``--template`` the base template, the CLI compares two
files and needs no AWS credentials. It is a second opinion beside ours (it predicts replacements from the
CDK's own resource specification), not the gate.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..acknowledged import DIFF, unacknowledged
from ..assembly import StackTemplate

CDK = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "cdk"


def cdk_diffs(base_dir: Path, head_dir: Path, stacks: list[str], base: dict[str, StackTemplate],
              cdk: Path = CDK) -> dict[str, str]:
    """``cdk diff`` text per stack present in both assemblies; stacks the CLI cannot diff are left out."""
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true", "CDK_DISABLE_VERSION_CHECK": "1"}
    texts = {}
    for name in stacks:
        template = base_dir / f"{name}.template.json"
        if name not in base or not template.exists():
            continue
        result = subprocess.run(
            [str(cdk), "diff", "--app", str(head_dir), "--template", str(template), "--no-color",
             "--exclusively", name],
            capture_output=True, text=True, env=env, timeout=300, check=False,
        )
        # The diff is on stderr, after the assembly's annotations; those shipway has answered are left out.
        stderr = "".join(unacknowledged(result.stderr.splitlines(keepends=True), DIFF))
        text = (result.stdout + stderr).split("✨")[0].strip()
        if text:
            texts[name] = text
    return texts
