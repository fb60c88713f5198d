"""`python -m shipway.review --base OLD_CDK_OUT --head NEW_CDK_OUT [--allow TYPE:LogicalId ...]`.

Prints the review as markdown; exits 1 when a stateful resource would be destroyed, replaced or orphaned
and no ``--allow`` covers it, or when the change adds more than ``--max-monthly-increase`` a month; 2 when an
assembly cannot be read, 0 otherwise. With the base's spec (``--base-ref``, or ``--base-spec``) the markdown
ends with the monthly cost of the change per environment (shipway/review/cost.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..assembly import AssemblyError, read_assembly
from ..cost import DEFAULT_REGION
from .base_ref import BaseRefError, synthesize_ref
from .cdk_diff import cdk_diffs
from .compare import review
from .cost import cost_review
from .report import markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shipway.review", description=__doc__.split("\n\n")[1])
    base_source = parser.add_mutually_exclusive_group(required=True)
    base_source.add_argument("--base", type=Path, help="the assembly deployed now (cdk.out of the base)")
    base_source.add_argument("--base-ref", metavar="GIT_REF", help="synthesize this git ref into a temporary directory")
    parser.add_argument("--spec", type=Path, default=Path("shipway.yaml"),
                        help="the head's spec (and the base's, read at --base-ref)")
    parser.add_argument("--head", type=Path, required=True, help="the assembly under review")
    parser.add_argument("--allow", action="append", default=[], metavar="TYPE:LogicalId",
                        help="let this reviewed data-losing change through (repeatable)")
    parser.add_argument("--cdk-diff", action="store_true", help="add `cdk diff --template` per changed stack")
    parser.add_argument("--output", type=Path, help="also write the markdown to this file")
    parser.add_argument("--base-spec", type=Path, help="with --base: the base's spec, to price the change")
    parser.add_argument("--region", default=DEFAULT_REGION,
                        help=f"prices for environments without a region (default: {DEFAULT_REGION})")
    parser.add_argument("--max-monthly-increase", type=_usd, metavar="USD",
                        help="fail when the change adds more than this a month (docs/cost.md)")
    args = parser.parse_args(argv)
    if args.max_monthly_increase is not None and not (args.base_ref or args.base_spec):
        parser.error("--max-monthly-increase needs the base's spec: --base-ref, or --base with --base-spec")
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
    cost = None
    if args.base_ref or args.base_spec:
        cost = cost_review(args.spec, region=args.region, base_ref=args.base_ref, base_spec=args.base_spec,
                           max_increase=args.max_monthly_increase)
        text += "\n" + cost.markdown
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 1 if result.blocking or (cost and cost.blocking) else 0


def _usd(value: str) -> Decimal:
    try:
        amount = Decimal(value.removeprefix("$"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"expected US dollars such as 50 or 12.5, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise argparse.ArgumentTypeError(f"expected a positive amount of US dollars, got {value!r}")
    return amount


if __name__ == "__main__":
    sys.exit(main())
