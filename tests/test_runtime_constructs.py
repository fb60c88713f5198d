"""``ProcessService`` and ``OneOffTask`` as reusable constructs, outside the runtime stack: their defaults."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from shipway.constructs.app_task import AppContainer, TaskPlacement
from shipway.constructs.one_off import OneOffTask
from shipway.constructs.service import ProcessService
from shipway.spec.model import Process


@pytest.fixture
def stack():
    return cdk.Stack(cdk.App(), "Test", env=cdk.Environment(account="123456789012", region="eu-west-1"))


def basics(stack: cdk.Stack) -> dict:
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-1", availability_zones=["eu-west-1a"], private_subnet_ids=["subnet-1"],
        private_subnet_route_table_ids=["rtb-1"],
    )
    cluster = ecs.Cluster.from_cluster_attributes(stack, "Cluster", cluster_name="c", vpc=vpc, security_groups=[])
    container = AppContainer(
        image=ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/busybox:1"),
        environment={"A": "1"}, secrets={}, log_group=logs.LogGroup(stack, "Logs"),
    )
    group = ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-1", mutable=False)
    return dict(cluster=cluster, vpc=vpc, security_groups=[group], container=container)


FARGATE = TaskPlacement(
    ec2=False, capacity_provider_strategies=[ecs.CapacityProviderStrategy(capacity_provider="FARGATE", weight=1)]
)


def test_a_worker_gets_its_own_roles_and_a_fixed_count_without_a_condition(stack):
    ProcessService(stack, "Worker", **basics(stack), process=Process(command="work", count=3),
                   service_name="app-worker", family="app-worker", placement=FARGATE)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::ECS::Service", {"DesiredCount": 3, "ServiceName": "app-worker"})
    template.resource_count_is("AWS::IAM::Role", 2)  # "pass yours, or we create one": execution and task role
    template.resource_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", 0)
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "ContainerDefinitions": [Match.object_like({
            "Name": "app", "Command": ["/bin/sh", "-c", "work"],
            "Environment": [{"Name": "A", "Value": "1"}, {"Name": "MEMORY_MB", "Value": "512"}],
        })],
    })


def test_a_web_process_needs_a_listener_and_a_priority(stack):
    with pytest.raises(ValueError, match="needs the listener"):
        ProcessService(stack, "Web", **basics(stack), process=Process(port=80),
                       hosts=["a.example.com"], service_name="app-web", family="app-web", placement=FARGATE)


def test_one_off_task_has_no_command_and_runs_anywhere(stack):
    parts = basics(stack)
    OneOffTask(stack, "OneOff", container=parts["container"], family="app-release",
               size=Process().size)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "Family": "app-release", "RequiresCompatibilities": ["EC2", "FARGATE"], "NetworkMode": "awsvpc",
        "ContainerDefinitions": [Match.object_like({"Name": "app", "Command": Match.absent()})],
    })
