from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs

from shipway.constructs.app_task import AppContainer


@pytest.fixture
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Test", env=cdk.Environment(account="123456789012", region="eu-west-1"))


@pytest.fixture
def vpc(stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0a1b2c3d4e5f60718", availability_zones=["eu-west-1a"],
        private_subnet_ids=["subnet-0a1b2c3d4e5f60718"], private_subnet_route_table_ids=["rtb-0a1b2c3d4e5f60718"],
    )


@pytest.fixture
def cluster(stack, vpc) -> ecs.ICluster:
    return ecs.Cluster.from_cluster_attributes(stack, "Cluster", cluster_name="c", vpc=vpc, security_groups=[])


@pytest.fixture
def container(stack) -> AppContainer:
    return AppContainer(
        image=ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/busybox:1"),
        environment={"A": "1"}, log_group=logs.LogGroup(stack, "Logs"),
    )
