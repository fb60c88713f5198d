"""The environment's PostgreSQL: an RDS instance whose master password RDS itself keeps and rotates.

Rotation needs no Lambda, no transform and no network path from the isolated subnets: RDS manages the
master secret in Secrets Manager (``ManageMasterUserPassword``) and rotates it on its own schedule. Apps get
a connection secret that holds no password (``postgres://USER@HOST:PORT/DB?sslmode=require``) and the
password itself from the master secret's ``password`` key as ``PGPASSWORD``, so a rotation never leaves a
stale copy of the password behind. docs/data.md explains the choice.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from .. import nag

# Log types RDS for PostgreSQL can export to CloudWatch Logs.
POSTGRES_LOG_EXPORTS = ("postgresql", "upgrade")

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

    :param vpc: the VPC whose isolated subnets ``subnet_group`` holds.
    :param subnet_group: where the instance lives.
    :param security_group: the only security group of the instance.
    :param version: PostgreSQL major version, e.g. ``"17"``; the instance starts on ``CREATE_VERSIONS[version]``
        and RDS applies minor upgrades in its maintenance window.
    :param instance_type: RDS instance class, e.g. ``db.t4g.micro``.
    :param storage_gb: allocated gp3 storage.
    :param multi_az: a standby in a second AZ.
    :param backup_retention_days: days of automated backups (point-in-time recovery).
    :param instance_identifier: the DB instance identifier (also names its log groups).
    :param database_name: the database created with the instance.
    :param username: the master user.
    :param log_retention: retention of the exported PostgreSQL logs.

    Attributes: ``instance``, ``parameter_group``, ``master_secret`` (RDS-managed, rotated by RDS),
    ``connection_secret`` (``DATABASE_URL``, no password), ``log_groups``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, subnet_group: rds.ISubnetGroup,
                 security_group: ec2.ISecurityGroup, version: str, instance_type: str, storage_gb: int,
                 multi_az: bool, backup_retention_days: int, instance_identifier: str, database_name: str,
                 username: str, log_retention: logs.RetentionDays) -> None:
        super().__init__(scope, construct_id)
        engine = rds.DatabaseInstanceEngine.postgres(
            version=rds.PostgresEngineVersion.of(CREATE_VERSIONS[version], version)
        )
        self.parameter_group = rds.ParameterGroup(
            self, "ParameterGroup", engine=engine, description="shipway PostgreSQL: TLS only",
            parameters={"rds.force_ssl": "1"},
        )
        # RDS would create these on first export, without retention; created here they expire and are kept.
        self.log_groups = [
            logs.LogGroup(
                self, f"Logs{log_type.capitalize()}",
                log_group_name=f"/aws/rds/instance/{instance_identifier}/{log_type}",
                retention=log_retention, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            )
            for log_type in POSTGRES_LOG_EXPORTS
        ]
        performance_insights = supports_performance_insights("postgres", instance_type)
        self.instance = rds.DatabaseInstance(
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
            self.instance.node.add_dependency(log_group)
        assert self.instance.secret is not None
        self.master_secret: secretsmanager.ISecret = self.instance.secret

        url = connection_url(
            username=username, host=self.instance.db_instance_endpoint_address,
            port=self.instance.db_instance_endpoint_port, database_name=database_name,
        )
        self.connection_secret = secretsmanager.Secret(
            self, "ConnectionSecret",
            description="DATABASE_URL without a password; the password is the master secret's password key",
            # Endpoint attributes only: the template holds no credential, and nothing here goes stale on rotation.
            secret_string_value=cdk.SecretValue.unsafe_plain_text(url),
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )

        nag.acknowledge(
            self.connection_secret, "AwsSolutions-SMG4",
            "Holds only the user, host, port and database name; the password it pairs with is RDS's master "
            "secret, which RDS rotates",
        )
        nag.acknowledge(
            self.instance, "AwsSolutions-RDS11",
            "The port is no boundary: only app tasks' security group reaches the instance, and 5432 keeps "
            "libpq defaults and tools working",
        )
        if not multi_az:
            nag.acknowledge(
                self.instance, "AwsSolutions-RDS3",
                "The spec asks for a single-AZ instance in this environment (database.multi_az: false)",
            )


class RedeployOnRotation(Construct):
    """Replace the tasks of every service in the cluster when RDS has rotated the master password.

    ECS reads ``PGPASSWORD`` when a task starts, so a task older than the rotation holds the old password and
    its next new connection fails. Secrets Manager sends ``Secret Label Updated`` to the default event bus when
    ``AWSCURRENT`` moves to a new version (a native event: no CloudTrail trail needed); the rule starts a state
    machine that lists the cluster's services and forces a new deployment of each, with the services' own
    rolling or blue/green settings. Native Step Functions calls to ECS: no Lambda, no asset.

    :param secret_arn: the master secret.
    :param cluster_arn: the environment's ECS cluster.
    :param cluster_name: its name, which scopes ``ecs:UpdateService`` to its services.
    :param log_retention: retention of the state machine's execution log.
    :param max_services: services redeployed per rotation (one ``ListServices`` page, at most 100).

    Attributes: ``rule``, ``state_machine``, ``log_group``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, secret_arn: str, cluster_arn: str,
                 cluster_name: str, log_retention: logs.RetentionDays, max_services: int = 100) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        services = stack.format_arn(service="ecs", resource="service", resource_name=f"{cluster_name}/*")
        list_services = tasks.CallAwsService(
            self, "ListServices", service="ecs", action="listServices",
            parameters={"Cluster": cluster_arn, "MaxResults": max_services},
            # ListServices takes no resource-level permission; it only reads service ARNs.
            iam_resources=["*"],
            result_selector={"services.$": "$.ServiceArns"},
        )
        redeploy = tasks.CallAwsService(
            self, "ForceNewDeployment", service="ecs", action="updateService",
            parameters={"Cluster": cluster_arn, "Service.$": "$", "ForceNewDeployment": True},
            iam_resources=[services],
            result_selector={"service.$": "$.Service.ServiceName"},
        )
        each = sfn.Map(self, "EachService", items_path="$.services", max_concurrency=5)
        each.item_processor(redeploy)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        self.state_machine = sfn.StateMachine(
            self, "Resource",
            comment="Force a new deployment of every service after the database password rotated",
            definition_body=sfn.DefinitionBody.from_chainable(list_services.next(each)),
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL),
            tracing_enabled=True,
            timeout=cdk.Duration.minutes(15),
        )
        # CDK makes the state machine depend on its role, which RoleArn references already (cfn-lint W3005); what
        # must exist first is the role's policy, since Step Functions checks log delivery rights on creation.
        policy = self.state_machine.role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(policy, cdk.CfnElement)
        self.state_machine.node.default_child.add_override("DependsOn", [stack.get_logical_id(policy)])
        self.rule = events.Rule(
            self, "Rule",
            description="The database's master password rotated: redeploy the environment's services",
            event_pattern=events.EventPattern(
                source=["aws.secretsmanager"], detail_type=["Secret Label Updated"], resources=[secret_arn],
                detail={"labelUpdated": ["AWSCURRENT"]},
            ),
            targets=[targets.SfnStateMachine(self.state_machine)],
        )

        nag.acknowledge(
            self.state_machine, "AwsSolutions-IAM5[Resource::*]",
            "ecs:ListServices has no resource-level permissions; X-Ray and CloudWatch Logs delivery take only "
            "Resource *",
        )
        nag.acknowledge(
            self.state_machine, nag.resource_finding(self, "AwsSolutions-IAM5", services),
            "Any service of this environment's cluster, only: every one of them may hold the old password",
        )
