"""Facts about AWS that shipway reasons with: EC2 instance types (vCPU, memory, network interfaces).

One table, one loader. The capacity check (tasks per instance) and the cost estimate read the same rows;
the data lives in ``instances.json`` beside this module with its source and the date it was taken.
What things cost is in ``prices.json`` and ``heroku.json`` (:mod:`.prices`), refreshed by :mod:`.refresh`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent


@dataclass(frozen=True)
class InstanceType:
    """One EC2 instance type as ECS sees it."""

    name: str
    vcpu: int
    memory_mib: int
    max_enis: int
    """Network interfaces the type can attach, the primary included (EC2's MaximumNetworkInterfaces)."""
    trunk_enis: int | None
    """Branch interfaces with ECS awsvpc trunking on; None where the type does not support trunking."""

    def awsvpc_tasks(self, *, trunking: bool) -> int:
        """awsvpc tasks the type can hold by its interfaces alone: every interface but the primary, or the
        branch interfaces when trunking is on for the account and the type supports it."""
        if trunking and self.trunk_enis is not None:
            return self.trunk_enis
        return self.max_enis - 1


@cache
def _table() -> dict:
    return json.loads((DATA / "instances.json").read_text())


def instance_type(name: str) -> InstanceType | None:
    """The facts of ``name`` (``c6i.large``), or None when the table does not know it."""
    row = _table()["types"].get(name)
    return None if row is None else InstanceType(name=name, **row)


def known_instance_types() -> list[str]:
    return sorted(_table()["types"])


def source() -> dict[str, str]:
    """Where the table's numbers come from and when they were taken."""
    return {key: value for key, value in _table().items() if key != "types"}
