"""``<name>-<env>-data``: the environment's stateful data, behind termination protection."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from constructs import Construct

from .. import checkov, naming
from ..constructs import parameters
from ..constructs.database import Database
from ..constructs.log_encryption import encrypt_log_groups
from ..constructs.platform_imports import PlatformImports
from ..naming import Param
from ..props import data
from ..props.platform import platform_imports
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
        self.platform = PlatformImports(self, "Platform", **platform_imports(spec, env))
        encrypt_log_groups(self, self.platform.logs_key_arn)
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
        props = data.database(spec, env)
        self.database = Database(
            self, "Database",
            vpc=self.platform.isolated_vpc,
            subnet_group=self.subnet_group,
            security_group=self.database_security_group,
            **props,
        )
        def publish(key: str, value: str, description: str) -> None:
            parameters.publish(self, project=spec.name, env=env, key=key, value=value, description=description)

        publish(
            Param.DATABASE_URL_SECRET_ARN, self.database.connection_secret.secret_arn,
            "Secret holding the master's URL (no password), for administrators; apps get their own",
        )
        publish(
            Param.DATABASE_SECRET_ARN, self.database.master_secret.secret_arn,
            "RDS-managed master secret: only each app's database provision task reads it",
        )
        publish(Param.DATABASE_HOST, self.database.instance.db_instance_endpoint_address,
                "PostgreSQL endpoint address: each app's database secret holds it")
        publish(Param.DATABASE_PORT, self.database.instance.db_instance_endpoint_port,
                "PostgreSQL port: each app's database secret holds it")

        self._checkov_skips(props["multi_az"])

    def _checkov_skips(self, multi_az: bool) -> None:
        """What checkov flags on the database and stays so on purpose, each with its reason."""
        instance = self.database.instance
        checkov.skip(instance, "CKV_AWS_118",
                     "Enhanced monitoring adds a role with an AWS-managed policy and per-second OS metrics billed as "
                     "logs; CloudWatch's instance metrics and Performance Insights (where the class has it) cover "
                     "what an app team reads")
        if not multi_az:
            checkov.skip(instance, "CKV_AWS_157",
                         "The spec asks for a single-AZ instance in this environment (database.multi_az: false)")
        checkov.skip(self.database.connection_secret, "CKV_AWS_149",
                     "It holds DATABASE_URL without the password; Secrets Manager's AWS-managed key encrypts it, and "
                     "a customer key would add a key policy to keep in step with every app's execution role")
