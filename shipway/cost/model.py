"""The estimate: lines, each with its unit price, quantity and assumption, and the totals they add up to.

Amounts are exact decimals, rounded only when printed, so a total is the sum of its lines to the cent and a
spec change moves it by exactly the lines it changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

PIPELINES = "(pipelines)"
"""The group of the lines that belong to an app but to no one environment: its pipeline and registry."""


@dataclass(frozen=True)
class Line:
    """One priced item for a month.

    ``quantity`` is the month at the spec's baseline (desired counts, autoscaling minimums, pool minimums);
    ``quantity_max`` the month at the maxima, when they differ. ``on_demand_price`` is set on Spot lines: what
    the same quantity costs on-demand. ``missing`` says why a line has no price (a Region or type the table
    does not know); such a line has no amount and makes its totals incomplete, never zero.
    """

    environment: str
    """An environment, or :data:`PIPELINES`."""
    app: str | None
    """None for the platform's lines (network, router, cluster, database)."""
    item: str
    unit: str
    quantity: Decimal
    unit_price: Decimal | None
    assumption: str
    quantity_max: Decimal | None = None
    on_demand_price: Decimal | None = None
    missing: str | None = None

    @property
    def amount(self) -> Decimal | None:
        return None if self.unit_price is None else self.unit_price * self.quantity

    @property
    def amount_max(self) -> Decimal | None:
        if self.unit_price is None:
            return None
        return self.unit_price * (self.quantity if self.quantity_max is None else self.quantity_max)

    @property
    def on_demand(self) -> Decimal | None:
        """What the line would cost on-demand (Spot lines), else its amount."""
        return self.amount if self.on_demand_price is None else self.on_demand_price * self.quantity

    @property
    def spot_saving(self) -> Decimal:
        on_demand, amount = self.on_demand, self.amount
        return Decimal(0) if on_demand is None or amount is None else on_demand - amount


@dataclass(frozen=True)
class Total:
    monthly: Decimal
    monthly_max: Decimal
    on_demand: Decimal
    missing: int
    """Lines without a price: the total is at least ``monthly``, not exactly."""

    @classmethod
    def of(cls, lines: Iterable[Line]) -> Total:
        monthly = monthly_max = on_demand = Decimal(0)
        missing = 0
        for line in lines:
            # a line's amounts are None exactly when it has no unit price
            amount, amount_max, line_on_demand = line.amount, line.amount_max, line.on_demand
            if amount is None or amount_max is None or line_on_demand is None:
                missing += 1
                continue
            monthly += amount
            monthly_max += amount_max
            on_demand += line_on_demand
        return cls(monthly=monthly, monthly_max=monthly_max, on_demand=on_demand, missing=missing)

    @property
    def spot_saving(self) -> Decimal:
        return self.on_demand - self.monthly


@dataclass(frozen=True)
class HerokuLine:
    """The Heroku equivalent of one process or database: a dyno type or a Postgres plan, per month."""

    environment: str
    app: str | None
    item: str
    plan: str | None
    count: int
    month: Decimal | None
    assumption: str
    missing: str | None = None

    @property
    def amount(self) -> Decimal | None:
        return None if self.month is None else self.month * self.count


@dataclass(frozen=True)
class Estimate:
    spec_name: str
    regions: dict[str, str]
    """Environment -> the Region whose prices it is estimated with."""
    region_notes: dict[str, str]
    """Environment -> why that Region (the spec's, or ``--region`` for an environment-agnostic one)."""
    sources: dict[str, str]
    """Region -> the price table's source and date."""
    assumptions: list[str]
    lines: list[Line] = field(default_factory=list)
    heroku: list[HerokuLine] = field(default_factory=list)

    @property
    def groups(self) -> list[str]:
        """Environments in spec order, then the pipelines, as far as any line has them."""
        seen: dict[str, None] = {}
        for line in self.lines:
            seen.setdefault(line.environment)
        return list(seen)

    def total(self, *, environment: str | None = None, app: str | None = None) -> Total:
        return Total.of(line for line in self.lines
                        if (environment is None or line.environment == environment)
                        and (app is None or line.app == app))

    def heroku_total(self, *, environment: str | None = None) -> tuple[Decimal, int]:
        """Heroku's monthly total and the number of lines it could not price."""
        lines = [line for line in self.heroku if environment is None or line.environment == environment]
        return (sum((line.amount for line in lines if line.amount is not None), Decimal(0)),
                sum(1 for line in lines if line.amount is None))

    @property
    def apps(self) -> list[str]:
        seen: dict[str, None] = {}
        for line in self.lines:
            if line.app is not None:
                seen.setdefault(line.app)
        return list(seen)
