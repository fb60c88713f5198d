"""``<name>-<env>-data``: the environment's stateful data, behind termination protection."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from constructs import Construct

from .. import naming
from ..constructs.platform_imports import PlatformImports
from ..spec import Spec
from .base import ShipwayStack


class DataStack(ShipwayStack):
    def __init__(self, scope: Construct, *, spec: Spec, env: str) -> None:
        environment = spec.environments[env]
        super().__init__(
            scope,
            naming.data_stack(spec.name, env),
            spec=spec,
            environment=environment,
            description=f"shipway {spec.name} {env}: PostgreSQL and its secrets",
            termination_protection=True,
        )
        self.env_name = env
        self.platform = PlatformImports(self, "Platform", spec=spec, env=env)
        self.database_security_group = ec2.SecurityGroup(
            self, "DatabaseSecurityGroup", vpc=self.platform.isolated_vpc, description="PostgreSQL: app tasks only",
            allow_all_outbound=False,
        )
        self.database_security_group.add_ingress_rule(
            self.platform.app_security_group, ec2.Port.tcp(5432), "PostgreSQL from app tasks"
        )
        self.subnet_group = rds.SubnetGroup(
            self, "SubnetGroup", vpc=self.platform.isolated_vpc, description="Isolated subnets of the environment",
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        )
