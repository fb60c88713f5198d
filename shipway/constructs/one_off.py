"""``OneOffTask``: the task definition for one-off commands: release, consoles, migrations and cron jobs.

Same image, environment and secrets as the app's processes; no command of its own, so whoever runs it
(the pipeline's release step, ``aws ecs run-task``, a cron schedule) overrides the command. It is
compatible with Fargate and EC2 so that a cron job can run on either.
"""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from .app_task import AppContainer

STREAM_PREFIX = "one-off"


class OneOffTask(Construct):
    """A task definition of the app container with the command left to the caller.

    :param container: the app's shared container (image, environment, secrets, logs).
    :param family: the task definition family. Default: derived from the construct path.
    :param cpu: task CPU units; callers may override CPU and memory per run (cron jobs do). Default: 256.
    :param memory: task memory, MiB. Default: 512.
    :param execution_role: the app's task execution role. Default: one is created.
    :param task_role: the app's task role. Default: one is created.

    Attributes: ``task_definition``, ``container``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        container: AppContainer,
        family: str | None = None,
        cpu: int = 256,
        memory: int = 512,
        execution_role: iam.IRole | None = None,
        task_role: iam.IRole | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.task_definition = ecs.TaskDefinition(
            self,
            "TaskDefinition",
            family=family,
            compatibility=ecs.Compatibility.EC2_AND_FARGATE,
            network_mode=ecs.NetworkMode.AWS_VPC,
            cpu=str(cpu),
            memory_mib=str(memory),
            execution_role=execution_role,
            task_role=task_role,
        )
        self.container = container.add_to(self.task_definition, stream_prefix=STREAM_PREFIX, memory=memory)
