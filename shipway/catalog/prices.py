"""What AWS and Heroku charge: ``prices.json`` (AWS, one table per Region) and ``heroku.json``.

Each Region's table says where its numbers come from and when they were taken; ``shipway cost --refresh``
rebuilds them from the AWS Price List API (:mod:`shipway.catalog.refresh`). Prices are exact decimals (JSON
strings) so that a sum of lines is the total to the cent. Instance facts are not here: they live in
``instances.json`` (:func:`shipway.catalog.instance_type`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from . import DATA

PRICES = DATA / "prices.json"


def _decimals(value):
    """The table with every price (a JSON string of digits) as a Decimal; other strings stay text."""
    if isinstance(value, dict):
        return {key: _decimals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decimals(item) for item in value]
    if isinstance(value, str) and value.replace(".", "", 1).isdigit():
        return Decimal(value)
    return value


@cache
def _read(path: Path) -> dict:
    return _decimals(json.loads(path.read_text()))


def forget() -> None:
    """Read the tables again next time (after ``--refresh`` rewrote one)."""
    _read.cache_clear()


def prices_table(path: Path = PRICES) -> dict:
    return _read(path)


@dataclass(frozen=True)
class RegionPrices:
    """One Region's prices; :meth:`price` answers None for what the table does not hold."""

    region: str
    source: str
    taken: str
    table: dict

    def price(self, *keys: str) -> Decimal | None:
        value = self.table
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value if isinstance(value, Decimal) else None


def region_prices(region: str, path: Path = PRICES) -> RegionPrices | None:
    """The prices of ``region``, or None when the table does not cover it."""
    row = prices_table(path)["regions"].get(region)
    if row is None:
        return None
    return RegionPrices(region=region, source=row["source"], taken=row["taken"], table=row)


def known_regions(path: Path = PRICES) -> list[str]:
    return sorted(prices_table(path)["regions"])


def spot_assumption(path: Path = PRICES) -> dict:
    """The stated Spot assumption: EC2 and Fargate Spot as fractions of on-demand, and its wording."""
    return prices_table(path)["spot"]


@dataclass(frozen=True)
class Dyno:
    name: str
    memory_mib: int
    month: Decimal


@dataclass(frozen=True)
class PostgresPlan:
    name: str
    tier: str
    ram_gib: int | None
    storage_gb: int
    month: Decimal


@cache
def heroku() -> dict:
    """Heroku's list prices: ``dynos`` and ``postgres`` (smallest first), ``source`` and ``taken``."""
    table = _read(DATA / "heroku.json")
    return {
        **{key: value for key, value in table.items() if key not in ("dynos", "postgres")},
        "dynos": [Dyno(**row) for row in table["dynos"]],
        "postgres": [PostgresPlan(**row) for row in table["postgres"]],
    }
