"""The cluster's placement vocabulary: where a task runs, and on which instances.

A process names its capacity and, on a pool, a ``placement`` over the pool's metadata. Every pool's instances
carry that metadata as ECS instance attributes (cloud-init writes ``ECS_INSTANCE_ATTRIBUTES``), plus
``POOL_ATTRIBUTE`` naming the pool, so placement is plain ECS: ``memberOf`` constraints in the cluster query
language.

Each kind of capacity is one ``Capacity`` class, which alone decides how a task reaches it:

- ``Fargate`` (``FARGATE`` / ``FARGATE_SPOT``): its capacity provider. Fargate takes neither placement
  constraints nor placement strategies.
- a pool (``shipway.constructs.pools``): an Auto Scaling group pool is its own capacity provider (ECS scales
  the group); a Spot Fleet pool has none, so its tasks use launch type EC2 and ``pool_constraint(name)``,
  which keeps them off other pools' instances. Both add ``placement_constraints(placement)`` and
  ``placement_strategies()``.

Every function is pure and deterministic: the same props yield the same template.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from aws_cdk import aws_ecs as ecs

from .. import naming

POOL_ATTRIBUTE = naming.POOL_ATTRIBUTE
"""The ECS instance attribute holding the name of an instance's pool, written by cloud-init."""


def member_of(key: str, value: str) -> ecs.PlacementConstraint:
    """``memberOf`` the instances whose attribute ``key`` equals ``value``."""
    return ecs.PlacementConstraint.member_of(f"attribute:{key} == {value}")


def placement_constraints(placement: Mapping[str, str]) -> list[ecs.PlacementConstraint]:
    """One ``memberOf attribute:KEY == VALUE`` constraint per entry of a process's ``placement``, by key.

    Only for EC2 capacity (a pool): Fargate rejects placement constraints, and the spec refuses
    ``placement`` on Fargate capacity.
    """
    return [member_of(key, placement[key]) for key in sorted(placement)]


def pool_constraint(pool: str) -> ecs.PlacementConstraint:
    """``memberOf attribute:shipway.pool == <pool>``: keeps launch-type EC2 tasks on ``pool``'s instances."""
    return member_of(POOL_ATTRIBUTE, pool)


def placement_strategies() -> list[ecs.PlacementStrategy]:
    """Spread across Availability Zones, then binpack on memory: resource-aware, and AZ-resilient first.

    EC2 capacity only: Fargate ignores placement strategies (and CDK refuses them on a Fargate
    service), so only pools return these.
    """
    return [
        ecs.PlacementStrategy.spread_across(ecs.BuiltInAttributes.AVAILABILITY_ZONE),
        ecs.PlacementStrategy.packed_by(ecs.BinPackResource.MEMORY),
    ]


class Capacity(ABC):
    """One kind of capacity a task runs on: its capacity provider strategy, launch type and placement rule."""

    on_instances: ClassVar[bool]
    """On the cluster's instances (an EC2 task definition), not Fargate."""
    launch_type: ClassVar[str | None] = None
    """``EC2`` where no capacity provider reaches the capacity; otherwise the strategy decides."""

    @abstractmethod
    def capacity_provider_strategies(self) -> list[ecs.CapacityProviderStrategy]:
        """The capacity provider strategy of a service or task on this capacity (``[]``: launch type decides)."""

    def placement_constraints(self, placement: Mapping[str, str]) -> list[ecs.PlacementConstraint]:
        """The constraints of a task with ``placement`` (a process's ``memberOf`` pairs) on this capacity."""
        return []

    def placement_strategies(self) -> list[ecs.PlacementStrategy]:
        return []


@dataclass(frozen=True)
class Fargate(Capacity):
    """Fargate (``FARGATE``) or Fargate Spot (``FARGATE_SPOT``): a capacity provider of every cluster that turns
    it on, and no instances to constrain."""

    capacity_provider: str
    on_instances: ClassVar[bool] = False

    def capacity_provider_strategies(self) -> list[ecs.CapacityProviderStrategy]:
        return [ecs.CapacityProviderStrategy(capacity_provider=self.capacity_provider, weight=1)]


FARGATE = Fargate("FARGATE")
FARGATE_SPOT = Fargate("FARGATE_SPOT")
