"""In-process synthesis, with the same context the CDK CLI passes from cdk.json: used by tests and tools."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk

from . import assembly
from .app import build_app
from .spec import Spec

ROOT = Path(__file__).resolve().parent.parent


def cdk_context() -> dict:
    """cdk.json's context plus path metadata, which lets cfn-lint recognize CDK output."""
    context = dict(json.loads((ROOT / "cdk.json").read_text()).get("context", {}))
    context["aws:cdk:enable-path-metadata"] = True
    return context


def builtin_validation() -> bool:
    """Whether aws-cdk-lib's built-in CloudFormation validation runs: off unless CDK_VALIDATION=true.

    Its rule engine (WebAssembly) more than triples the time of a synth (bench/RESULTS.md) and checks what
    the cfn-lint gate already checks on every template; it never changes a template.
    """
    return os.environ.get("CDK_VALIDATION", "").lower() == "true"


@dataclass
class Synthesized:
    app: cdk.App
    outdir: Path

    def templates(self) -> dict[str, dict]:
        return assembly.templates(self.outdir)

    def stack(self, name: str) -> cdk.Stack:
        child = self.app.node.find_child(name)
        assert isinstance(child, cdk.Stack)
        return child


def synthesize(spec: Spec, outdir: Path, *, before_synth: Callable[[cdk.App], None] | None = None) -> Synthesized:
    """Synthesize ``spec`` into ``outdir``; ``before_synth`` may edit the built app first (the review tests
    plant renames through CDK's own overrides)."""
    app = cdk.App(
        outdir=str(outdir), context=cdk_context(), analytics_reporting=False,
        builtin_cloud_formation_validation=builtin_validation(),
    )
    build_app(spec, app=app)
    if before_synth is not None:
        before_synth(app)
    app.synth()
    return Synthesized(app, outdir)
