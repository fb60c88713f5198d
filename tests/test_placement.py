"""The placement vocabulary: process placement -> memberOf constraints, capacity -> provider, strategies."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipway import naming
from shipway.constructs.placement import (
    POOL_ATTRIBUTE,
    placement_constraints,
    placement_strategies,
    pool_constraint,
)
from shipway.props.pools import capacity
from shipway.spec import load_spec
from shipway.spec.model import SpotFleetPool

from .conftest import SHIPPED


@pytest.fixture(scope="module")
def spec():
    return load_spec(SHIPPED)


def rendered(constraints) -> list[tuple[str, str]]:
    return [(p.type, p.expression) for c in constraints for p in c.to_json()]


def rendered_strategies(strategies) -> list[tuple[str, str]]:
    return [(p.type, p.field) for s in strategies for p in s.to_json()]


def test_placement_becomes_member_of_constraints_sorted_by_key():
    assert rendered(placement_constraints({"high": "true", "dataPlane": "true"})) == [
        ("memberOf", "attribute:dataPlane == true"),
        ("memberOf", "attribute:high == true"),
    ]


def test_no_placement_no_constraints():
    assert placement_constraints({}) == []


keys = st.from_regex(r"\A[A-Za-z0-9_./-]{1,20}\Z")
values = st.from_regex(r"\A[A-Za-z0-9_.@/:-]{1,20}\Z")


# Each example crosses into jsii (node): no deadline, and fewer examples than hypothesis's default.
@settings(deadline=None, max_examples=30)
@given(st.dictionaries(keys, values, max_size=10), st.randoms())
def test_constraints_do_not_depend_on_the_order_of_the_placement(placement, random):
    items = list(placement.items())
    random.shuffle(items)
    assert rendered(placement_constraints(dict(items))) == rendered(placement_constraints(placement))
    assert len(placement_constraints(placement)) == len(placement)


def test_pool_constraint_names_the_attribute_cloud_init_writes():
    assert rendered([pool_constraint("loadtest")]) == [("memberOf", f"attribute:{POOL_ATTRIBUTE} == loadtest")]
    assert POOL_ATTRIBUTE == "shipway.pool"


@pytest.mark.parametrize("name, provider", [("fargate", "FARGATE"), ("fargate-spot", "FARGATE_SPOT")])
def test_fargate_capacities(spec, name, provider):
    (strategy,) = capacity(spec, "staging", name).capacity_provider_strategies()
    assert (strategy.capacity_provider, strategy.weight) == (provider, 1)


@pytest.mark.parametrize("env, pool", [("staging", "dedicated"), ("production", "shared"), ("production", "dedicated")])
def test_an_asg_pool_is_its_capacity_provider(spec, env, pool):
    (strategy,) = capacity(spec, env, f"pool:{pool}").capacity_provider_strategies()
    assert strategy.capacity_provider == naming.capacity_provider_name("acme", env, pool) == f"acme-{env}-{pool}"
    assert strategy.weight == 1


def test_a_spot_fleet_pool_has_no_capacity_provider(spec):
    assert isinstance(spec.environments["staging"].cluster.pools["loadtest"], SpotFleetPool)
    fleet = capacity(spec, "staging", "pool:loadtest")
    assert fleet.capacity_provider_strategies() == []
    assert (fleet.on_instances, fleet.launch_type) == (True, "EC2")
    assert rendered(fleet.placement_constraints({"zone": "a"})) == [
        ("memberOf", "attribute:shipway.pool == loadtest"), ("memberOf", "attribute:zone == a")]


def test_an_asg_pool_takes_the_process_placement_and_no_launch_type(spec):
    pool = capacity(spec, "production", "pool:dedicated")
    assert (pool.on_instances, pool.launch_type) == (True, None)
    assert rendered(pool.placement_constraints({"zone": "a"})) == [("memberOf", "attribute:zone == a")]
    assert rendered_strategies(pool.placement_strategies()) == rendered_strategies(placement_strategies())


@pytest.mark.parametrize("name", ["fargate", "fargate-spot"])
def test_fargate_takes_neither_constraints_nor_strategies(spec, name):
    fargate = capacity(spec, "staging", name)
    assert (fargate.on_instances, fargate.launch_type) == (False, None)
    assert fargate.placement_constraints({}) == [] and fargate.placement_strategies() == []


def test_unknown_capacity_is_refused(spec):
    with pytest.raises(ValueError, match="fargate, fargate-spot or pool:<name>"):
        capacity(spec, "staging", "ec2")
    with pytest.raises(KeyError):
        capacity(spec, "production", "pool:loadtest")


def test_strategies_spread_over_azs_then_binpack_memory():
    assert rendered_strategies(placement_strategies()) == [
        ("spread", "attribute:ecs.availability-zone"),
        ("binpack", "MEMORY"),
    ]
