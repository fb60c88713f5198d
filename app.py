#!/usr/bin/env python3
"""CDK entry point: `cdk synth` reads shipway.yaml (or `-c spec=PATH`) and builds every stack."""

import sys

import aws_cdk as cdk

from shipway.app import build_app
from shipway.spec import SpecError, load_spec
from shipway.synth import builtin_validation


def main() -> int:
    app = cdk.App(builtin_cloud_formation_validation=builtin_validation())
    spec_path = app.node.try_get_context("spec") or "shipway.yaml"
    try:
        spec = load_spec(spec_path)
    except SpecError as exc:
        print(f"shipway: {len(exc.problems)} problem(s) in the spec:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    build_app(spec, app=app)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
