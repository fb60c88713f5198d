"""The cluster's placement vocabulary: where a process's tasks run, and on which instances.

A process names its ``capacity`` (``fargate``, ``fargate-spot`` or ``pool:<name>``) and, on a pool, a
``placement`` over the pool's ``metadata``. Every pool's instances carry that metadata as ECS instance
attributes (cloud-init writes ``ECS_INSTANCE_ATTRIBUTES``), plus ``POOL_ATTRIBUTE`` naming the pool, so
placement is plain ECS: ``memberOf`` constraints in the cluster query language.

How a service targets each kind of capacity:

- ``fargate`` / ``fargate-spot``: the ``FARGATE`` / ``FARGATE_SPOT`` capacity provider. Fargate takes
  neither placement constraints nor placement strategies.
- ``pool:<name>`` with ``provisioning: asg``: the pool's capacity provider (ECS scales the group), plus
  ``placement_constraints(placement)`` and ``placement_strategies()``.
- ``pool:<name>`` with ``provisioning: spot-fleet``: a Spot Fleet has no capacity provider, so
  ``capacity_provider_strategies`` returns ``[]`` and the service uses launch type EC2 with
  ``pool_constraint(name)`` (which keeps its tasks off other pools' instances) plus the two helpers above.

Every function is pure and deterministic: the same spec yields the same template.
"""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs

from .. import naming
from ..spec import Spec
from ..spec.model import pool_of

POOL_ATTRIBUTE = naming.POOL_ATTRIBUTE
"""The ECS instance attribute holding the name of an instance's pool, written by cloud-init."""


def member_of(key: str, value: str) -> ecs.PlacementConstraint:
    """``memberOf`` the instances whose attribute ``key`` equals ``value``."""
    return ecs.PlacementConstraint.member_of(f"attribute:{key} == {value}")


def placement_constraints(placement: dict[str, str]) -> list[ecs.PlacementConstraint]:
    """One ``memberOf attribute:KEY == VALUE`` constraint per entry of a process's ``placement``, by key.

    Only for EC2 capacity (a pool): Fargate rejects placement constraints, and the spec refuses
    ``placement`` on Fargate capacity.
    """
    return [member_of(key, placement[key]) for key in sorted(placement)]


def pool_constraint(pool: str) -> ecs.PlacementConstraint:
    """``memberOf attribute:shipway.pool == <pool>``: keeps launch-type EC2 tasks on ``pool``'s instances."""
    return member_of(POOL_ATTRIBUTE, pool)


def capacity_provider_strategies(spec: Spec, env: str, capacity: str) -> list[ecs.CapacityProviderStrategy]:
    """The capacity provider strategy for ``capacity`` in environment ``env``.

    ``[]`` for a Spot Fleet pool, which has no capacity provider: use launch type EC2 and
    ``pool_constraint`` (see the module's docstring). Raises ``KeyError`` for a pool the environment
    lacks; the spec's reference checks refuse such a spec first.
    """
    if capacity == "fargate":
        return [ecs.CapacityProviderStrategy(capacity_provider="FARGATE", weight=1)]
    if capacity == "fargate-spot":
        return [ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)]
    pool_name = pool_of(capacity)
    if pool_name is None:
        raise ValueError(f"capacity {capacity!r} is not fargate, fargate-spot or pool:<name>")
    pool = spec.environments[env].cluster.pools[pool_name]
    if pool.provisioning == "spot-fleet":
        return []
    return [
        ecs.CapacityProviderStrategy(
            capacity_provider=naming.capacity_provider_name(spec.name, env, pool_name), weight=1
        )
    ]


def placement_strategies() -> list[ecs.PlacementStrategy]:
    """Spread across Availability Zones, then binpack on memory: resource-aware, and AZ-resilient first.

    EC2 capacity only: Fargate ignores placement strategies (and CDK refuses them on a Fargate
    service), so callers pass these only for ``pool:<name>`` capacity.
    """
    return [
        ecs.PlacementStrategy.spread_across(ecs.BuiltInAttributes.AVAILABILITY_ZONE),
        ecs.PlacementStrategy.packed_by(ecs.BinPackResource.MEMORY),
    ]
