"""Task sizes from another platform: Copilot's cpu/memory and Heroku's dyno types, in shipway's terms.

A size is written as shipway's name (``1x`` .. ``16x``) when it is one, else as ``{cpu, memory}`` when Fargate runs
that pair, else rounded up to the nearest pair Fargate runs (and the caller says so). A dyno's memory comes from the
catalog's Heroku table, the one the cost estimate reads.
"""

from __future__ import annotations

from ..catalog.prices import heroku
from ..spec.vocabulary import FARGATE_MEMORY, SIZES

# Heroku's 512 MB dynos that the price table (shipway.catalog's heroku.json) lists under Standard-1X.
DYNO_ALIASES = {"free": "standard-1x", "hobby": "standard-1x", "eco": "standard-1x", "basic": "standard-1x"}


def fargate_size(cpu: int, memory: int) -> tuple[str | dict[str, int], bool]:
    """shipway's size for a Fargate ``cpu``/``memory`` request, and whether it had to be rounded up."""
    for name, pair in SIZES.items():
        if pair == (cpu, memory):
            return name, False
    if memory in FARGATE_MEMORY.get(cpu, ()):
        return {"cpu": cpu, "memory": memory}, False
    for task_cpu in sorted(FARGATE_MEMORY):
        if task_cpu < cpu:
            continue
        fits = [m for m in FARGATE_MEMORY[task_cpu] if m >= memory]
        if fits:
            return {"cpu": task_cpu, "memory": fits[0]}, True
    return {"cpu": max(FARGATE_MEMORY), "memory": FARGATE_MEMORY[max(FARGATE_MEMORY)][-1]}, True


def memory_size(memory: int) -> tuple[str | dict[str, int], bool]:
    """The smallest shipway size with at least ``memory`` MiB (Fargate's largest when none has), and whether it
    differs from ``memory``. Memory decides because it is the limit an app was tuned to."""
    for name, (_, named_memory) in SIZES.items():
        if named_memory == memory:
            return name, False
    for cpu in sorted(FARGATE_MEMORY):
        fits = [m for m in FARGATE_MEMORY[cpu] if m >= memory]
        if fits:
            return {"cpu": cpu, "memory": fits[0]}, fits[0] != memory
    top = max(FARGATE_MEMORY)
    return {"cpu": top, "memory": FARGATE_MEMORY[top][-1]}, True


def dyno_size(dyno: str) -> tuple[str | dict[str, int], int] | None:
    """shipway's size for a Heroku dyno type ("Standard-1X", "performance-m") and the dyno's memory in MiB, from the
    catalog's Heroku table; None for a dyno type it does not list."""
    wanted = DYNO_ALIASES.get(dyno.strip().lower(), dyno.strip().lower())
    row = next((d for d in heroku()["dynos"] if d.name.lower() == wanted), None)
    if row is None:
        return None
    return memory_size(row.memory_mib)[0], row.memory_mib
