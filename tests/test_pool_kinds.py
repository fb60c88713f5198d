"""A pool kind is decided in one place: each kind is one spec class (registered in the ``Pool`` union) and one
construct-side props class (``shipway.props.pools.pool_props``), and each provides every behaviour. A spec with a
pool of each kind synthesizes the capacity provider its tasks name, or none and launch type EC2."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template
from pydantic import Tag

from shipway import naming
from shipway.constructs.app_task import TaskPlacement
from shipway.constructs.placement import Capacity
from shipway.constructs.pools import PoolProps, Pools
from shipway.props import pools as pool_props
from shipway.spec import parse_spec
from shipway.spec.model import Pool, PoolKind, Provisioning

KINDS: tuple[str, ...] = typing.get_args(Provisioning)


def registered() -> dict[str, type[PoolKind]]:
    """The pool kinds of the spec's ``Pool`` union, by tag."""
    union = typing.get_args(Pool)[0]
    found = {}
    for member in typing.get_args(union):
        cls, *metadata = typing.get_args(member)
        (tag,) = [m.tag for m in metadata if isinstance(m, Tag)]
        found[tag] = cls
    return found


def spec_with_every_kind():
    """A spec whose environment has one pool of each kind, each holding a process with a placement."""
    pools = {f"p-{kind}": {"provisioning": kind, "instance_types": ["c6i.large"], "metadata": {"tier": kind}}
             for kind in KINDS}
    processes = {f"on-{kind}": {"capacity": f"pool:p-{kind}", "placement": {"tier": kind}} for kind in KINDS}
    return parse_spec(
        f"name: kinds\nenvironments:\n  dev:\n    cluster:\n      pools: {pools}\n"
        f"apps:\n  app:\n    source: {{codecommit: app}}\n    processes: {processes}\n"
    )


SPEC = spec_with_every_kind()


def test_each_provisioning_is_one_registered_kind():
    assert sorted(registered()) == sorted(f"[{kind}]" for kind in KINDS)
    assert len(set(registered().values())) == len(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_the_spec_decides_the_kind_by_provisioning(kind):
    pool = SPEC.environments["dev"].cluster.pools[f"p-{kind}"]
    assert type(pool) is registered()[f"[{kind}]"]
    assert pool.provisioning == kind


def test_a_pool_without_provisioning_is_an_asg_pool_as_before():
    spec = parse_spec(
        "name: n\nenvironments:\n  dev:\n    cluster:\n      pools:\n        p: {instance_types: [c6i.large]}\n"
    )
    assert type(spec.environments["dev"].cluster.pools["p"]) is registered()["[asg]"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_provides_every_behaviour(kind):
    """The spec side answers the capacity check and the cost estimate; the props side builds and places."""
    spec_pool = SPEC.environments["dev"].cluster.pools[f"p-{kind}"]
    assert not inspect.isabstract(type(spec_pool))
    assert 1 <= spec_pool.fewest_instances <= spec_pool.most_instances
    assert spec_pool.buys_spot is True
    assert spec_pool.SIZE_KEY in type(spec_pool).model_fields
    assert spec_pool.DESCRIPTION
    assert list(spec_pool.problems()) == []

    props = pool_props.pool_props("kinds", "dev", f"p-{kind}", spec_pool)
    assert isinstance(props, PoolProps) and isinstance(props, Capacity) and not inspect.isabstract(type(props))
    assert props.on_instances and props.buys_spot == spec_pool.buys_spot
    assert props.placement_strategies()
    assert pool_props.capacity(SPEC, "dev", f"pool:p-{kind}") == props
    strategies = props.capacity_provider_strategies()
    # A kind without a capacity provider is reached with launch type EC2, and only on its own instances.
    assert bool(strategies) == (props.launch_type is None)
    if not strategies:
        expressions = [c.to_json()[0].expression for c in props.placement_constraints({})]
        assert f"attribute:{naming.POOL_ATTRIBUTE} == p-{kind}" in expressions


def resources(template: Mapping[str, Any], kind: str) -> list[dict]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


@pytest.fixture(scope="module")
def synthesized() -> Mapping[str, Any]:
    """The pools of every kind with a service on each, as the platform and app stacks wire them, in one stack."""
    stack = cdk.Stack(cdk.App(), "Kinds")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    cluster = ecs.Cluster(stack, "Cluster", vpc=vpc, cluster_name="kinds-dev")
    pools = Pools(stack, "Pools", cluster_name="kinds-dev", pools=pool_props.pools(SPEC, "dev"), cluster=cluster,
                  vpc=vpc)
    for provider in pools.capacity_providers:
        cluster.add_asg_capacity_provider(provider)
    for name, process in SPEC.apps["app"].processes.items():
        placement = TaskPlacement.of(pool_props.capacity(SPEC, "dev", process.capacity), process.placement)
        task = ecs.Ec2TaskDefinition(stack, f"{name}Task", network_mode=ecs.NetworkMode.AWS_VPC)
        task.add_container("app", image=ecs.ContainerImage.from_registry("app"), memory_limit_mib=512)
        ecs.Ec2Service(
            stack, f"{name}Service", cluster=cluster, task_definition=task,
            capacity_provider_strategies=list(placement.capacity_provider_strategies) or None,
            placement_constraints=list(placement.placement_constraints),
            placement_strategies=list(placement.placement_strategies),
        )
    return Template.from_stack(stack).to_json()


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_synthesizes_the_capacity_provider_its_tasks_name(synthesized, kind):
    providers = {p["Name"] for p in resources(synthesized, "AWS::ECS::CapacityProvider")}
    # The cluster's association names each provider by a Ref to its resource (FARGATE is off in this cluster).
    associated = {p["Ref"] for a in resources(synthesized, "AWS::ECS::ClusterCapacityProviderAssociations")
                  for p in a["CapacityProviders"]}
    named = {logical_id: r["Properties"]["Name"] for logical_id, r in synthesized["Resources"].items()
             if r["Type"] == "AWS::ECS::CapacityProvider"}
    (service,) = [r["Properties"] for logical_id, r in synthesized["Resources"].items()
                  if r["Type"] == "AWS::ECS::Service" and logical_id.startswith(f"on{kind.replace('-', '')}Service")]
    props = pool_props.capacity(SPEC, "dev", f"pool:p-{kind}")
    strategy = service.get("CapacityProviderStrategy")
    if props.capacity_provider_strategies():
        (entry,) = strategy
        expected = naming.capacity_provider_name("kinds", "dev", f"p-{kind}")
        assert entry["CapacityProvider"] == expected
        assert expected in providers and expected in {named[i] for i in associated}
        assert "LaunchType" not in service
    else:
        assert strategy is None and service["LaunchType"] == "EC2"
        assert naming.capacity_provider_name("kinds", "dev", f"p-{kind}") not in providers
        assert {"Type": "memberOf", "Expression": f"attribute:{naming.POOL_ATTRIBUTE} == p-{kind}"} in \
            service["PlacementConstraints"]
    assert {"Type": "memberOf", "Expression": f"attribute:tier == {kind}"} in service["PlacementConstraints"]


def test_every_provider_a_service_names_exists(synthesized):
    """No kind leaves a service naming a capacity provider the template lacks."""
    providers = {p["Name"] for p in resources(synthesized, "AWS::ECS::CapacityProvider")}
    named = {s["CapacityProvider"] for svc in resources(synthesized, "AWS::ECS::Service")
             for s in svc.get("CapacityProviderStrategy") or []}
    assert named and named <= providers


def test_each_kind_builds_its_own_resource(synthesized):
    """An Auto Scaling group per asg pool, a Spot Fleet per spot-fleet pool: one of each here."""
    assert len(resources(synthesized, "AWS::AutoScaling::AutoScalingGroup")) == 1
    (fleet,) = resources(synthesized, "AWS::EC2::SpotFleet")
    assert fleet["SpotFleetRequestConfigData"]["TargetCapacity"] == 1
