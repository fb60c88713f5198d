"""One app's own database and login role in its environment's PostgreSQL, and the secret its tasks connect with.

- **The secret** (``AppDatabase.secret``): ``{engine, host, port, dbname, username, password, ssl, url}``.
  Secrets Manager generates the password; ``url`` is ``DATABASE_URL`` without the password, so a rotation
  never leaves a stale copy behind. App tasks get ``DATABASE_URL`` and ``PGHOST``/``PGPORT``/``PGDATABASE``/
  ``PGUSER``/``PGPASSWORD`` from it, and nothing of the master's.
- **Rotation**: Secrets Manager's hosted PostgreSQL single-user rotation (``HostedRotationLambda``, through the
  ``AWS::SecretsManager-2020-07-23`` transform): AWS's own function, no code of ours, in the environment's
  private subnets with the app security group, which the database admits and whose egress reaches Secrets Manager.
- **Provisioning** (``provision_task``, ``provision_state_machine``): a one-off Fargate task in a pinned postgres
  client image runs ``scripts/provision-database.sh`` as the master user, which creates the role and the database
  when missing and sets the role's password from the secret. The master secret reaches only this task, whose
  execution role is named apart from the app's roles (so no pipeline role may pass it). The state machine runs the
  task and fails unless it exited 0; the pipeline starts it before each release.

docs/data.md explains the model and how a shared database is split.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from .. import checkov, nag
from ..defaults import APP_LOG_RETENTION_DAYS, DATABASE_ROTATION_DAYS, PROVISION_IMAGE
from .database import connection_url
from .retention import retention

PROVISION_SCRIPT = Path(__file__).parent.parent / "scripts" / "provision-database.sh"

PROVISION_CONTAINER = "provision"

# The retention of the log group made when none is given: the spec's default for an app's logs.
LOG_RETENTION = retention(APP_LOG_RETENTION_DAYS)

# Characters left out of generated passwords: quotes, backslash and the URL and .pgpass separators, so a password
# survives every client's configuration syntax unquoted. The same set for the first password and each rotation.
PASSWORD_EXCLUDED = "\"'\\/@:;?#%&` "


def secret_template(*, host: str, port: str, database: str, role: str) -> str:
    """The secret's fields besides the generated ``password``: what the rotation function and the apps read."""
    return json.dumps({
        "engine": "postgres", "host": host, "port": port, "dbname": database, "username": role,
        # The rotation connects with TLS, without falling back (the parameter group forces TLS anyway).
        "ssl": True,
        "url": connection_url(username=role, host=host, port=port, database_name=database),
    })


class AppDatabase(Construct):
    """An app's own database and role: their secret, its rotation, and the task that creates them.

    :param database_name: the app's database.
    :param role_name: its login role, which owns the database. Default: ``database_name``.
    :param shared_database: the instance's first database (``Database.database_name``); the provision step revokes
        PUBLIC's CONNECT on it.
    :param host: the instance's endpoint address. ``port``: its port (strings: shipway reads them from the data
        stack's SSM parameters).
    :param master_secret: RDS's master secret (``username``, ``password``), given to the provision task only.
    :param cluster: where the provision task runs.
    :param security_group: what the provision task and the rotation function wear: one the database admits (shipway
        passes the app security group) and whose egress reaches Secrets Manager.
    :param vpc: where the provision task and the rotation function run. Default: the cluster's.
    :param subnets: which subnets of ``vpc``. Default: its private subnets with egress.
    :param rotation_days: days between rotations of the app's password. Default: 30.
    :param log_group: where the provision task and its state machine log (shipway passes the app's log group).
        Default: a new log group kept for one month, retained when the stack goes.
    :param provision_family: the provision task definition's family. Default: named by CDK.
    :param provision_role_name: the provision task's execution role's name. Default: named by CloudFormation.
    :param state_machine_name: the provision state machine's name, which a pipeline starts. Default: named by
        CloudFormation.

    Attributes: ``secret``, ``rotation``, ``provision_task``, ``provision_role``, ``provision_state_machine``,
    ``log_group``, ``database_name``, ``role_name``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, database_name: str, shared_database: str, host: str,
                 port: str, master_secret: secretsmanager.ISecret, cluster: ecs.ICluster,
                 security_group: ec2.ISecurityGroup, role_name: str | None = None, vpc: ec2.IVpc | None = None,
                 subnets: ec2.SubnetSelection | None = None, rotation_days: int = DATABASE_ROTATION_DAYS,
                 log_group: logs.ILogGroup | None = None, provision_family: str | None = None,
                 provision_role_name: str | None = None, state_machine_name: str | None = None) -> None:
        super().__init__(scope, construct_id)
        role_name = role_name or database_name
        if vpc is None:
            vpc = cluster.vpc
        if subnets is None:
            subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        if log_group is None:
            log_group = logs.LogGroup(
                self, "Logs", retention=LOG_RETENTION, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            )
        self.log_group = log_group
        self.database_name = database_name
        self.role_name = role_name
        self.secret = secretsmanager.Secret(
            self, "Secret",
            description=f"PostgreSQL login of role {role_name} to database {database_name}; rotated by Secrets Manager",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=secret_template(host=host, port=port, database=database_name, role=role_name),
                generate_string_key="password", exclude_characters=PASSWORD_EXCLUDED, password_length=32,
            ),
            # The role and its database outlive the app's stack (nothing here drops them), so their login does too.
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        # Read by the review guard: what stays in PostgreSQL when this stack goes (shipway/review/compare.py).
        secret_resource = self.secret.node.default_child
        assert isinstance(secret_resource, cdk.CfnResource)
        secret_resource.add_metadata("shipway:database", {"database": database_name, "role": role_name})
        checkov.skip(
            self.secret, "CKV_AWS_149",
            "Secrets Manager's AWS-managed key encrypts it: a customer key would need a key policy kept in step with "
            "the hosted rotation function AWS creates and every task's execution role, for no added boundary",
        )
        self.rotation = self.secret.add_rotation_schedule(
            "Rotation",
            automatically_after=cdk.Duration.days(rotation_days),
            hosted_rotation=secretsmanager.HostedRotation.postgre_sql_single_user(
                vpc=vpc, vpc_subnets=subnets, security_groups=[security_group],
                exclude_characters=PASSWORD_EXCLUDED,
            ),
        )
        self.provision_role, self.provision_task = self._provision_task(
            master_secret=master_secret, shared_database=shared_database, log_group=log_group,
            family=provision_family, role_name=provision_role_name,
        )
        self.provision_state_machine = self._provision_state_machine(
            cluster=cluster, subnets=subnets, security_group=security_group, log_group=log_group,
            state_machine_name=state_machine_name,
        )

    def container_secrets(self) -> dict[str, ecs.Secret]:
        """What every app container gets: ``DATABASE_URL`` (no password) and libpq's variables, all of its own role."""
        fields = {"DATABASE_URL": "url", "PGHOST": "host", "PGPORT": "port", "PGDATABASE": "dbname",
                  "PGUSER": "username", "PGPASSWORD": "password"}
        return {name: ecs.Secret.from_secrets_manager(self.secret, field) for name, field in fields.items()}

    def _provision_task(self, *, master_secret: secretsmanager.ISecret, shared_database: str,
                        log_group: logs.ILogGroup, family: str | None,
                        role_name: str | None) -> tuple[iam.Role, ecs.FargateTaskDefinition]:
        """The provision task and its execution role, which reads the master secret and the app's secret."""
        role = iam.Role(
            self, "ProvisionExecutionRole", role_name=role_name,
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="Starts the database provision task: reads the master secret and the app's secret",
        )
        task = ecs.FargateTaskDefinition(
            self, "ProvisionTask", family=family, cpu=256, memory_limit_mib=512, execution_role=role,
        )
        task.add_container(
            PROVISION_CONTAINER,
            container_name=PROVISION_CONTAINER,
            image=ecs.ContainerImage.from_registry(PROVISION_IMAGE),
            entry_point=["bash", "-c"],
            command=[PROVISION_SCRIPT.read_text()],
            environment={
                "APP_DATABASE": self.database_name, "APP_ROLE": self.role_name, "SHARED_DATABASE": shared_database,
                "PGSSLMODE": "require", "PGCONNECT_TIMEOUT": "10",
            },
            secrets={
                "PGHOST": ecs.Secret.from_secrets_manager(self.secret, "host"),
                "PGPORT": ecs.Secret.from_secrets_manager(self.secret, "port"),
                "APP_PASSWORD": ecs.Secret.from_secrets_manager(self.secret, "password"),
                "PGUSER": ecs.Secret.from_secrets_manager(master_secret, "username"),
                "PGPASSWORD": ecs.Secret.from_secrets_manager(master_secret, "password"),
            },
            logging=ecs.LogDrivers.aws_logs(stream_prefix="provision", log_group=log_group),
            essential=True,
        )
        return role, task

    def _provision_state_machine(self, *, cluster: ecs.ICluster, subnets: ec2.SubnetSelection,
                                 security_group: ec2.ISecurityGroup, log_group: logs.ILogGroup,
                                 state_machine_name: str | None) -> sfn.StateMachine:
        """Runs the provision task and fails unless it exited 0; its role's wildcards acknowledged."""
        run = tasks.EcsRunTask(
            self, "RunProvisionTask",
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            cluster=cluster, task_definition=self.provision_task,
            launch_target=tasks.EcsFargateLaunchTarget(platform_version=ecs.FargatePlatformVersion.LATEST),
            subnets=subnets, security_groups=[security_group], assign_public_ip=False,
        )
        exit_code = "$.Containers[0].ExitCode"
        succeeded = sfn.Condition.and_(sfn.Condition.is_present(exit_code), sfn.Condition.number_equals(exit_code, 0))
        judge = sfn.Choice(self, "ExitedZero").when(succeeded, sfn.Succeed(self, "Provisioned")).otherwise(
            sfn.Fail(self, "ProvisionFailed", error="ProvisionFailed",
                     cause=f"The provision task did not exit 0: read its log (stream prefix provision) in "
                           f"{log_group.log_group_name}"),
        )
        state_machine = sfn.StateMachine(
            self, "Provision", state_machine_name=state_machine_name,
            comment=f"Create role {self.role_name} and database {self.database_name} if missing; set the password",
            definition_body=sfn.DefinitionBody.from_chainable(run.next(judge)),
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL),
            tracing_enabled=True,
            timeout=cdk.Duration.minutes(15),
        )
        _depend_on_own_policy(state_machine)
        # RunTask names the task definition's exact revision (cdk.json: fixRunEcsTaskPolicy), which CloudFormation
        # replaces with the stack; what stays wildcard is below.
        nag.acknowledge(
            state_machine, "AwsSolutions-IAM5[Resource::*]",
            "ecs:StopTask and ecs:DescribeTasks of the task RunTask starts (its ARN is unknown until then), X-Ray "
            "and CloudWatch Logs delivery take only Resource *",
        )
        checkov.skip(
            state_machine.role.node.find_child("DefaultPolicy"), "CKV_AWS_111",
            "ecs:StopTask of the task RunTask starts (its ARN is unknown until then) and CloudWatch Logs delivery "
            "(logs:*LogDelivery, logs:PutResourcePolicy) take only Resource *; the rest of the policy names its ARNs",
        )
        return state_machine


class RedeployOnRotation(Construct):
    """Replace the tasks of ``services`` when Secrets Manager has rotated the secret they read.

    ECS reads secrets when a task starts, so a task older than the rotation holds the old password and its next
    new connection fails. Secrets Manager sends ``Secret Label Updated`` to the default event bus when
    ``AWSCURRENT`` moves to a new version (a native event: no CloudTrail trail needed); the rule starts a state
    machine with the service names, which forces a new deployment of each, with the services' own rolling or
    blue/green settings. Native Step Functions calls to ECS: no Lambda, no asset.

    :param secret_arn: the rotated secret.
    :param cluster_arn: the environment's ECS cluster; ``cluster_name`` its name.
    :param services: names of the services that read the secret, and only those.
    :param log_group: where the state machine logs its executions.

    Attributes: ``rule``, ``state_machine``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, secret_arn: str, cluster_arn: str,
                 cluster_name: str, services: Sequence[str], log_group: logs.ILogGroup) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        arns = [stack.format_arn(service="ecs", resource="service", resource_name=f"{cluster_name}/{name}")
                for name in services]
        redeploy = tasks.CallAwsService(
            self, "ForceNewDeployment", service="ecs", action="updateService",
            parameters={"Cluster": cluster_arn, "Service.$": "$", "ForceNewDeployment": True},
            iam_resources=arns,
            result_selector={"service.$": "$.Service.ServiceName"},
        )
        each = sfn.Map(self, "EachService", items_path="$.services", max_concurrency=5)
        each.item_processor(redeploy)
        self.state_machine = sfn.StateMachine(
            self, "Resource",
            comment="Force a new deployment of the app's services after its database password rotated",
            definition_body=sfn.DefinitionBody.from_chainable(each),
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL),
            tracing_enabled=True,
            timeout=cdk.Duration.minutes(15),
        )
        _depend_on_own_policy(self.state_machine)
        self.rule = events.Rule(
            self, "Rule",
            description="The app's database password rotated: redeploy the app's services",
            event_pattern=events.EventPattern(
                source=["aws.secretsmanager"], detail_type=["Secret Label Updated"], resources=[secret_arn],
                detail={"labelUpdated": ["AWSCURRENT"]},
            ),
            targets=[targets.SfnStateMachine(
                self.state_machine, input=events.RuleTargetInput.from_object({"services": list(services)}),
            )],
        )
        nag.acknowledge(
            self.state_machine, "AwsSolutions-IAM5[Resource::*]",
            "X-Ray and CloudWatch Logs delivery take only Resource *; ecs:UpdateService names each service",
        )


def _depend_on_own_policy(state_machine: sfn.StateMachine) -> None:
    """CDK makes a state machine depend on its role, which RoleArn references already (cfn-lint W3005); what must
    exist first is the role's policy, since Step Functions checks log delivery rights on creation."""
    policy = state_machine.role.node.find_child("DefaultPolicy").node.default_child
    assert isinstance(policy, cdk.CfnElement)
    resource = state_machine.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    resource.add_override("DependsOn", [cdk.Stack.of(state_machine).get_logical_id(policy)])

