"""The environment's PostgreSQL: an RDS instance whose master password RDS itself keeps and rotates.

Rotation of the master needs no Lambda, no transform and no network path from the isolated subnets: RDS
manages the master secret in Secrets Manager (``ManageMasterUserPassword``) and rotates it on its own schedule.
The master is for administration and for provisioning each app's own database and role (``app_database.py``);
no app task gets it. The connection secret (``postgres://USER@HOST:PORT/DB?sslmode=require``, no password) is
the master's URL, for administrators. docs/data.md explains the choice.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .. import nag, naming
from ..defaults import (
    DATABASE_BACKUP_RETENTION_DAYS,
    DATABASE_INSTANCE_TYPE,
    DATABASE_LOG_RETENTION_DAYS,
    DATABASE_MULTI_AZ,
    DATABASE_STORAGE_GB,
    DATABASE_VERSION,
)
from .retention import retention

# Log types RDS for PostgreSQL can export to CloudWatch Logs.
POSTGRES_LOG_EXPORTS = ("postgresql", "upgrade")

# The default retention of the exported logs: the spec's ``database.log_retention_days``.
LOG_RETENTION = retention(DATABASE_LOG_RETENTION_DAYS)

# The minor version a new instance of each major starts on (RDS then applies minor upgrades itself). A bare
# major such as "17" is not a version RDS creates instances at (cfn-lint W3691), so each major names one. Only
# ever move these forward: CloudFormation would ask RDS to downgrade an instance already past a lowered pin.
CREATE_VERSIONS = {"13": "13.23", "14": "14.22", "15": "15.17", "16": "16.13", "17": "17.9", "18": "18.4"}

# Performance Insights' instance-class restrictions, from the RDS User Guide ("Amazon RDS DB engine, Region,
# and instance class support"): MariaDB and MySQL lack it on the micro and small burstable classes; RDS for
# PostgreSQL, SQL Server and Oracle have no instance-class restriction.
_NO_PERFORMANCE_INSIGHTS = {
    engine: frozenset(f"db.{family}.{size}" for family in ("t2", "t3", "t4g") for size in ("micro", "small"))
    for engine in ("mariadb", "mysql")
}


def supports_performance_insights(engine: str, instance_class: str) -> bool:
    """Whether RDS offers Performance Insights for ``engine`` on ``instance_class``."""
    return instance_class not in _NO_PERFORMANCE_INSIGHTS.get(engine, frozenset())


def connection_url(*, username: str, host: str, port: str, database_name: str) -> str:
    """A libpq URL without a password: clients take the password from ``PGPASSWORD``."""
    return f"postgres://{username}@{host}:{port}/{database_name}?sslmode=require"


class Database(Construct):
    """An encrypted, deletion-protected RDS PostgreSQL instance and the secrets apps connect with.

    Its settings default to those of a ``database`` that sets none in shipway.yaml (``shipway.defaults`` holds
    the values both read), and the master user to shipway's own.

    :param vpc: the VPC the instance lives in.
    :param instance_identifier: the DB instance identifier (also names its log groups, which exist before it).
    :param subnet_group: where the instance lives. Default: a new subnet group of ``vpc``'s isolated subnets.
    :param security_group: the only security group of the instance. Default: a new one in ``vpc`` that admits
        nothing and sends nothing; admit clients with ``instance.connections.allow_default_port_from(peer)``.
    :param version: PostgreSQL major version, one of ``CREATE_VERSIONS``; the instance starts on
        ``CREATE_VERSIONS[version]`` and RDS applies minor upgrades in its maintenance window. Default: ``"17"``.
    :param instance_type: RDS instance class. Default: ``db.t4g.micro``.
    :param storage_gb: allocated gp3 storage. Default: 20.
    :param multi_az: a standby in a second AZ. Default: false.
    :param backup_retention_days: days of automated backups (point-in-time recovery). Default: 7.
    :param database_name: the database created with the instance. Default: ``instance_identifier`` with its
        hyphens as underscores, a valid PostgreSQL name.
    :param username: the master user. Default: ``shipway``.
    :param log_retention: retention of the exported PostgreSQL logs. Default: one month.

    Attributes: ``instance``, ``subnet_group``, ``security_group``, ``parameter_group``, ``master_secret``
    (RDS-managed, rotated by RDS), ``connection_secret`` (the master's URL, no password), ``log_groups``,
    ``database_name``, ``username``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, instance_identifier: str,
                 subnet_group: rds.ISubnetGroup | None = None, security_group: ec2.ISecurityGroup | None = None,
                 version: str = DATABASE_VERSION, instance_type: str = DATABASE_INSTANCE_TYPE,
                 storage_gb: int = DATABASE_STORAGE_GB, multi_az: bool = DATABASE_MULTI_AZ,
                 backup_retention_days: int = DATABASE_BACKUP_RETENTION_DAYS, database_name: str | None = None,
                 username: str = naming.DATABASE_USERNAME,
                 log_retention: logs.RetentionDays = LOG_RETENTION) -> None:
        super().__init__(scope, construct_id)
        if version not in CREATE_VERSIONS:
            raise ValueError(f"Database {construct_id}: version must be one of {', '.join(CREATE_VERSIONS)}, "
                             f"not {version!r}")
        self.database_name = database_name or instance_identifier.replace("-", "_")
        self.username = username
        if subnet_group is None:
            subnet_group = rds.SubnetGroup(
                self, "SubnetGroup", vpc=vpc, description="Isolated subnets of the database",
                vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            )
        self.subnet_group = subnet_group
        if security_group is None:
            security_group = ec2.SecurityGroup(
                self, "SecurityGroup", vpc=vpc, description="PostgreSQL: admitted clients only",
                allow_all_outbound=False,
            )
        self.security_group = security_group
        engine = rds.DatabaseInstanceEngine.postgres(
            version=rds.PostgresEngineVersion.of(CREATE_VERSIONS[version], version)
        )
        self.parameter_group = rds.ParameterGroup(
            self, "ParameterGroup", engine=engine, description="shipway PostgreSQL: TLS only",
            parameters={"rds.force_ssl": "1"},
        )
        self.log_groups = self._log_groups(instance_identifier, log_retention)
        self.instance = self._instance(
            engine=engine, instance_identifier=instance_identifier, instance_type=instance_type, vpc=vpc,
            subnet_group=subnet_group, security_group=security_group, username=username,
            database_name=self.database_name, storage_gb=storage_gb, multi_az=multi_az,
            backup_retention_days=backup_retention_days,
        )
        assert self.instance.secret is not None
        self.master_secret: secretsmanager.ISecret = self.instance.secret
        self.connection_secret = self._connection_secret(username, self.database_name)

    def _log_groups(self, instance_identifier: str, log_retention: logs.RetentionDays) -> list[logs.LogGroup]:
        """RDS would create these on first export, without retention; created here they expire and are kept."""
        return [
            logs.LogGroup(
                self, f"Logs{log_type.capitalize()}",
                log_group_name=f"/aws/rds/instance/{instance_identifier}/{log_type}",
                retention=log_retention, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            )
            for log_type in POSTGRES_LOG_EXPORTS
        ]

    def _instance(self, *, engine: rds.IInstanceEngine, instance_identifier: str, instance_type: str,
                  vpc: ec2.IVpc, subnet_group: rds.ISubnetGroup, security_group: ec2.ISecurityGroup, username: str,
                  database_name: str, storage_gb: int, multi_az: bool,
                  backup_retention_days: int) -> rds.DatabaseInstance:
        """The instance, after its log groups, with its acknowledgements."""
        performance_insights = supports_performance_insights("postgres", instance_type)
        instance = rds.DatabaseInstance(
            self,
            "Resource",
            engine=engine,
            instance_identifier=instance_identifier,
            instance_type=ec2.InstanceType(instance_type.removeprefix("db.")),
            vpc=vpc,
            subnet_group=subnet_group,
            security_groups=[security_group],
            publicly_accessible=False,
            credentials=rds.Credentials.from_username(username),
            manage_master_user_password=True,
            database_name=database_name,
            parameter_group=self.parameter_group,
            allocated_storage=storage_gb,
            storage_type=rds.StorageType.GP3,
            storage_encrypted=True,
            multi_az=multi_az,
            backup_retention=cdk.Duration.days(backup_retention_days),
            copy_tags_to_snapshot=True,
            deletion_protection=True,
            # DeletionPolicy and UpdateReplacePolicy Snapshot: a deleted or replaced instance leaves a snapshot.
            removal_policy=cdk.RemovalPolicy.SNAPSHOT,
            cloudwatch_logs_exports=list(POSTGRES_LOG_EXPORTS),
            enable_performance_insights=performance_insights,
            iam_authentication=True,
            auto_minor_version_upgrade=True,
        )
        for log_group in self.log_groups:
            instance.node.add_dependency(log_group)
        nag.acknowledge(
            instance, "AwsSolutions-RDS11",
            "The port is no boundary: only app tasks' security group reaches the instance, and 5432 keeps "
            "libpq defaults and tools working",
        )
        if not multi_az:
            nag.acknowledge(
                instance, "AwsSolutions-RDS3",
                "The spec asks for a single-AZ instance in this environment (database.multi_az: false)",
            )
        return instance

    def _connection_secret(self, username: str, database_name: str) -> secretsmanager.Secret:
        """The master's ``DATABASE_URL`` without a password, for apps and tools."""
        url = connection_url(
            username=username, host=self.instance.db_instance_endpoint_address,
            port=self.instance.db_instance_endpoint_port, database_name=database_name,
        )
        connection_secret = secretsmanager.Secret(
            self, "ConnectionSecret",
            description="DATABASE_URL without a password; the password is the master secret's password key",
            # Endpoint attributes only: the template holds no credential, and nothing here goes stale on rotation.
            secret_string_value=cdk.SecretValue.unsafe_plain_text(url),
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        nag.acknowledge(
            connection_secret, "AwsSolutions-SMG4",
            "Holds only the user, host, port and database name; the password it pairs with is RDS's master "
            "secret, which RDS rotates",
        )
        return connection_secret
