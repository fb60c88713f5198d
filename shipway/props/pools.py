"""Pools and capacity: the spec's pool kinds and capacity names in, the constructs' kinds out.

``pool_props`` is the one place a spec pool kind (``shipway.spec.model.Pool``) becomes its construct kind
(``shipway.constructs.pools``): a new kind is its case here, and mypy's exhaustiveness check on the ``match``
names a kind that has none. ``capacity`` is the one place a capacity name (``fargate``, ``fargate-spot``,
``pool:<name>``, parsed by ``shipway.spec.capacity_name``) becomes the ``placement.Capacity`` its tasks run on.
"""

from __future__ import annotations

from typing import assert_never

from .. import naming
from ..constructs import placement
from ..constructs.pools import AsgPoolProps, PoolProps, SpotFleetPoolProps
from ..spec import Spec
from ..spec.capacity_name import CapacityName, Fargate, OnPool, parse
from ..spec.model import AsgPool, Pool, SpotFleetPool


def pool_props(project: str, env: str, name: str, pool: Pool) -> PoolProps:
    """The props of pool ``name`` of environment ``env`` of ``project``: its kind's construct side."""
    instance_types, metadata = tuple(pool.instance_types), dict(pool.metadata)
    match pool:
        case AsgPool():
            return AsgPoolProps(
                name=name, instance_types=instance_types, metadata=metadata, root_volume_gb=pool.root_volume_gb,
                stop_timeout=pool.stop_timeout, spot=pool.spot, min_capacity=pool.min, max_capacity=pool.max,
                capacity_provider_name=naming.capacity_provider_name(project, env, name),
            )
        case SpotFleetPool():
            return SpotFleetPoolProps(
                name=name, instance_types=instance_types, metadata=metadata, root_volume_gb=pool.root_volume_gb,
                stop_timeout=pool.stop_timeout, target_capacity=pool.capacity,
            )
        case _:
            assert_never(pool)


def pools(spec: Spec, env: str) -> list[PoolProps]:
    """Every pool of environment ``env``, by name."""
    pools = spec.environments[env].cluster.pools
    return [pool_props(spec.name, env, name, pools[name]) for name in sorted(pools)]


def capacity(spec: Spec, env: str, capacity: str) -> placement.Capacity:
    """The capacity a task naming ``capacity`` runs on in environment ``env``.

    Raises ``ValueError`` for a name outside the vocabulary and ``KeyError`` for a pool the environment lacks;
    the spec's checks refuse both first.
    """
    return capacity_on(spec, env, parse(capacity))


def capacity_on(spec: Spec, env: str, where: CapacityName) -> placement.Capacity:
    """The capacity of ``where``, a capacity name already parsed, in environment ``env``."""
    match where:
        case Fargate() as fargate:
            return placement.Fargate(fargate.provider)
        case OnPool(pool=name):
            return pool_props(spec.name, env, name, spec.environments[env].cluster.pools[name])
        case unknown:
            assert_never(unknown)
