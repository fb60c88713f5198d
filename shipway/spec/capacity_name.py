"""What a capacity name means: Fargate, Fargate Spot, or a pool of the environment's cluster.

A process or cron job names its capacity with a string (``fargate``, ``fargate-spot``, ``pool:<name>``);
``parse`` is the one place that string is read. The spec's checks, the cost estimate, the translation into
construct props and the command line all ask the parsed value, and ``match`` on it with mypy's exhaustiveness
check, so a new kind of capacity is decided here and a place that does not handle it fails the type check
instead of silently reading it as another kind.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from . import vocabulary as v

if TYPE_CHECKING:
    from .model import Cluster


class Fargate(enum.Enum):
    """A Fargate capacity provider, by the name a process gives it."""

    ON_DEMAND = "fargate"
    SPOT = "fargate-spot"

    @property
    def provider(self) -> str:
        """The capacity provider's name in ECS: ``FARGATE`` or ``FARGATE_SPOT``."""
        return self.value.upper().replace("-", "_")

    @property
    def flag(self) -> str:
        """The ``cluster`` setting that registers the provider: ``fargate`` or ``fargate_spot``."""
        return self.value.replace("-", "_")

    @property
    def spot(self) -> bool:
        """Spot capacity, priced at the Fargate Spot discount."""
        return self is Fargate.SPOT

    @property
    def label(self) -> str:
        """How a person names it: ``Fargate`` or ``Fargate Spot``."""
        return "Fargate Spot" if self.spot else "Fargate"

    def offered_by(self, cluster: Cluster) -> bool:
        """Whether ``cluster`` registers this capacity provider."""
        return bool(getattr(cluster, self.flag))


@dataclass(frozen=True)
class OnPool:
    """A pool of the environment's cluster, named ``pool:<name>``."""

    pool: str
    PREFIX: ClassVar[str] = "pool:"

    @property
    def name(self) -> str:
        """The capacity name that gives this pool: ``pool:<name>``."""
        return f"{self.PREFIX}{self.pool}"


CapacityName = Fargate | OnPool
"""Every kind of capacity a task runs on."""

HELP = f"{', '.join(kind.value for kind in Fargate)} or {OnPool.PREFIX}<name>"
"""The vocabulary in words, for messages: ``fargate, fargate-spot or pool:<name>``."""

PATTERN = rf"^(?:{'|'.join(kind.value for kind in Fargate)}|{OnPool.PREFIX}{v.NAME.strip('^$')})\Z"
"""Every capacity name and nothing else (no trailing newline either); the spec's ``Capacity`` field holds a
string matching it."""

_COMPILED = re.compile(PATTERN)


def parse(capacity: str) -> CapacityName:
    """What the capacity name ``capacity`` means.

    Raises ``ValueError`` for a name outside the vocabulary; the spec's ``Capacity`` field refuses it first.
    """
    if not _COMPILED.match(capacity):
        raise ValueError(f"capacity {capacity!r} is not {HELP}")
    if capacity.startswith(OnPool.PREFIX):
        return OnPool(capacity.removeprefix(OnPool.PREFIX))
    return Fargate(capacity)
