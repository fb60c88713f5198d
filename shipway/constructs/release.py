"""The release step: the app's ``release`` command as a one-off ECS task before each environment's deploy."""

from __future__ import annotations

import math

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam
from constructs import Construct

from .. import naming
from ..naming import Param
from . import buildspec
from .build_projects import BuildProjects
from .task_runner import TaskRunnerGrant

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
                 command: str, timeout: cdk.Duration, projects: BuildProjects, buildpacks: bool = False) -> None:
        super().__init__(scope, construct_id)
        self.project_name = project
        self.app_name = app
        stack = cdk.Stack.of(self)
        wait_rounds = math.ceil(timeout.to_minutes() / WAITER_MINUTES)
        self.project = projects.project(
            self, "Default",
            description=f"shipway {project} {app}: runs the release command before each deploy",
            build_spec=buildspec.release_build_spec(command, wait_rounds=wait_rounds, buildpacks=buildpacks),
            log_prefix="release",
            # the waiter rounds, plus a margin to register, start and judge the task
            timeout=cdk.Duration.minutes(wait_rounds * WAITER_MINUTES + 10),
        )
        role = self.project.role
        assert role is not None
        families = [naming.task_family(project, app, env, "release") for env in environments]
        TaskRunnerGrant(
            clusters=[naming.cluster_name(project, env) for env in environments],
            families=families,
            runs=families,
            roles=[r for env in environments for r in naming.app_roles(project, app, env)],
        ).grant(role)
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ssm:GetParameter"],
            resources=[
                parameter_arn(stack, naming.parameter(project, env, key))
                for env in environments
                for key in (Param.PRIVATE_SUBNETS, Param.APP_SECURITY_GROUP)
            ],
        ))

    def action(self, env: str, *, input: codepipeline.Artifact, image_uri: str, action_name: str,
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
            action_name=action_name,
            project=self.project,
            input=input,
            run_order=run_order,
            environment_variables={k: codebuild.BuildEnvironmentVariable(value=v) for k, v in variables.items()},
        )


def parameter_arn(stack: cdk.Stack, name: str) -> str:
    return stack.format_arn(service="ssm", resource="parameter", resource_name=name.lstrip("/"))

