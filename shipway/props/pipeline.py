"""The spec -> props translation of an app's pipeline (``AppPipelineStack`` calls it; the constructs never read the
spec): the ``DeliveryPipeline`` props, one ``Target`` per environment, the build's buildspec and registries."""

from __future__ import annotations

from typing import TypedDict

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm

from .. import naming
from ..constructs import buildspec
from ..constructs.pipeline import SourceRepository, Target
from ..constructs.retention import retention
from ..loadtest import image as loadtest_image
from ..spec import Spec
from ..spec.model import MAX_DEPLOY_MINUTES
from ..spec.references import build_environment

# build.compute -> CodeBuild's size
COMPUTE = {
    "small": codebuild.ComputeType.SMALL,
    "medium": codebuild.ComputeType.MEDIUM,
    "large": codebuild.ComputeType.LARGE,
    "xlarge": codebuild.ComputeType.X_LARGE,
    "2xlarge": codebuild.ComputeType.X2_LARGE,
}


class DeliveryProps(TypedDict):
    """``DeliveryPipeline``'s props that follow from the spec alone."""

    pipeline_name: str
    project: str
    app: str
    compute: codebuild.ComputeType
    log_group_name: str
    log_retention: logs.RetentionDays
    release_command: str | None
    buildpacks: bool
    release_timeout: cdk.Duration
    deploy_timeout: cdk.Duration
    provision_state_machines: dict[str, str]


def delivery_props(spec: Spec, app: str) -> DeliveryProps:
    app_spec = spec.apps[app]
    return DeliveryProps(
        pipeline_name=naming.pipeline_name(spec.name, app),
        project=spec.name,
        app=app,
        compute=COMPUTE[app_spec.build.compute],
        log_group_name=naming.pipeline_log_group(spec.name, app),
        log_retention=retention(app_spec.log_retention_days),
        release_command=app_spec.release,
        buildpacks=app_spec.build.buildpacks is not None,
        release_timeout=cdk.Duration.minutes(app_spec.release_timeout),
        deploy_timeout=cdk.Duration.minutes(MAX_DEPLOY_MINUTES),
        # every environment provisions the app's database before its release (data.md)
        provision_state_machines={
            env: naming.provision_state_machine(spec.name, app, env) for env in spec.environments
        },
    )


def source(spec: Spec, app: str, codecommit_repository: codecommit.IRepository | None) -> SourceRepository:
    """The pipeline's source: ``codecommit_repository`` (the stack's, for ``source.codecommit``) or the
    CodeConnections connection and ``owner/name``."""
    source = spec.apps[app].source
    return SourceRepository(branch=source.branch, codecommit=codecommit_repository,
                            connection_arn=source.connection_arn, full_name=source.repository)


def image_repository(spec: Spec, app: str, env: str) -> str | None:
    """registry: s3: the app's repository in ``env``'s registry (``<host>/<name>/<app>``); None with ECR."""
    if spec.registry != "s3":
        return None
    return f"{spec.environments[env].router.registry_host}/{naming.image_repository(spec.name, app)}"


def target(spec: Spec, app: str, env: str, *, alarm_topic: sns.ITopic, image_tag_parameter: ssm.IStringParameter,
           live_target_groups: dict[str, ssm.IStringParameter]) -> Target:
    """``env`` as the pipeline deploys to it; the topic and parameters are the stack's."""
    processes = spec.apps[app].processes
    shifting = spec.apps[app].shifting_processes
    return Target(
        env=env,
        cluster_name=naming.cluster_name(spec.name, env),
        services={p: naming.service_name(app, p) for p in processes},
        task_families=[naming.task_family(spec.name, app, env, p) for p in processes],
        alarm_topic=alarm_topic,
        image_tag_parameter=image_tag_parameter,
        service_counts_parameter=naming.service_counts_parameter(spec.name, app, env),
        no_image_tag=naming.NO_IMAGE_TAG,
        live_target_groups=live_target_groups,
        routing_parameters={p: naming.routing_parameter(spec.name, app, env, p) for p in shifting},
        parameter_prefix=naming.image_tag_parameter(spec.name, app, env).rsplit("/", 1)[0],
        approve=spec.apps[app].deploy.approve_before == env,
        image_repository=image_repository(spec, app, env),
    )


def build_spec(spec: Spec, app: str) -> dict:
    """The image build's buildspec (data): Dockerfile or buildpacks, pushed to ECR or to every registry; with a
    load test, its image too, with the same tag."""
    build, test = spec.apps[app].build, spec.apps[app].loadtest
    registries = registry_repositories(spec, app)
    return buildspec.image_build_spec(dockerfile=build.dockerfile, buildpacks=build.buildpacks,
                                      extra_builds=loadtest_image.build_commands(test.locustfile) if test else (),
                                      registries=registries or None)


def registry_repositories(spec: Spec, app: str) -> dict[str, str]:
    """registry: s3: env -> the app's repository in its registry, in the spec's order; empty with ECR."""
    return {env: repository for env in spec.environments if (repository := image_repository(spec, app, env))}


def registry_build(spec: Spec, app: str) -> tuple[str, dict[str, str], dict[str, str]] | None:
    """registry: s3: the environment the build runs in (whose NAT addresses every registry admits), its variables
    (the first environment's repository as its image) and secrets (each registry's password from Secrets
    Manager). None with ECR."""
    registries = registry_repositories(spec, app)
    if not registries:
        return None
    build_env = build_environment(spec)
    secrets = {
        buildspec.registry_password_variable(i): f"{naming.registry_credentials_secret(spec.name, env)}:password"
        for i, env in enumerate(registries)
    }
    return build_env, {"IMAGE_REPOSITORY_URI": registries[build_env]}, secrets
