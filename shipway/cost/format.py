"""The estimate as a text table, as markdown, or as JSON.

Text and markdown print the same sections: the totals per environment beside their Heroku equivalent, the
totals per app, each environment's lines, the Heroku lines, and the assumptions. Amounts are rounded to the
cent only here; JSON keeps every decimal exact (as strings).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from .model import PIPELINES, Estimate, Line, Total

CENT = Decimal("0.01")
AMOUNTS = {"unit price", "monthly", "at max", "on-demand", "Spot saves", "Heroku", "per month"}
"""Columns right-aligned in markdown."""
Section = tuple[str, list[str], list[list[str]]]
"""A title, the column names, and the rows."""


def money(value: Decimal) -> str:
    return f"${value.quantize(CENT, rounding=ROUND_HALF_UP):,}"


def _number(value: Decimal) -> str:
    value = value.quantize(CENT, rounding=ROUND_HALF_UP).normalize()
    return f"{value:,f}"


def _total(total: Total, value: Decimal) -> str:
    return f"≥ {money(value)} ({total.missing} unpriced)" if total.missing else money(value)


def _line_row(line: Line) -> list[str]:
    item = f"{line.app} · {line.item}" if line.app else line.item
    # a line's amounts are None exactly when it has no unit price
    amount, amount_max, on_demand = line.amount, line.amount_max, line.on_demand
    if line.unit_price is None or amount is None or amount_max is None or on_demand is None:
        return [item, f"{_number(line.quantity)} {line.unit}", "—", "—", "—", "—",
                f"NO PRICE: {line.missing}; {line.assumption}"]
    return [item, f"{_number(line.quantity)} {line.unit}", f"${line.unit_price.normalize():f}",
            money(amount), money(amount_max) if line.quantity_max is not None else "",
            money(on_demand) if line.on_demand_price is not None else "", line.assumption]


def sections(estimate: Estimate) -> list[Section]:
    out: list[Section] = []
    summary = []
    for group in [*estimate.groups, None]:
        total = estimate.total(environment=group)
        heroku, unpriced = estimate.heroku_total(environment=group) if group != PIPELINES else (Decimal(0), 0)
        summary.append([
            group or "total", _total(total, total.monthly), _total(total, total.monthly_max),
            _total(total, total.on_demand), money(total.spot_saving),
            (f"≥ {money(heroku)} ({unpriced} unpriced)" if unpriced else money(heroku)),
        ])
    out.append(("Per environment, beside Heroku", ["", "monthly", "at max", "on-demand", "Spot saves", "Heroku"],
                summary))
    out.append(("Per app", ["app", "monthly", "at max"], [
        [app, _total(total, total.monthly), _total(total, total.monthly_max)]
        for app in estimate.apps for total in [estimate.total(app=app)]
    ]))
    for group in estimate.groups:
        region = (f" ({estimate.regions[group]}: {estimate.region_notes[group]})"
                  if group in estimate.regions else "")
        rows = [_line_row(line) for line in estimate.lines if line.environment == group]
        out.append((f"{group}{region}",
                    ["item", "quantity", "unit price", "monthly", "at max", "on-demand", "assumption"], rows))
    out.append(("Heroku equivalent", ["environment", "app", "item", "plan", "count", "per month", "monthly",
                                      "assumption"], [
        [h.environment, h.app or "", h.item, h.plan or "—", str(h.count),
         money(h.month) if h.month is not None else "—", money(h.amount) if h.amount is not None else "—",
         h.assumption if h.missing is None else f"NO PLAN: {h.missing}; {h.assumption}"]
        for h in estimate.heroku
    ]))
    return out


def _notes(estimate: Estimate) -> list[str]:
    return [*(f"Prices for {region}: {source}." for region, source in sorted(estimate.sources.items())),
            *estimate.assumptions]


def table(estimate: Estimate) -> str:
    lines = [f"Monthly cost of {estimate.spec_name} (USD)", ""]
    for title, header, rows in sections(estimate):
        lines += [title, *_aligned([header, *rows]), ""]
    lines += [f"- {note}" for note in _notes(estimate)]
    return "\n".join(lines)


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell; the last column (the assumption) is left ragged."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]).rstrip()
            for row in rows]


def markdown(estimate: Estimate, *, level: int = 2) -> str:
    head = "#" * level
    lines = [f"{head} Monthly cost of {estimate.spec_name} (USD)", ""]
    for title, header, rows in sections(estimate):
        lines += [f"{head}# {title}", "", _md_row(header),
                  "| " + " | ".join("---:" if name in AMOUNTS else "---" for name in header) + " |",
                  *(_md_row(row) for row in rows), ""]
    lines += [f"- {note}" for note in _notes(estimate)]
    return "\n".join(lines)


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def as_json(estimate: Estimate) -> dict:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else f"{value.normalize():f}"

    def total(t: Total) -> dict:
        return {"monthly": text(t.monthly), "monthly_max": text(t.monthly_max), "on_demand": text(t.on_demand),
                "spot_saving": text(t.spot_saving), "unpriced_lines": t.missing}

    return {
        "spec": estimate.spec_name,
        "currency": "USD",
        "regions": estimate.regions,
        "region_notes": estimate.region_notes,
        "sources": estimate.sources,
        "assumptions": estimate.assumptions,
        "total": total(estimate.total()),
        "environments": {group: total(estimate.total(environment=group)) for group in estimate.groups},
        "apps": {app: total(estimate.total(app=app)) for app in estimate.apps},
        "lines": [{
            "environment": line.environment, "app": line.app, "item": line.item, "unit": line.unit,
            "quantity": text(line.quantity), "quantity_max": text(line.quantity_max),
            "unit_price": text(line.unit_price), "on_demand_price": text(line.on_demand_price),
            "monthly": text(line.amount), "monthly_max": text(line.amount_max), "on_demand": text(line.on_demand),
            "assumption": line.assumption, "missing": line.missing,
        } for line in estimate.lines],
        "heroku": {
            "total": text(estimate.heroku_total()[0]),
            "lines": [{"environment": h.environment, "app": h.app, "item": h.item, "plan": h.plan,
                       "count": h.count, "per_month": text(h.month), "monthly": text(h.amount),
                       "assumption": h.assumption, "missing": h.missing} for h in estimate.heroku],
        },
    }
