"""DeliveryPipeline: git push -> image build with a lasting layer cache -> per environment: approval, release,
ECS deploys, recorded image tag, gates."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as event_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .. import checkov, nag, naming
from ..defaults import BUILD_IMAGE
from . import buildspec
from .release import ReleaseRunner, app_role_arns, cluster_arn

COMPUTE = {
    "small": codebuild.ComputeType.SMALL,
    "medium": codebuild.ComputeType.MEDIUM,
    "large": codebuild.ComputeType.LARGE,
    "xlarge": codebuild.ComputeType.X_LARGE,
    "2xlarge": codebuild.ComputeType.X2_LARGE,
}


@dataclass(frozen=True)
class Target:
    """One environment the pipeline deploys to, in the pipeline's order."""

    env: str
    cluster_name: str
    services: Mapping[str, str]
    """Process name -> ECS service name; each service gets an ECS deploy action named ``Deploy-<process>``."""
    task_families: Sequence[str]
    """The services' task definition families: the deploy registers new revisions of them."""
    alarm_topic: sns.ITopic
    """Where this environment's approvals and failures are announced."""
    image_tag_parameter: ssm.IStringParameter
    """Where the tag deployed to this environment is recorded."""
    service_counts_parameter: str
    """The SSM parameter where the environment's runtime stack publishes its services' counts (GoLive reads it)."""
    no_image_tag: str
    """The image tag parameter's value before the first deploy to this environment."""
    approve: bool = False
    image_repository: str | None = None
    """registry: s3: the app's repository in this environment's registry (``<host>/<name>/<app>``). Its deploy
    actions read ``buildspec.image_definitions_file(env)`` and its release runs ``<repository>:<tag>``. None: the
    build's ``IMAGE_URI`` everywhere."""
    live_target_groups: Mapping[str, ssm.IStringParameter] = field(default_factory=dict)
    """Shifting web process -> where the target group holding its live tasks is recorded after each deploy."""
    routing_parameters: Mapping[str, str] = field(default_factory=dict)
    """Shifting web process -> the SSM parameter naming its production rule and target groups (runtime stack's)."""
    parameter_prefix: str = ""
    """``/shipway/<name>/apps/<app>/<env>``, under which both of the above live."""


@dataclass(frozen=True)
class BuildNetwork:
    """Where the image build runs when it must push from known addresses (registry: s3): a VPC's private
    subnets, behind its NAT gateways, wearing ``security_group``."""

    vpc: ec2.IVpc
    security_group: ec2.ISecurityGroup


@dataclass(frozen=True)
class GateContext:
    """What a gate action after ``env``'s deploy may use; returned actions must use ``run_order``."""

    env: str
    run_order: int
    input: codepipeline.Artifact
    """The build stage's output artifact (imagedefinitions.json)."""
    image_uri: str
    image_tag: str
    """Pipeline variable expressions (``#{Build.IMAGE_URI}``), resolved per execution."""
    encryption_key: kms.IKey | None = None
    """The pipeline's artifact key, for a gate's CodeBuild project."""
    log_group: logs.ILogGroup | None = None
    """The pipeline's log group, where a gate's CodeBuild project logs."""
    acknowledge_project: Callable[[codebuild.PipelineProject], None] | None = None
    """Acknowledges what CDK grants a gate's CodeBuild project (logs, reports, the artifacts it reads)."""


GateActions = Callable[[GateContext], Sequence[codepipeline.IAction]]
"""Gives the actions that must pass after an environment's deploy (e.g. the load-test gate) for a context."""


@dataclass(frozen=True)
class SourceRepository:
    """Either a CodeCommit repository or a CodeConnections connection with ``owner/name``."""

    branch: str
    codecommit: codecommit.IRepository | None = None
    connection_arn: str | None = None
    full_name: str | None = None


class DeliveryPipeline(Construct):
    """A CodePipeline V2: Source, Build, then one stage per target in order.

    Each target's stage is ``[Approve] -> [Release] -> Deploy-<service>... -> GoLive -> RecordImageTag + gates``:
    the approval when ``target.approve``, the release when ``release_command`` is given, one ECS deploy action
    per service (no CloudFormation update); GoLive brings every service to its count when this deploy carried
    the environment's first image (and does nothing afterwards); then the deployed tag is written to the
    target's SSM parameter, in parallel with the actions ``gate_actions`` gives for the target (none by default).

    :param source: the repository and branch whose pushes start the pipeline.
    :param repository: where images go, tagged with the commit SHA; ``cache_repository``: the MUTABLE layer cache.
        None: images go to registries outside ECR, and ``build_variables`` names ``IMAGE_REPOSITORY_URI``.
    :param build_spec: the build stage's buildspec as data (``buildspec.image_build_spec``).
    :param build_variables: more environment variables of the build (e.g. a further image's repository URI).
    :param build_secrets: environment variables of the build read from Secrets Manager (``<secret>:<json key>``).
    :param build_network: run the build in a VPC (``BuildNetwork``). Default: CodeBuild's own network.
    :param targets: the environments, in deploy order.
    :param release_command: the app's ``release``; None: no release step. ``release_timeout`` bounds it.
    :param buildpacks: the image is a buildpacks image: the release command goes to the CNB launcher.
    :param deploy_timeout: how long each ECS deploy action waits for its service's deployment.
    :param gate_actions: gives each target's gate actions (see ``GateContext``). Default: no gates.
    :param provision_state_machines: env -> name of the state machine that provisions the app's database there
        (``app_database.AppDatabase``); each stage starts it before the release. Default: no provision step.

    Attributes: ``pipeline``, ``artifact_bucket``, ``build_project``, ``release`` (or None), ``stages`` (env ->
    stage), ``build_output``, ``image_uri`` and ``image_tag`` (pipeline variables).
    """

    def __init__(self, scope: Construct, construct_id: str, *, pipeline_name: str, source: SourceRepository,
                 repository: ecr.IRepository | None, cache_repository: ecr.IRepository, build_spec: dict,
                 compute: str, targets: Sequence[Target], project: str, app: str, log_retention: logs.RetentionDays,
                 log_group_name: str, release_command: str | None = None, buildpacks: bool = False,
                 release_timeout: cdk.Duration, deploy_timeout: cdk.Duration,
                 build_variables: Mapping[str, str] | None = None,
                 build_secrets: Mapping[str, str] | None = None, build_network: BuildNetwork | None = None,
                 gate_actions: GateActions | None = None,
                 provision_state_machines: Mapping[str, str] | None = None) -> None:
        super().__init__(scope, construct_id)
        if not targets:
            raise ValueError("a pipeline needs at least one target environment")
        self.project_name = project
        self.app_name = app
        self.deploy_timeout = deploy_timeout
        self.provision_state_machines = dict(provision_state_machines or {})
        self.key = kms.Key(
            self, "ArtifactsKey", description=f"{pipeline_name}: artifacts of the pipeline and its builds",
            enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        self.artifact_bucket = s3.Bucket(
            self, "Artifacts", encryption=s3.BucketEncryption.KMS, encryption_key=self.key, bucket_key_enabled=True,
            enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL, versioned=False,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        nag.acknowledge(self.artifact_bucket, "AwsSolutions-S1",
                        "Only this pipeline's roles read and write its artifacts, and CloudTrail records their "
                        "calls; server access logs would need a second bucket per app that nobody reads")
        checkov.skip(self.artifact_bucket, "CKV_AWS_18",
                     "Only this pipeline's roles read and write its artifacts, and CloudTrail records their calls; "
                     "server access logs would need a second bucket per app that nobody reads")
        checkov.skip(self.artifact_bucket, "CKV_AWS_21",
                     "CodePipeline writes each artifact once under a new key per execution and never overwrites "
                     "one; versions would only keep what the pipeline deletes")
        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=log_group_name, retention=log_retention,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        self.pipeline = codepipeline.Pipeline(
            self, "Default", pipeline_name=pipeline_name, pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=self.artifact_bucket, use_pipeline_role_for_actions=True,
            restart_execution_on_update=False,
        )

        source_output = codepipeline.Artifact("Source")
        source_action = self._source_action(source, source_output)
        self.pipeline.add_stage(stage_name="Source", actions=[source_action])

        self.build_project = self._build_project(build_spec, compute, repository, cache_repository, build_variables or {},
                                                 build_secrets or {}, build_network)
        self.build_output = codepipeline.Artifact("Image")
        build_action = actions.CodeBuildAction(
            action_name="Image", project=self.build_project, input=source_output, outputs=[self.build_output],
            variables_namespace="Build",
            environment_variables={"SOURCE_COMMIT": codebuild.BuildEnvironmentVariable(value=source_action.variables.commit_id)},
        )
        self.pipeline.add_stage(stage_name="Build", actions=[build_action])
        self.image_uri = build_action.variable("IMAGE_URI")
        self.image_tag = build_action.variable("IMAGE_TAG")

        envs = [t.env for t in targets]
        self.release = None
        if release_command is not None:
            self.release = ReleaseRunner(
                self, "Release", project=project, app=app, environments=envs, command=release_command,
                timeout=release_timeout, log_group=self.log_group, encryption_key=self.key, buildpacks=buildpacks,
            )
        record = self._record_project(targets)
        go_live = self._go_live_project(targets)
        live = self._live_target_groups_project(targets)
        for built in (self.build_project, record, go_live, *([live] if live else []),
                      *([self.release.project] if self.release else [])):
            self._acknowledge_project(built)
        self._acknowledge_artifacts(self.pipeline.role, writes=True, key=True)
        self.stages: dict[str, codepipeline.IStage] = {}
        for target in targets:
            self.stages[target.env] = self.pipeline.add_stage(
                stage_name=target.env,
                actions=self._stage_actions(target, record, go_live, live, gate_actions=gate_actions),
            )
        self._notify_failures(targets)
        if any(t.approve for t in targets):
            self._allow_encrypted_approval_topics()
        # CDK makes the pipeline depend on its role, which RoleArn references already (cfn-lint W3005); what
        # must exist before the pipeline is the role's policy.
        policy = self.pipeline.role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(policy, cdk.CfnElement)
        self.pipeline.node.default_child.add_override("DependsOn", [cdk.Stack.of(self).get_logical_id(policy)])

    # --- source and build ------------------------------------------------------------------------

    def _source_action(self, source: SourceRepository, output: codepipeline.Artifact) -> actions.Action:
        if source.codecommit is not None:
            # CodeCommit pushes start the pipeline through an EventBridge rule on the branch.
            return actions.CodeCommitSourceAction(
                action_name="Source", repository=source.codecommit, branch=source.branch, output=output,
                trigger=actions.CodeCommitTrigger.EVENTS,
            )
        assert source.connection_arn is not None and source.full_name is not None
        owner, repo = source.full_name.split("/", 1)
        action = actions.CodeStarConnectionsSourceAction(
            action_name="Source", connection_arn=source.connection_arn, owner=owner, repo=repo,
            branch=source.branch, output=output,
        )
        self.pipeline.add_trigger(
            provider_type=codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
            git_configuration=codepipeline.GitConfiguration(
                source_action=action,
                push_filter=[codepipeline.GitPushFilter(branches_includes=[source.branch])],
            ),
        )
        # Connections created as codeconnections:... are authorized under either service prefix.
        self.pipeline.role.add_to_principal_policy(iam.PolicyStatement(
            actions=["codeconnections:UseConnection"], resources=[source.connection_arn],
        ))
        return action

    def _build_project(self, spec: dict, compute: str, repository: ecr.IRepository | None,
                       cache_repository: ecr.IRepository, variables: Mapping[str, str],
                       secrets: Mapping[str, str], network: BuildNetwork | None) -> codebuild.PipelineProject:
        project = codebuild.PipelineProject(
            self, "Build",
            description=f"{cdk.Stack.of(self).stack_name}: builds the app image, tagged with the commit SHA",
            build_spec=codebuild.BuildSpec.from_object(spec),
            environment=codebuild.BuildEnvironment(
                build_image=BUILD_IMAGE, compute_type=COMPUTE[compute],
                privileged=True,  # docker builds need the daemon
            ),
            environment_variables={
                **({
                    "IMAGE_REPOSITORY_URI": codebuild.BuildEnvironmentVariable(value=repository.repository_uri),
                    "IMAGE_REPOSITORY_NAME": codebuild.BuildEnvironmentVariable(value=repository.repository_name),
                } if repository is not None else {}),
                "CACHE_REPOSITORY_URI": codebuild.BuildEnvironmentVariable(value=cache_repository.repository_uri),
                **{k: codebuild.BuildEnvironmentVariable(value=v) for k, v in variables.items()},
                **{k: codebuild.BuildEnvironmentVariable(value=v, type=codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER)
                   for k, v in secrets.items()},
            },
            vpc=network.vpc if network else None,
            subnet_selection=ec2.SubnetSelection(subnets=network.vpc.private_subnets) if network else None,
            security_groups=[network.security_group] if network else None,
            # A bonus: the host's Docker layer cache survives only between builds close in time (minutes, not
            # hours). The lasting cache is the registry cache in cache_repository.
            cache=codebuild.Cache.local(codebuild.LocalCacheMode.DOCKER_LAYER),
            encryption_key=self.key,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.log_group, prefix="build")
            ),
        )
        if repository is not None:
            repository.grant_pull_push(project)
            repository.grant(project, "ecr:DescribeImages")
        cache_repository.grant_pull_push(project)
        nag.acknowledge(project, "AwsSolutions-IAM5[Resource::*]",
                        "ecr:GetAuthorizationToken has no resource-level permissions; pushes and pulls are "
                        "granted on the app and build-cache repositories only"
                        + ("; CodeBuild's VPC access describes subnets, VPCs, DHCP options and network "
                           "interfaces, which have no resource-level permissions" if network else ""))
        if network:
            vpc_policy = project.node.try_find_child("PolicyDocument")
            assert vpc_policy is not None, "CDK puts a CodeBuild project's VPC permissions in its own policy"
            checkov.skip(vpc_policy, "CKV_AWS_111",
                         "CodeBuild's VPC access: it creates and deletes a network interface per build, whose IDs "
                         "are unknown before, and describes subnets and VPCs, which have no resource-level "
                         "permissions")
            stack = cdk.Stack.of(self)
            interfaces = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
            nag.acknowledge(project, nag.resource_finding(project, "AwsSolutions-IAM5", interfaces),
                            "ec2:CreateNetworkInterfacePermission for the build's network interfaces, whose IDs "
                            "CodeBuild makes per build; CDK limits it by condition to the build's subnets and "
                            "to CodeBuild")
        return project

    # --- per environment -------------------------------------------------------------------------

    def _record_project(self, targets: Sequence[Target]) -> codebuild.PipelineProject:
        project = codebuild.PipelineProject(
            self, "Record",
            description=f"{cdk.Stack.of(self).stack_name}: records each environment's deployed image tag",
            build_spec=codebuild.BuildSpec.from_object(buildspec.record_build_spec()),
            environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE, compute_type=codebuild.ComputeType.SMALL),
            encryption_key=self.key,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.log_group, prefix="record")
            ),
        )
        for target in targets:
            target.image_tag_parameter.grant_write(project)
        return project

    def _go_live_project(self, targets: Sequence[Target]) -> codebuild.PipelineProject:
        """GoLive: after the first deploy to an environment, every service at the count its runtime stack
        publishes (``scripts/go-live.sh``); a no-op once the environment's image tag is recorded."""
        project = codebuild.PipelineProject(
            self, "GoLive",
            description=f"{cdk.Stack.of(self).stack_name}: brings each environment's services to their counts "
                        "when its first image is deployed",
            build_spec=codebuild.BuildSpec.from_object(buildspec.go_live_build_spec()),
            environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE, compute_type=codebuild.ComputeType.SMALL),
            encryption_key=self.key,
            timeout=self.deploy_timeout,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.log_group, prefix="go-live")
            ),
        )
        stack = cdk.Stack.of(self)
        services = []
        for target in targets:
            target.image_tag_parameter.grant_read(project)
            ssm.StringParameter.from_string_parameter_name(
                self, f"{target.env}-ServiceCounts", target.service_counts_parameter).grant_read(project)
            services += [stack.format_arn(service="ecs", resource="service",
                                          resource_name=f"{target.cluster_name}/{s}") for s in target.services.values()]
        project.add_to_role_policy(iam.PolicyStatement(
            actions=["ecs:DescribeServices", "ecs:UpdateService"], resources=services,
        ))
        project.add_to_role_policy(iam.PolicyStatement(
            actions=["application-autoscaling:RegisterScalableTarget"], resources=["*"],
            conditions={"StringEquals": {"application-autoscaling:service-namespace": "ecs",
                                         "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount"}},
        ))
        nag.acknowledge(project, "AwsSolutions-IAM5[Resource::*]",
                        "application-autoscaling:RegisterScalableTarget names scalable targets by IDs unknown "
                        "before they exist; the conditions hold it to ECS services' desired counts, and "
                        "ecs:UpdateService is on this app's services only")
        return project

    def _live_target_groups_project(self, targets: Sequence[Target]) -> codebuild.PipelineProject | None:
        """RecordLiveTargetGroups: after each deploy, which target group of each shifting web process holds its
        live tasks, read from its production rule's weights (``scripts/record-live-target-groups.sh``)."""
        if not any(t.live_target_groups for t in targets):
            return None
        project = codebuild.PipelineProject(
            self, "RecordLiveTargetGroups",
            description=f"{cdk.Stack.of(self).stack_name}: records which target group holds each shifting web "
                        "process's live tasks",
            build_spec=codebuild.BuildSpec.from_object(buildspec.live_target_groups_build_spec()),
            environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE, compute_type=codebuild.ComputeType.SMALL),
            encryption_key=self.key,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.log_group, prefix="live-target-groups")
            ),
        )
        for target in targets:
            for process, parameter in target.live_target_groups.items():
                parameter.grant_write(project)
                ssm.StringParameter.from_string_parameter_name(
                    self, f"{target.env}-{process}-Routing", target.routing_parameters[process]).grant_read(project)
        project.add_to_role_policy(iam.PolicyStatement(actions=["elasticloadbalancing:DescribeRules"], resources=["*"]))
        nag.acknowledge(project, "AwsSolutions-IAM5[Resource::*]",
                        "elasticloadbalancing:DescribeRules has no resource-level permissions; it only reads")
        return project

    @staticmethod
    def _live_target_group_variables(target: Target) -> dict[str, str]:
        return {
            "PROCESSES": " ".join(sorted(target.live_target_groups)),
            "PARAMETER_PREFIX": target.parameter_prefix,
            "LIVE_PRIMARY": naming.LIVE_PRIMARY,
            "LIVE_ALTERNATE": naming.LIVE_ALTERNATE,
        }

    def _record_after_any_deployment(self, target: Target, live: codebuild.PipelineProject,
                                     variables: Mapping[str, str]) -> None:
        """Every ECS deployment of a shifting service moves its traffic, also one a ``cdk deploy`` or the console
        starts: when one completes, EventBridge starts RecordLiveTargetGroups for the environment."""
        stack = cdk.Stack.of(self)
        events.Rule(
            self, f"{target.env}-DeploymentCompleted",
            description=f"{self.pipeline.pipeline_name}: records the live target groups in {target.env} after any "
                        "ECS deployment of a shifting service",
            event_pattern=events.EventPattern(
                source=["aws.ecs"], detail_type=["ECS Deployment State Change"],
                resources=[stack.format_arn(service="ecs", resource="service",
                                            resource_name=f"{target.cluster_name}/{target.services[p]}")
                           for p in sorted(target.live_target_groups)],
                detail={"eventName": ["SERVICE_DEPLOYMENT_COMPLETED"]},
            ),
            targets=[event_targets.CodeBuildProject(live, event=events.RuleTargetInput.from_object({
                "environmentVariablesOverride": [
                    {"name": k, "value": v, "type": "PLAINTEXT"} for k, v in variables.items()
                ],
            }))],
        )

    def _stage_actions(self, target: Target, record: codebuild.PipelineProject, go_live: codebuild.PipelineProject,
                       live: codebuild.PipelineProject | None, *,
                       gate_actions: GateActions | None) -> list[codepipeline.IAction]:
        stage: list[codepipeline.IAction] = []
        run_order = 1
        if target.approve:
            stage.append(actions.ManualApprovalAction(
                action_name="Approve", run_order=run_order, notification_topic=target.alarm_topic,
                additional_information=f"Deploy {self.image_uri} to {target.env}?",
            ))
            run_order += 1
        if target.env in self.provision_state_machines:
            stage.append(self._provision_action(target.env, run_order=run_order))
            run_order += 1
        if self.release is not None:
            image_uri = f"{target.image_repository}:{self.image_tag}" if target.image_repository else self.image_uri
            stage.append(self.release.action(target.env, input=self.build_output, image_uri=image_uri,
                                             run_order=run_order))
            run_order += 1
        role = self._deploy_role(target)
        stack = cdk.Stack.of(self)
        images = dict(input=self.build_output)
        if target.image_repository:
            images = dict(image_file=self.build_output.at_path(buildspec.image_definitions_file(target.env)))
        for process, service in target.services.items():
            arn = stack.format_arn(service="ecs", resource="service", resource_name=f"{target.cluster_name}/{service}")
            stage.append(actions.EcsDeployAction(
                action_name=f"Deploy-{process}", run_order=run_order, **images, role=role,
                deployment_timeout=self.deploy_timeout,
                service=ecs.BaseService.from_service_arn_with_cluster(self, f"{target.env}-{service}", arn),
            ))
        run_order += 1
        stage.append(actions.CodeBuildAction(
            action_name="GoLive", project=go_live, input=self.build_output, run_order=run_order,
            environment_variables={
                "CLUSTER": codebuild.BuildEnvironmentVariable(value=target.cluster_name),
                "IMAGE_TAG_PARAMETER": codebuild.BuildEnvironmentVariable(
                    value=target.image_tag_parameter.parameter_name),
                "SERVICE_COUNTS_PARAMETER": codebuild.BuildEnvironmentVariable(value=target.service_counts_parameter),
                "NO_IMAGE_TAG": codebuild.BuildEnvironmentVariable(value=target.no_image_tag),
            },
        ))
        run_order += 1
        stage.append(actions.CodeBuildAction(
            action_name="RecordImageTag", project=record, input=self.build_output, run_order=run_order,
            environment_variables={
                "IMAGE_TAG": codebuild.BuildEnvironmentVariable(value=self.image_tag),
                "IMAGE_TAG_PARAMETER": codebuild.BuildEnvironmentVariable(
                    value=target.image_tag_parameter.parameter_name),
            },
        ))
        if target.live_target_groups and live is not None:
            variables = self._live_target_group_variables(target)
            stage.append(actions.CodeBuildAction(
                action_name="RecordLiveTargetGroups", project=live, input=self.build_output, run_order=run_order,
                environment_variables={k: codebuild.BuildEnvironmentVariable(value=v) for k, v in variables.items()},
            ))
            self._record_after_any_deployment(target, live, variables)
        if gate_actions is not None:
            stage.extend(gate_actions(GateContext(
                env=target.env, run_order=run_order, input=self.build_output, image_uri=self.image_uri,
                image_tag=self.image_tag, encryption_key=self.key, log_group=self.log_group,
                acknowledge_project=self._acknowledge_project,
            )))
        return stage

    def _deploy_role(self, target: Target) -> iam.IRole:
        """What CodePipeline's ECS deploy action needs, for this environment's services only.

        The action would grant its role ECS and iam:PassRole on every resource; it gets this role without
        policy updates instead.
        """
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self, f"{target.env}-DeployRole", assumed_by=iam.ArnPrincipal(self.pipeline.role.role_arn),
            description=f"{stack.stack_name}: ECS deploys to {target.env}",
        )
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ecs:DescribeServices", "ecs:UpdateService"],
            resources=[
                stack.format_arn(service="ecs", resource="service", resource_name=f"{target.cluster_name}/{s}")
                for s in target.services.values()
            ],
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"], resources=["*"],
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ecs:TagResource"],
            resources=[stack.format_arn(service="ecs", resource="task-definition", resource_name=f"{f}:*")
                       for f in target.task_families],
            conditions={"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}},
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ecs:ListTasks"], resources=["*"],
            conditions={"ArnEquals": {"ecs:cluster": cluster_arn(stack, target.cluster_name)}},
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["ecs:DescribeTasks"],
            resources=[stack.format_arn(service="ecs", resource="task", resource_name=f"{target.cluster_name}/*")],
        ))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=app_role_arns(stack, self.project_name, self.app_name, target.env),
            conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ))
        self.artifact_bucket.grant_read(role)
        nag.acknowledge(role, "AwsSolutions-IAM5[Resource::*]",
                        "ecs:DescribeTaskDefinition and ecs:RegisterTaskDefinition take no resource ARN; "
                        "ecs:ListTasks is held to this environment's cluster by its ecs:cluster condition")
        for family in target.task_families:
            nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", stack.format_arn(
                service="ecs", resource="task-definition", resource_name=f"{family}:*")),
                f"ecs:TagResource on the revisions of {family} only, and only while registering them")
        nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", stack.format_arn(
            service="ecs", resource="task", resource_name=f"{target.cluster_name}/*")),
            f"ecs:DescribeTasks on the tasks of {target.env}'s cluster: task IDs are only known at run time")
        self._acknowledge_artifacts(role, writes=False, key=False)
        return role.without_policy_updates()

    def _provision_action(self, env: str, *, run_order: int) -> actions.StepFunctionInvokeAction:
        """Start ``env``'s database provision state machine and wait for it: the stage stops here when it fails.

        The state machine lives in the app's ``env`` stack; its ARN follows from its fixed name."""
        stack = cdk.Stack.of(self)
        name = self.provision_state_machines[env]
        machine = sfn.StateMachine.from_state_machine_arn(self, f"ProvisionDatabase-{env}", stack.format_arn(
            service="states", resource="stateMachine", resource_name=name, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        ))
        executions = stack.format_arn(service="states", resource="execution", resource_name=f"{name}:*",
                                      arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)
        nag.acknowledge(self.pipeline.role, nag.resource_finding(self.pipeline.role, "AwsSolutions-IAM5", executions),
                        f"states:DescribeExecution on the executions of {name} only: the action starts one per run")
        return actions.StepFunctionInvokeAction(
            action_name="ProvisionDatabase", state_machine=machine, run_order=run_order,
        )

    def _allow_encrypted_approval_topics(self) -> None:
        """Approval notifications are published with the pipeline's role, and the platform's topics are encrypted
        with a key of their own, whose ARN the pipeline does not know: any key, but only through SNS."""
        stack = cdk.Stack.of(self)
        keys = stack.format_arn(service="kms", resource="key", resource_name="*")
        self.pipeline.role.add_to_principal_policy(iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=[keys],
            conditions={"StringEquals": {"kms:ViaService": f"sns.{stack.region}.amazonaws.com"}},
        ))
        nag.acknowledge(self.pipeline.role, nag.resource_finding(self.pipeline.role, "AwsSolutions-IAM5", keys),
                        "Publishing an approval to the environment's encrypted alarm topic needs its key, whose ARN "
                        "only the platform stack knows; the kms:ViaService condition allows the key only through SNS")

    # --- acknowledgements of CDK's own grants ----------------------------------------------------

    def _acknowledge_artifacts(self, role: iam.IRole, *, writes: bool, key: bool) -> None:
        """What CDK grants a role on the artifact bucket, and on its key to those that encrypt artifacts."""
        reason = ("CDK's grant on this pipeline's own artifact bucket, which holds nothing else: CodePipeline "
                  "keys artifacts per execution, so no narrower prefix exists")
        for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*", *(("s3:Abort*", "s3:DeleteObject*") if writes else ())):
            nag.acknowledge(role, f"AwsSolutions-IAM5[Action::{action}]", reason)
        nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", f"{self.artifact_bucket.bucket_arn}/*"), reason)
        if key:
            for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
                nag.acknowledge(role, f"AwsSolutions-IAM5[Action::{action}]",
                                "Only on the artifact key (the statement's resource): artifacts are encrypted with data keys")

    def _acknowledge_project(self, project: codebuild.PipelineProject) -> None:
        """CDK grants every CodeBuild project its default log group and report groups, named after it."""
        role = project.role
        assert role is not None
        stack = cdk.Stack.of(self)
        logs_arn = stack.format_arn(service="logs", resource="log-group", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                                    resource_name=f"/aws/codebuild/{project.project_name}:*")
        nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", logs_arn),
                        "CodeBuild's default log group of this project (its streams); the project writes to the "
                        "pipeline's log group instead")
        reports_arn = stack.format_arn(service="codebuild", resource="report-group",
                                       resource_name=f"{project.project_name}-*")
        nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", reports_arn),
                        "Report groups named after this project only, which CDK grants every CodeBuild project")
        self._acknowledge_artifacts(role, writes=project is self.build_project, key=True)

    # --- notifications ---------------------------------------------------------------------------

    def _notify_failures(self, targets: Sequence[Target]) -> None:
        """A failed stage is announced on its environment's topic; Source and Build on the first one's."""
        for i, target in enumerate(targets):
            stages = ["Source", "Build", target.env] if i == 0 else [target.env]
            stage = events.EventField.from_path("$.detail.stage")
            execution = events.EventField.from_path("$.detail.execution-id")
            events.Rule(
                self, f"{target.env}-Failed",
                description=f"{self.pipeline.pipeline_name}: a failed {', '.join(stages)} stage",
                event_pattern=events.EventPattern(
                    source=["aws.codepipeline"],
                    detail_type=["CodePipeline Stage Execution State Change"],
                    detail={"pipeline": [self.pipeline.pipeline_name], "stage": stages, "state": ["FAILED"]},
                ),
                targets=[event_targets.SnsTopic(target.alarm_topic, message=events.RuleTargetInput.from_text(
                    f"{self.pipeline.pipeline_name}: stage {stage} failed (execution {execution})"
                ))],
            )
