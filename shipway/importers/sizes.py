"""Task sizes from another platform: Copilot's cpu/memory and Heroku's dyno types, in shipway's terms.

A size is written as shipway's name (``1x`` .. ``16x``) when it is one, else as ``{cpu, memory}`` when Fargate runs
that pair, else rounded up to the nearest pair Fargate runs (and the caller says so).
"""

from __future__ import annotations

from ..spec.vocabulary import FARGATE_MEMORY, SIZES

# Heroku dyno type (lower case) -> shipway size. Memory first: a dyno's RAM is its hard limit, and the app was
# tuned to it; CPU follows Fargate's pairs (Heroku's shares are not vCPUs). docs/import.md has the table.
DYNO_SIZES: dict[str, str | dict[str, int]] = {
    "free": "1x", "hobby": "1x", "eco": "1x", "basic": "1x", "standard-1x": "1x",  # 512 MB
    "standard-2x": "2x",  # 1 GB
    "performance-m": {"cpu": 1024, "memory": 3072},  # 2.5 GB, dedicated
    "performance-l": {"cpu": 4096, "memory": 14336},  # 14 GB
    "performance-l-ram": {"cpu": 4096, "memory": 30720},  # 30 GB
    "performance-xl": {"cpu": 8192, "memory": 65536 - 4096},  # 62.5 GB -> 60 GB, the most Fargate gives 8 vCPU
    "performance-2xl": {"cpu": 16384, "memory": 122880},  # 125 GB -> 120 GB, the most Fargate gives at all
}


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


def dyno_size(dyno: str) -> str | dict[str, int] | None:
    """shipway's size for a Heroku dyno type ("Standard-1X", "performance-m"), or None for an unknown one."""
    return DYNO_SIZES.get(dyno.strip().lower())
