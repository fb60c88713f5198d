"""``<name>-<app>``: one app's source, images and pipeline across the environments."""

from __future__ import annotations

from functools import partial

import aws_cdk as cdk
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .. import checkov, naming
from ..constructs.build_projects import BuildNetwork
from ..constructs.log_encryption import encrypt_log_groups
from ..constructs.pipeline import ActionContext, DeliveryPipeline, Target
from ..constructs.platform_imports import PlatformImports
from ..constructs.stage_actions import Phase, StageAction
from ..loadtest import gate_construct as loadtest_gate
from ..loadtest import props as loadtest_props
from ..props import pipeline as props
from ..props.platform import platform_imports
from ..spec import Spec
from ..spec.references import build_environment
from .base import ShipwayStack


class AppPipelineStack(ShipwayStack):
    """The app's repositories, its per-environment image tag parameters and its delivery pipeline.

    Stateful children and their construct IDs (pinned by tests): ``Repository`` (the app images, with ECR),
    ``BuildCache`` (the layer cache), ``SourceRepository`` (CodeCommit sources), ``ImageTag-<env>``.
    """

    def __init__(self, scope: Construct, *, spec: Spec, app: str) -> None:
        # An app's pipeline lives where its environments do (references.py checks that they share one).
        super().__init__(
            scope,
            naming.app_stack(spec.name, app),
            spec=spec,
            environment=next(iter(spec.environments.values())),
            description=f"shipway {spec.name} app {app}: source, images and pipeline",
        )
        self.app_name = app
        self.app_spec = spec.apps[app]
        self.platforms: dict[str, PlatformImports] = {}
        # With registry: s3 the images live in the environments' registries, not in ECR.
        self.repository = None if spec.registry == "s3" else self._image_repository()
        self.cache_repository = self._cache_repository()
        self.source_repository = self._source_repository()
        self.image_tag_parameters = self._image_tag_parameters()
        self.live_target_group_parameters = self._live_target_group_parameters()
        targets = self._targets()
        build_spec = props.build_spec(spec, app)
        # The load-test image (issue 6) is built beside the app's, with the same tag (props.build_spec).
        repository = loadtest_props.loadtest_repository(spec, app)
        self.loadtest_repository = loadtest_gate.loadtest_repository(self, **repository) if repository else None

        self.delivery = DeliveryPipeline(
            self,
            "Delivery",
            **props.delivery_props(spec, app),
            source=props.source(spec, app, self.source_repository),
            repository=self.repository,
            cache_repository=self.cache_repository,
            build_spec=build_spec,
            targets=targets,
            **self._s3_registry_build(),
            more_actions=self.more_actions,
        )
        # The pipeline's log group is the app's, in the first environment's account and Region: that key.
        encrypt_log_groups(self, self.platforms[build_environment(spec)].logs_key_arn)
        if self.loadtest_repository is not None:
            self.loadtest_repository.grant_pull_push(self.delivery.build_project)
            self.loadtest_repository.grant(self.delivery.build_project, "ecr:DescribeImages")

    def _image_repository(self) -> ecr.Repository:
        """The app's images in ECR: scanned on push, immutable tags, untagged and old images expired."""
        build = self.app_spec.build
        return ecr.Repository(
            self,
            "Repository",
            repository_name=naming.image_repository(self.spec.name, self.app_name),
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1, description="untagged images: failed or interrupted pushes",
                    tag_status=ecr.TagStatus.UNTAGGED, max_image_age=cdk.Duration.days(build.untagged_days),
                ),
                ecr.LifecycleRule(
                    rule_priority=2, description=f"keep the newest {build.keep_images} images",
                    tag_status=ecr.TagStatus.ANY, max_image_count=build.keep_images,
                ),
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )

    def _cache_repository(self) -> ecr.Repository:
        """The build's layer cache: a mutable repository, with the checks it fails on purpose skipped."""
        # A registry cache export overwrites its tag; ECR answers an immutable repository with 400.
        cache_repository = ecr.Repository(
            self,
            "BuildCache",
            repository_name=naming.build_cache_repository(self.spec.name, self.app_name),
            image_tag_mutability=ecr.TagMutability.MUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1, description="cache manifests replaced by a newer build",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=cdk.Duration.days(self.app_spec.build.untagged_days),
                ),
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        checkov.skip(cache_repository, "CKV_AWS_51",
                     "A registry cache export overwrites its tag on every build; ECR answers an immutable "
                     "repository with 400. Nothing is deployed from this repository")
        checkov.skip(cache_repository, "CKV_AWS_163",
                     "It holds BuildKit and pack cache manifests, not images anything runs; the app's image "
                     "repository scans every image on push")
        return cache_repository

    def _source_repository(self) -> codecommit.Repository | None:
        """The CodeCommit repository, retained, when the app's source is one; None for CodeConnections."""
        source = self.app_spec.source
        if source.codecommit is None:
            return None
        code_commit = codecommit.Repository(
            self, "SourceRepository", repository_name=source.codecommit,
            description=f"shipway {self.spec.name} app {self.app_name}: push to {source.branch} to deploy",
        )
        code_commit.apply_removal_policy(cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        return code_commit

    def _image_tag_parameters(self) -> dict[str, ssm.StringParameter]:
        """Per environment, the image tag deployed there (``ImageTag-<env>``)."""
        spec, app = self.spec, self.app_name
        return {
            env: ssm.StringParameter(
                self,
                f"ImageTag-{env}",
                parameter_name=naming.image_tag_parameter(spec.name, app, env),
                string_value=naming.NO_IMAGE_TAG,
                description=f"The {app} image tag deployed to {env}; written by the pipeline after each deploy",
            )
            for env in spec.environments
        }

    def _live_target_group_parameters(self) -> dict[tuple[str, str], ssm.StringParameter]:
        """Which target group holds each shifting web process's live tasks, per environment; the same caveat as
        the image tags: CloudFormation writes the template's value back whenever the resource is updated."""
        spec, app = self.spec, self.app_name
        return {
            (env, process): ssm.StringParameter(
                self, f"LiveTargetGroup-{env}-{process}",
                parameter_name=naming.live_target_group_parameter(spec.name, app, env, process),
                string_value=naming.LIVE_PRIMARY,
                description=f"The target group holding {app}-{process}'s live tasks in {env}; written by the pipeline",
            )
            for env in spec.environments for process in self.app_spec.shifting_processes
        }

    def _targets(self) -> list[Target]:
        """Each environment's platform (imported here, ``platforms``) and its deploy target for the pipeline."""
        spec, app = self.spec, self.app_name
        targets = []
        for env in spec.environments:
            self.platforms[env] = PlatformImports(self, f"Platform-{env}", **platform_imports(spec, env))
            targets.append(props.target(
                spec, app, env, alarm_topic=self.platforms[env].alarm_topic,
                image_tag_parameter=self.image_tag_parameters[env],
                live_target_groups={p: self.live_target_group_parameters[(env, p)]
                                    for p in self.app_spec.shifting_processes},
            ))
        return targets

    def _s3_registry_build(self) -> dict:
        """registry: s3: the build pushes to every environment's registry, so it runs in the VPC of the build
        environment (whose NAT addresses every registry admits), logs in with each registry's password from
        Secrets Manager, and names the first environment's repository as its image."""
        registry_build = props.registry_build(self.spec, self.app_name)
        if registry_build is None:
            return {}
        build_env, variables, secrets = registry_build
        vpc = self.platforms[build_env].private_vpc
        group = ec2.SecurityGroup(self, "BuildSecurityGroup", vpc=vpc, allow_all_outbound=True,
                                  description="The image build: out to the registries, ECR and the source; no inbound")
        return {"build_network": BuildNetwork(vpc=vpc, security_group=group), "build_variables": variables,
                "build_secrets": secrets}

    def more_actions(self, context: ActionContext) -> list[StageAction]:
        """The further actions of ``context.env``'s stage, as data: the load-test gate (issue 6) after the deploy
        of ``loadtest.environment``, beside the tag record. A failed action fails the stage, so the pipeline goes
        no further. Override (and extend) to add actions: their run order and failure notice follow."""
        test = self.app_spec.loadtest
        if test is None or self.loadtest_repository is None or context.env != test.environment:
            return []
        gate = loadtest_gate.LoadTestGate(
            self, "LoadTestGate", project=self.spec.name, app=self.app_name, env=context.env,
            workers=test.workers, run_seconds=test.run_seconds, repository=self.loadtest_repository,
            projects=context.projects, hosted_zone_id=self.platforms[context.env].namespace_hosted_zone_id,
        )
        return [StageAction("LoadTest", Phase.POST_DEPLOY, partial(gate.action, input=context.input,
                                                                   image_tag=context.image_tag),
                            beside="RecordImageTag")]
