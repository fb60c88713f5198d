"""cfn-lint as the templates' gate: zero errors and zero warnings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def cfn_lint(outdir: Path) -> list[str]:
    """Findings of cfn-lint (errors, warnings and informational) on every template in ``outdir``."""
    templates = sorted(str(p) for p in outdir.glob("*.template.json"))
    assert templates, f"no templates in {outdir}"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", "--", *templates],
        capture_output=True, text=True, check=False,
    )
    if result.returncode not in (0, 2, 4, 6, 8, 10, 12, 14):
        raise RuntimeError(f"cfn-lint failed to run: {result.stderr}")
    return [line for line in result.stdout.splitlines() if line.strip()]
