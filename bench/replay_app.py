"""CDK's own price for a set of templates: the cheapest CDK app that writes them, run as app.py is.

``REPLAY_FROM`` names a cloud assembly (shipway's synth of a spec). Every stack of it is written again by one
``cloudformation_include.CfnInclude``: Node reads the template and makes each element the typed L1 construct
of its type (so cdk-nag's rules, with ``REPLAY_CHECKS=true``, evaluate the same resources as in shipway's
synth), with one jsii request per stack, no L2 construct and no shipway code. What this app costs above the
floor (bench/floor_app.py) is what CDK charges for holding and writing templates of that size, which no change
to how shipway builds them can remove; what a synth of the spec costs above this app is the price of building
them with constructs from Python.

``python -m bench.replay_app ASSEMBLY`` checks the fidelity: the written templates equal the assembly's but
for the construct paths in their metadata and the order of ``DependsOn`` lists (CDK sorts them).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import cloudformation_include

PATH_METADATA = "aws:cdk:path"


def main(source: Path, outdir: str | None = None, *, checks: bool = False) -> None:
    """Write ``source``'s templates again. ``outdir`` None: CDK_OUTDIR, as the CLI and the bench set it, and the
    built-in validation as the floor's (CDK_VALIDATION); otherwise the validation is off (the fidelity check).
    With ``checks``, cdk-nag's AwsSolutions rules evaluate every resource, as in shipway's synth; their findings
    are reported, not failing the synth, since this app holds none of shipway's acknowledgements."""
    app = cdk.App(outdir=outdir, builtin_cloud_formation_validation=False if outdir else None,
                  context={"@aws-cdk/core:failSynthOnValidationErrors": False} if checks else None)
    if checks:
        from cdk_nag import AwsSolutionsChecks

        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    for template_file in sorted(source.glob("*.template.json")):
        stack = cdk.Stack(app, template_file.name.removesuffix(".template.json"),
                          synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False))
        cloudformation_include.CfnInclude(stack, "Template", template_file=str(template_file))
    app.synth()


def comparable(template: dict) -> dict:
    """``template`` without its construct paths, each ``DependsOn`` sorted."""
    for body in template.get("Resources", {}).values():
        metadata = {k: v for k, v in body.pop("Metadata", {}).items() if k != PATH_METADATA}
        if metadata:
            body["Metadata"] = metadata
        if isinstance(body.get("DependsOn"), list):
            body["DependsOn"] = sorted(body["DependsOn"])
    return template


def differences(source: Path, written: Path) -> list[str]:
    """The templates of ``source`` that ``written`` does not hold the same (paths and DependsOn order aside)."""
    return [t.name for t in sorted(source.glob("*.template.json"))
            if comparable(json.loads(t.read_text())) != comparable(json.loads((written / t.name).read_text()))]


if __name__ == "__main__":
    if len(sys.argv) > 1:  # the fidelity check
        with tempfile.TemporaryDirectory() as out:
            main(Path(sys.argv[1]), out)
            differ = differences(Path(sys.argv[1]), Path(out))
        print("differ: " + ", ".join(differ) if differ else "every template written the same")
        sys.exit(1 if differ else 0)
    main(Path(os.environ["REPLAY_FROM"]), checks=os.environ.get("REPLAY_CHECKS") == "true")
