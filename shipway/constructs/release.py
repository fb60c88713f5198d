"""The release step: the app's ``release`` command as a one-off ECS task before each environment's deploy."""

from __future__ import annotations

import math

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .. import nag, naming
from ..defaults import BUILD_IMAGE
from ..naming import Param
from . import buildspec

WAITER_MINUTES = 10  # `aws ecs wait tasks-stopped` polls 100 times, 6 s apart


class ReleaseRunner(Construct):
    """A CodeBuild project that runs ``command`` as a one-off task of an environment's release family.

    For each environment, ``action`` gives the pipeline action that registers a revision of
    ``naming.task_family(project, app, env, "release")`` with the new image, runs it in the environment's
    private subnets with the app security group (both read from the platform's SSM parameters at run time),
    waits for it to stop and fails unless the app container exited 0. The role may do exactly that, in the
    environments given here.
    """

    def __init__(self, scope: Construct, construct_id: str, *, project: str, app: str, environments: list[str],
                 command: str, timeout: cdk.Duration, log_group: logs.ILogGroup, encryption_key: kms.IKey,
                 buildpacks: bool = False) -> None:
        super().__init__(scope, construct_id)
        self.project_name = project
        self.app_name = app
        stack = cdk.Stack.of(self)
        wait_rounds = math.ceil(timeout.to_minutes() / WAITER_MINUTES)
        self.project = codebuild.PipelineProject(
            self,
            "Default",
            description=f"shipway {project} {app}: runs the release command before each deploy",
            build_spec=codebuild.BuildSpec.from_object(buildspec.release_build_spec(
                command, wait_rounds=wait_rounds, buildpacks=buildpacks)),
            environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE),
            # the waiter rounds, plus a margin to register, start and judge the task
            timeout=cdk.Duration.minutes(wait_rounds * WAITER_MINUTES + 10),
            encryption_key=encryption_key,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group, prefix="release")
            ),
        )
        role = self.project.role
        assert role is not None
        families = [naming.task_family(project, app, env, "release") for env in environments]
        clusters = [naming.cluster_name(project, env) for env in environments]
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"],
            resources=["*"],
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ecs:RunTask"],
            resources=[stack.format_arn(service="ecs", resource="task-definition", resource_name=f"{f}:*") for f in families],
            conditions={"ArnEquals": {"ecs:cluster": [cluster_arn(stack, c) for c in clusters]}},
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ecs:TagResource"],
            resources=[stack.format_arn(service="ecs", resource="task-definition", resource_name=f"{f}:*") for f in families],
            conditions={"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}},
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ecs:DescribeTasks", "ecs:StopTask"],
            resources=[stack.format_arn(service="ecs", resource="task", resource_name=f"{c}/*") for c in clusters],
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=[arn for env in environments for arn in app_role_arns(stack, project, app, env)],
            conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ))
        nag.acknowledge(role, "AwsSolutions-IAM5[Resource::*]",
                        "ecs:DescribeTaskDefinition and ecs:RegisterTaskDefinition take no resource ARN")
        for env, family, cluster in zip(environments, families, clusters, strict=True):
            nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", stack.format_arn(
                service="ecs", resource="task-definition", resource_name=f"{family}:*")),
                f"ecs:RunTask of any revision of {family} (the step registers a new one each time), "
                f"only in {cluster}; ecs:TagResource of those revisions only while registering them (they keep "
                "the family's tags)")
            nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", stack.format_arn(
                service="ecs", resource="task", resource_name=f"{cluster}/*")),
                f"ecs:DescribeTasks and ecs:StopTask (of a release past its timeout) on the tasks of {cluster}: the "
                "release task's ID is only known at run time")
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ssm:GetParameter"],
            resources=[
                parameter_arn(stack, naming.parameter(project, env, key))
                for env in environments
                for key in (Param.PRIVATE_SUBNETS, Param.APP_SECURITY_GROUP)
            ],
        ))

    def action(self, env: str, *, input: codepipeline.Artifact, image_uri: str,
               run_order: int) -> actions.CodeBuildAction:
        """The release action of ``env``'s stage: the stage stops here when the command fails."""
        variables = {
            "IMAGE_URI": image_uri,
            "CLUSTER": naming.cluster_name(self.project_name, env),
            "TASK_FAMILY": naming.task_family(self.project_name, self.app_name, env, "release"),
            "SUBNETS_PARAMETER": naming.parameter(self.project_name, env, Param.PRIVATE_SUBNETS),
            "SECURITY_GROUP_PARAMETER": naming.parameter(self.project_name, env, Param.APP_SECURITY_GROUP),
        }
        return actions.CodeBuildAction(
            action_name="Release",
            project=self.project,
            input=input,
            run_order=run_order,
            environment_variables={k: codebuild.BuildEnvironmentVariable(value=v) for k, v in variables.items()},
        )


def cluster_arn(stack: cdk.Stack, cluster: str) -> str:
    return stack.format_arn(service="ecs", resource="cluster", resource_name=cluster)


def parameter_arn(stack: cdk.Stack, name: str) -> str:
    return stack.format_arn(service="ssm", resource="parameter", resource_name=name.lstrip("/"))


def app_role_arns(stack: cdk.Stack, project: str, app: str, env: str) -> list[str]:
    """The app's task and execution roles in ``env`` (named by ``<name>-<app>-<env>``): the roles its task
    definitions carry, which the release and the deploys pass to ECS, and no other."""
    return [stack.format_arn(service="iam", region="", resource="role", resource_name=role)
            for role in naming.app_roles(project, app, env)]
