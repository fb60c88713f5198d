"""``<name>-<env>-platform``: what every app of one environment shares, slow to create, rarely changed."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from .. import naming
from ..constructs import parameters
from ..constructs.network import Network
from ..naming import Param
from ..spec import Spec
from .base import ShipwayStack


class PlatformStack(ShipwayStack):
    def __init__(self, scope: Construct, *, spec: Spec, env: str) -> None:
        environment = spec.environments[env]
        super().__init__(
            scope,
            naming.platform_stack(spec.name, env),
            spec=spec,
            environment=environment,
            description=f"shipway {spec.name} {env}: network, cluster, pools, router and registry",
        )
        self.env_name = env
        self.network = Network(
            self, "Network", max_azs=environment.network.max_azs, nat_gateways=environment.network.nat_gateways
        )
        vpc = self.network.vpc
        self.app_security_group = ec2.SecurityGroup(
            self, "AppSecurityGroup", vpc=vpc, description="Worn by every app task of the environment",
            allow_all_outbound=True,
        )

        def publish(key: str, value: str, description: str) -> None:
            parameters.publish(self, project=spec.name, env=env, key=key, value=value, description=description)

        def ids(subnets: list[ec2.ISubnet]) -> str:
            return ",".join(s.subnet_id for s in subnets)

        publish(Param.VPC_ID, vpc.vpc_id, "VPC of the environment")
        publish(Param.PRIVATE_SUBNETS, ids(vpc.private_subnets), "Private subnets with NAT egress, one per AZ")
        publish(Param.ISOLATED_SUBNETS, ids(vpc.isolated_subnets), "Isolated subnets, one per AZ")
        publish(Param.APP_SECURITY_GROUP, self.app_security_group.security_group_id, "Security group of app tasks")
