"""``CronJobs``: an app's ``cron`` entries as EventBridge Scheduler schedules running the one-off task.

Each job is an ``AWS::Scheduler::Schedule`` whose templated ECS target runs the one-off task definition
with the job's command (and size) as overrides, on Fargate or on the named pool. A run that cannot be
started is retried by Scheduler and then lands in the app's encrypted dead-letter queue.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .. import checkov, naming
from .app_task import FARGATE, TaskPlacement, shell_command


class CronJobs(Construct):
    """The schedules of one app in one environment, their execution role and their dead-letter queue.

    The construct knows nothing of shipway's spec: ``shipway.props.runtime.cron_job`` translates a ``cron`` entry
    into ``add_job``'s keyword props.

    :param cluster: the cluster the tasks run in.
    :param task_definition: the one-off task definition (``OneOffTask``); schedules run its latest revision, so a
        release the pipeline registers is what the next run uses.
    :param vpc: the VPC whose private subnets the tasks run in. Default: the cluster's.
    :param security_groups: what the tasks wear. Default: a new security group in ``vpc``.
    :param buildpacks: the image was built with buildpacks: each command is the one argument of the task
        definition's ``launcher`` entry point (``app_task.shell_command``). Default: a Dockerfile image.

    Attributes: ``schedules`` (by job name), ``role``, ``dead_letter_queue``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        task_definition: ecs.TaskDefinition,
        vpc: ec2.IVpc | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        buildpacks: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        if vpc is None:
            vpc = cluster.vpc
        if security_groups is None:
            security_groups = [ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, description="Cron job tasks")]
        self.buildpacks = buildpacks
        self.cluster = cluster
        self.task_definition = task_definition
        self.subnet_ids = [s.subnet_id for s in vpc.private_subnets]
        self.security_group_ids = [g.security_group_id for g in security_groups]
        self.schedules: dict[str, scheduler.CfnSchedule] = {}

        self.dead_letter_queue = self._dead_letter_queue()
        # Latest ACTIVE revision of the family: the pipeline registers new revisions with new images.
        self.task_definition_family_arn = cdk.Stack.of(self).format_arn(
            service="ecs", resource="task-definition", resource_name=task_definition.family
        )
        self.role = self._role(cluster, task_definition)

    def _dead_letter_queue(self) -> sqs.Queue:
        """Where Scheduler puts the runs it gave up on."""
        queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        checkov.skip(
            queue, "CKV_AWS_27",
            "Encrypted at rest with SQS-managed keys (SSE-SQS), which checkov does not count; a KMS key would add a "
            "key policy and kms grants for EventBridge Scheduler's role to protect run requests that hold no secret",
        )
        return queue

    def _role(self, cluster: ecs.ICluster, task_definition: ecs.TaskDefinition) -> iam.Role:
        """Scheduler's role: run the family's revisions on ``cluster``, pass the task's roles, dead-letter."""
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account}},
            ),
            description="EventBridge Scheduler runs the app's one-off task for its cron jobs",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ecs:RunTask"],
                resources=[f"{self.task_definition_family_arn}:*"],
                conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["ecs:TagResource"], resources=["*"],
                                conditions={"StringEquals": {"ecs:CreateAction": "RunTask"}})
        )
        roles = [task_definition.task_role, task_definition.execution_role]
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[r.role_arn for r in roles if r is not None],
                conditions={"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            )
        )
        self.dead_letter_queue.grant_send_messages(role)
        return role

    def add_job(
        self,
        job_name: str,
        *,
        schedule: str,
        command: str,
        cpu: int = 256,
        memory: int = 512,
        placement: TaskPlacement = FARGATE,
        schedule_name: str | None = None,
        retry_attempts: int = 2,
        max_event_age: int = 3600,
    ) -> scheduler.CfnSchedule:
        """A schedule running ``command`` at ``schedule`` with ``cpu`` and ``memory``.

        :param schedule: EventBridge Scheduler's ``cron(...)`` or ``rate(...)``, UTC.
        :param command: the job's command line, run like a process's.
        :param cpu: the run's CPU units (an override of the task definition's). Default: 256.
        :param memory: the run's memory, MiB. Default: 512.
        :param placement: where the run goes. Default: Fargate, by launch type.
        :param schedule_name: the schedule's name. Default: named by CloudFormation.
        :param retry_attempts: Scheduler's retries before the dead-letter queue. Default: 2.
        :param max_event_age: seconds Scheduler keeps retrying a run. Default: 3600.
        """
        S = scheduler.CfnSchedule
        cfn_schedule = S(
            self,
            job_name,
            name=schedule_name,
            description=f"cron {job_name}: {command}",
            schedule_expression=schedule,
            flexible_time_window=S.FlexibleTimeWindowProperty(mode="OFF"),
            target=S.TargetProperty(
                arn=self.cluster.cluster_arn,
                role_arn=self.role.role_arn,
                input=json.dumps(self._overrides(command, cpu, memory), separators=(",", ":")),
                ecs_parameters=self._ecs_parameters(placement),
                retry_policy=S.RetryPolicyProperty(
                    maximum_retry_attempts=retry_attempts, maximum_event_age_in_seconds=max_event_age
                ),
                dead_letter_config=S.DeadLetterConfigProperty(
                    arn=self.dead_letter_queue.queue_arn
                ),
            ),
        )
        # The family must exist before a run can resolve its latest revision, and the role's policy before
        # the first run (the schedule only references the role itself).
        cfn_schedule.node.add_dependency(self.task_definition, self.role.node.find_child("DefaultPolicy"))
        self.schedules[job_name] = cfn_schedule
        return cfn_schedule

    def _overrides(self, command: str, cpu: int, memory: int) -> dict:
        """The run's RunTask overrides: its size, and its command in the app's container with MEMORY_MB to match."""
        return {
            "cpu": str(cpu),
            "memory": str(memory),
            "containerOverrides": [
                {
                    "name": naming.CONTAINER_NAME,
                    "command": shell_command(command, buildpacks=self.buildpacks),
                    "environment": [{"name": "MEMORY_MB", "value": str(memory)}],
                }
            ],
        }

    def _ecs_parameters(self, placement: TaskPlacement) -> scheduler.CfnSchedule.EcsParametersProperty:
        """The run's task: the family's latest revision in the private subnets, placed as ``placement`` says."""
        S = scheduler.CfnSchedule
        return S.EcsParametersProperty(
            task_definition_arn=self.task_definition_family_arn,
            task_count=1,
            network_configuration=S.NetworkConfigurationProperty(
                awsvpc_configuration=S.AwsVpcConfigurationProperty(
                    subnets=self.subnet_ids,
                    security_groups=self.security_group_ids,
                    assign_public_ip=None if placement.ec2 else "DISABLED",
                )
            ),
            enable_ecs_managed_tags=True,
            capacity_provider_strategy=[
                S.CapacityProviderStrategyItemProperty(capacity_provider=s.capacity_provider, weight=s.weight)
                for s in placement.capacity_provider_strategies
            ] or None,
            launch_type=placement.launch_type,
            placement_constraints=[
                S.PlacementConstraintProperty(type=c.type, expression=c.expression)
                for constraint in placement.placement_constraints for c in constraint.to_json()
            ] or None,
            placement_strategy=[
                S.PlacementStrategyProperty(type=s.type, field=s.field)
                for strategy in placement.placement_strategies for s in strategy.to_json()
            ] or None,
        )
