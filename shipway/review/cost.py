"""What the change under review costs a month: the base's spec and the head's priced by :mod:`shipway.cost`.

The base spec comes from git at the base ref (the same rule as :mod:`.base_ref`: a spec inside the repository
that exists at the ref is read from the ref; otherwise both sides use the same file), or from ``--base-spec``.
The review shows the change per environment and the lines that moved; ``--max-monthly-increase USD`` fails
it when the total rises by more, or when either side cannot be priced in full (an unknown is never a pass).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..cost import Estimate, estimate
from ..cost.format import money
from ..spec import Spec, SpecError, load_spec, parse_spec
from .base_ref import ROOT


@dataclass(frozen=True)
class CostReview:
    markdown: str
    blocking: str | None
    """Why the review fails on cost, or None."""


def spec_at_ref(ref: str, spec: Path, root: Path = ROOT) -> Spec:
    """The spec as it is at ``ref``, or the working copy when the ref has no such file."""
    resolved = Path(spec).resolve()
    try:
        relative = resolved.relative_to(Path(root).resolve())
    except ValueError:
        return load_spec(spec)
    shown = subprocess.run(["git", "-C", str(root), "show", f"{ref}:{relative.as_posix()}"],
                           capture_output=True, text=True, check=False)
    if shown.returncode != 0:
        return load_spec(spec)
    return parse_spec(shown.stdout, f"{ref}:{relative.as_posix()}")


def _signed(value: Decimal) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "±") + money(abs(value))


def _side(label: str, load) -> tuple[Estimate | None, str | None]:
    try:
        return load(), None
    except SpecError as exc:
        return None, f"the {label} spec cannot be priced: " + "; ".join(exc.problems)


def cost_review(head_spec: Path, *, region: str, base_ref: str | None = None, base_spec: Path | None = None,
                max_increase: Decimal | None = None, root: Path = ROOT) -> CostReview:
    """The cost section of the review, comparing the base's spec (at ``base_ref``, or ``base_spec``) to the head's."""
    def base():
        spec = spec_at_ref(base_ref, head_spec, root) if base_ref else load_spec(base_spec)
        return estimate(spec, region=region)

    before, problem = _side("base", base)
    after, head_problem = _side("head", lambda: estimate(load_spec(head_spec), region=region))
    problem = problem or head_problem
    lines = ["### Monthly cost", ""]
    if before is None or after is None:
        blocking = f"cost unknown: {problem}" if max_increase is not None else None
        lines += [f"**⛔ {blocking}.**" if blocking else f"⚠ {problem}", ""]
        return CostReview("\n".join(lines), blocking)

    groups = list(dict.fromkeys([*after.groups, *before.groups]))
    lines += ["| | before | after | change |", "| --- | ---: | ---: | ---: |"]
    for group in [*groups, None]:
        old, new = before.total(environment=group), after.total(environment=group)
        unpriced = " (incomplete)" if old.missing or new.missing else ""
        lines.append(f"| {group or '**total**'} | {money(old.monthly)} | {money(new.monthly)} | "
                     f"{_signed(new.monthly - old.monthly)}{unpriced} |")
    lines.append("")
    moved = _moved_lines(before, after)
    if moved:
        lines += ["| environment | line | before | after | change |", "| --- | --- | ---: | ---: | ---: |", *moved, ""]
    regions = sorted(set(after.regions.values()))
    lines += [f"Priced in {', '.join(regions)} with the table in shipway/catalog/prices.json "
              f"(assumptions: `shipway cost`, docs/cost.md).", ""]

    increase = after.total().monthly - before.total().monthly
    incomplete = before.total().missing + after.total().missing
    blocking = None
    if max_increase is not None:
        if incomplete:
            blocking = f"{incomplete} line(s) have no price, so the increase cannot be checked"
        elif increase > max_increase:
            blocking = f"the change adds {money(increase)} a month, above --max-monthly-increase {money(max_increase)}"
    if blocking:
        lines[2:2] = [f"**⛔ {blocking}.**", ""]
    elif max_increase is not None:
        lines[2:2] = [f"**✅ {_signed(increase)} a month, within --max-monthly-increase {money(max_increase)}.**", ""]
    return CostReview("\n".join(lines), blocking)


def _moved_lines(before: Estimate, after: Estimate) -> list[str]:
    """Rows for the lines whose monthly amount changed, appeared or went away."""
    def keyed(result: Estimate) -> dict[tuple, Decimal | None]:
        return {(line.environment, line.app, line.item): line.amount for line in result.lines}

    old, new = keyed(before), keyed(after)
    rows = []
    for key in dict.fromkeys([*new, *old]):
        was, now = old.get(key), new.get(key)
        if was == now:
            continue
        environment, app, item = key
        name = f"{app} · {item}" if app else item
        unpriced = (key in old and was is None) or (key in new and now is None)
        change = "unknown" if unpriced else _signed((now or Decimal(0)) - (was or Decimal(0)))
        rows.append(f"| {environment} | {name} | {_cell(key, old)} | {_cell(key, new)} | {change} |")
    return rows


def _cell(key: tuple, amounts: dict[tuple, Decimal | None]) -> str:
    if key not in amounts:
        return "—"
    amount = amounts[key]
    return "no price" if amount is None else money(amount)
