"""`python -m shipway.review --base OLD_CDK_OUT --head NEW_CDK_OUT [--allow TYPE:LogicalId ...]`.

Prints the review as markdown; exits 1 when a stateful resource would be destroyed, replaced or orphaned
and no ``--allow`` covers it, 2 when an assembly cannot be read, 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .assembly import AssemblyError, read_assembly
from .base_ref import BaseRefError, synthesize_ref
from .cdk_diff import cdk_diffs
from .compare import review
from .report import markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shipway.review", description=__doc__.split("\n\n")[1])
    base = parser.add_mutually_exclusive_group(required=True)
    base.add_argument("--base", type=Path, help="the assembly deployed now (cdk.out of the base)")
    base.add_argument("--base-ref", metavar="GIT_REF", help="synthesize this git ref into a temporary directory")
    parser.add_argument("--spec", type=Path, default=Path("shipway.yaml"), help="the spec (with --base-ref)")
    parser.add_argument("--head", type=Path, required=True, help="the assembly under review")
    parser.add_argument("--allow", action="append", default=[], metavar="TYPE:LogicalId",
                        help="let this reviewed data-losing change through (repeatable)")
    parser.add_argument("--cdk-diff", action="store_true", help="add `cdk diff --template` per changed stack")
    parser.add_argument("--output", type=Path, help="also write the markdown to this file")
    args = parser.parse_args(argv)
    for allowed in args.allow:
        if ":" not in allowed.replace("::", ""):
            parser.error(f"--allow {allowed!r}: expected TYPE:LogicalId such as AWS::S3::Bucket:LogsBucket1234")
    with tempfile.TemporaryDirectory(prefix="shipway-base-") as tmp:
        try:
            if args.base_ref:
                args.base = synthesize_ref(args.base_ref, Path(tmp), spec=args.spec)
            base, head = read_assembly(args.base), read_assembly(args.head)
        except (AssemblyError, BaseRefError) as exc:
            print(f"shipway review: {exc}", file=sys.stderr)
            return 2
        return _report(args, base, head)


def _report(args: argparse.Namespace, base: dict, head: dict) -> int:
    result = review(base, head, args.allow)
    diffs = None
    if args.cdk_diff:
        changed = [s.name for s in result.stacks if s.changes]
        diffs = cdk_diffs(args.base, args.head, changed, base)
    text = markdown(result, diffs)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 1 if result.blocking else 0


if __name__ == "__main__":
    sys.exit(main())
