"""checkov as the templates' second gate: the CloudFormation framework, zero failed checks, every skip reasoned.

checkov runs once over every template of the given specs with their ``Metadata.checkov`` skips stripped, so one
run tells both what would fail without the skips and whether each skip still answers a finding. A copy of one
template keeps its skips, to show that checkov reads them where shipway writes them.

checkov pins boto3 below the project's own pin, so it lives in its own virtualenv, ``.venv-checkov``, which
``make setup`` creates from requirements-checkov.txt.
"""

from __future__ import annotations

import copy
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from shipway.synth import ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
AS_IS = "as-is"

Finding = tuple[str, str, str]
"""(``<spec>/<template file>``, logical ID, check ID)."""


@dataclass(frozen=True)
class CheckovRun:
    failed: set[Finding]
    """What checkov fails with every skip stripped."""
    skips: dict[Finding, str]
    """Every skip in the templates, with its comment."""
    as_is_failed: set[Finding]
    as_is_skipped: set[Finding]
    """The copy that keeps its skips: what checkov failed and skipped there."""


def _skips(template: dict) -> dict[tuple[str, str], str]:
    return {
        (logical_id, entry["id"]): entry.get("comment", "")
        for logical_id, resource in template.get("Resources", {}).items()
        for entry in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }


def _stripped(template: dict) -> dict:
    template = copy.deepcopy(template)
    for resource in template.get("Resources", {}).values():
        resource.get("Metadata", {}).pop("checkov", None)
    return template


def run_checkov(outdirs: dict[str, Path], workdir: Path, *, as_is: tuple[str, str]) -> CheckovRun:
    """checkov over every template of ``outdirs`` (spec name -> cdk.out), skips stripped; ``as_is``
    (spec, template file) is also scanned unchanged."""
    if not CHECKOV.exists():
        raise FileNotFoundError(f"{CHECKOV} is missing: run `make setup` (checkov lives in .venv-checkov)")
    skips: dict[Finding, str] = {}
    for spec, outdir in outdirs.items():
        templates = sorted(outdir.glob("*.template.json"))
        assert templates, f"no templates in {outdir}"
        (workdir / spec).mkdir(parents=True)
        for path in templates:
            template = json.loads(path.read_text())
            for (logical_id, check_id), comment in _skips(template).items():
                skips[(f"{spec}/{path.name}", logical_id, check_id)] = comment
            (workdir / spec / path.name).write_text(json.dumps(_stripped(template)))
    spec, name = as_is
    (workdir / AS_IS).mkdir()
    (workdir / AS_IS / name).write_text((outdirs[spec] / name).read_text())
    result = subprocess.run(
        [str(CHECKOV), "--framework", "cloudformation", "--directory", ".", "--output", "json",
         "--compact", "--skip-download"],
        cwd=workdir, capture_output=True, text=True, check=False,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed to run ({result.returncode}): {result.stderr[-2000:]}")
    reports = json.loads(result.stdout)
    failed: set[Finding] = set()
    as_is_failed: set[Finding] = set()
    as_is_skipped: set[Finding] = set()
    for report in reports if isinstance(reports, list) else [reports]:
        for kind, checks in (("failed", report["results"].get("failed_checks", [])),
                             ("skipped", report["results"].get("skipped_checks", []))):
            for check in checks:
                file = check["file_path"].lstrip("/")
                finding = (file.replace(f"{AS_IS}/", f"{spec}/", 1), check["resource"].split(".", 1)[1],
                           check["check_id"])
                if file.startswith(f"{AS_IS}/"):
                    (as_is_failed if kind == "failed" else as_is_skipped).add(finding)
                elif kind == "failed":
                    failed.add(finding)
    return CheckovRun(failed=failed, skips=skips, as_is_failed=as_is_failed, as_is_skipped=as_is_skipped)
