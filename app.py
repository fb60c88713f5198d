#!/usr/bin/env python3
"""CDK entry point: `cdk synth` reads shipway.yaml (or `-c spec=PATH`) and builds every stack.

`-c apps=web,api` builds only those apps' stacks, and `-c platform=false` leaves out the platform and data
stacks (shipway.app.Selection): what `shipway diff -a APP` and `make review APP=...` synthesize.
"""

import sys

import aws_cdk as cdk

from shipway.app import build_app
from shipway.selection import Selection, SelectionError
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
    try:
        build_app(spec, app=app, selection=Selection.from_context(app.node))
    except SelectionError as exc:
        print(f"shipway: {exc}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
