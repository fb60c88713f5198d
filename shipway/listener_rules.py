"""The S3 registry's rules on the shared ALB listener: the construct makes them (constructs/registry.py) and the
spec's check keeps app rules off their priorities (spec/references.py), both from here.

No CDK and no spec in this module: the constructs must not import the spec, and the spec must not load CDK.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

# The ALB's largest rule priority (evaluated last): no app rule ever waits behind the registry's.
LOWEST_PRIORITY = 50000
# An ALB rule holds at most five condition values: the registry's host header leaves four for source addresses.
SOURCES_PER_RULE = 4

Source = TypeVar("Source")


def registry_rules(sources: Sequence[Source],
                   first_priority: int = LOWEST_PRIORITY) -> list[tuple[int, Sequence[Source]]]:
    """The registry's listener rules for ``sources`` (its allowed addresses): each rule's priority, from
    ``first_priority`` down by one, and the ``SOURCES_PER_RULE`` sources (at most) it admits."""
    return [(first_priority - n, sources[start:start + SOURCES_PER_RULE])
            for n, start in enumerate(range(0, len(sources), SOURCES_PER_RULE))]
