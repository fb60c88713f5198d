"""DeliveryPipeline: git push -> image build with a lasting layer cache -> per environment: approval, release,
ECS deploys, recorded image tag, gates.

Each environment's stage is data (``stage_actions.StageAction``): the run order is computed from it, and the
failure notifications from the stages the pipeline has."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
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
from . import buildspec
from .build_projects import BuildNetwork, BuildProjects
from .release import ReleaseRunner
from .stage_actions import MakeAction, Phase, StageAction, pipeline_actions
from .task_runner import TaskRunnerGrant


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
class ActionContext:
    """What a further action of ``env``'s stage (e.g. the load-test gate) may use."""

    env: str
    input: codepipeline.Artifact
    """The build stage's output artifact (imagedefinitions.json)."""
    image_uri: str
    image_tag: str
    """Pipeline variable expressions (``#{Build.IMAGE_URI}``), resolved per execution."""
    projects: BuildProjects
    """Makes a CodeBuild project the way every project of this pipeline is made."""


MoreActions = Callable[[ActionContext], Sequence[StageAction]]
"""Gives the further actions of an environment's stage (e.g. the load-test gate after its deploy)."""


@dataclass(frozen=True)
class SourceRepository:
    """Either a CodeCommit repository or a CodeConnections connection with ``owner/name``."""

    branch: str
    codecommit: codecommit.IRepository | None = None
    connection_arn: str | None = None
    full_name: str | None = None


class DeliveryPipeline(Construct):
    """A CodePipeline V2: Source, Build, then one stage per target in order.

    Each target's stage is ``[Approve] -> [ProvisionDatabase] -> [Release] -> Deploy-<service>... -> GoLive ->
    RecordImageTag + [RecordLiveTargetGroups] + further actions``: the approval when ``target.approve``, the
    database provision when the target has a provision state machine, the release when ``release_command`` is
    given, one ECS deploy action per service (no CloudFormation update); GoLive brings every service to its count
    when this deploy carried the environment's first image (and does nothing afterwards); then the deployed tag is
    written to the target's SSM parameter, beside the actions ``more_actions`` gives for the target (none by
    default). The stage is data (``StageAction``), its run orders computed (``stage_actions.run_orders``).

    :param source: the repository and branch whose pushes start the pipeline.
    :param repository: where images go, tagged with the commit SHA; ``cache_repository``: the MUTABLE layer cache.
        None: images go to registries outside ECR, and ``build_variables`` names ``IMAGE_REPOSITORY_URI``.
    :param build_spec: the build stage's buildspec as data (``buildspec.image_build_spec``).
    :param compute: the image build's CodeBuild size.
    :param build_variables: more environment variables of the build (e.g. a further image's repository URI).
    :param build_secrets: environment variables of the build read from Secrets Manager (``<secret>:<json key>``).
    :param build_network: run the build in a VPC (``BuildNetwork``). Default: CodeBuild's own network.
    :param targets: the environments, in deploy order.
    :param release_command: the app's ``release``; None: no release step. ``release_timeout`` bounds it.
    :param buildpacks: the image is a buildpacks image: the release command goes to the CNB launcher.
    :param deploy_timeout: how long each ECS deploy action waits for its service's deployment.
    :param more_actions: gives each target's further actions (see ``ActionContext``), e.g. gates after the
        deploy. Default: none.
    :param provision_state_machines: env -> name of the state machine that provisions the app's database there
        (``app_database.AppDatabase``); each stage starts it before the release. Default: no provision step.

    Attributes: ``pipeline``, ``artifact_bucket``, ``projects`` (the CodeBuild project factory), ``build_project``,
    ``release`` (or None), ``stages`` (env -> stage), ``plans`` (env -> its ``StageAction`` list),
    ``build_output``, ``image_uri`` and ``image_tag`` (pipeline variables).
    """

    def __init__(self, scope: Construct, construct_id: str, *, pipeline_name: str, source: SourceRepository,
                 repository: ecr.IRepository | None, cache_repository: ecr.IRepository, build_spec: dict,
                 compute: codebuild.ComputeType, targets: Sequence[Target], project: str, app: str,
                 log_retention: logs.RetentionDays, log_group_name: str, release_command: str | None = None,
                 buildpacks: bool = False, release_timeout: cdk.Duration, deploy_timeout: cdk.Duration,
                 build_variables: Mapping[str, str] | None = None,
                 build_secrets: Mapping[str, str] | None = None, build_network: BuildNetwork | None = None,
                 more_actions: MoreActions | None = None,
                 provision_state_machines: Mapping[str, str] | None = None) -> None:
        super().__init__(scope, construct_id)
        if not targets:
            raise ValueError("a pipeline needs at least one target environment")
        self.project_name = project
        self.app_name = app
        self.deploy_timeout = deploy_timeout
        self.provision_state_machines = dict(provision_state_machines or {})
        self.key, self.artifact_bucket = self._artifacts(pipeline_name)
        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=log_group_name, retention=log_retention,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        self.projects = BuildProjects(encryption_key=self.key, log_group=self.log_group,
                                      artifact_bucket=self.artifact_bucket)
        self.pipeline = codepipeline.Pipeline(
            self, "Default", pipeline_name=pipeline_name, pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=self.artifact_bucket, use_pipeline_role_for_actions=True,
            restart_execution_on_update=False,
        )

        source_output = codepipeline.Artifact("Source")
        source_action = self._source_action(source, source_output)
        self.pipeline.add_stage(stage_name="Source", actions=[source_action])

        self.build_project = self._build_project(build_spec, compute, repository, cache_repository,
                                                 build_variables or {}, build_secrets or {}, build_network)
        self._build_stage(source_output, source_action)

        self.release = None
        if release_command is not None:
            self.release = ReleaseRunner(
                self, "Release", project=project, app=app, environments=[t.env for t in targets],
                command=release_command, timeout=release_timeout, projects=self.projects, buildpacks=buildpacks,
            )
        self._target_stages(targets, more_actions)
        self._depend_on_role_policy()

    def _artifacts(self, pipeline_name: str) -> tuple[kms.Key, s3.Bucket]:
        """The key of the pipeline's artifacts and builds, and the artifact bucket, with its acknowledgements."""
        key = kms.Key(
            self, "ArtifactsKey", description=f"{pipeline_name}: artifacts of the pipeline and its builds",
            enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        artifact_bucket = s3.Bucket(
            self, "Artifacts", encryption=s3.BucketEncryption.KMS, encryption_key=key, bucket_key_enabled=True,
            enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL, versioned=False,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        nag.acknowledge(artifact_bucket, "AwsSolutions-S1",
                        "Only this pipeline's roles read and write its artifacts, and CloudTrail records their "
                        "calls; server access logs would need a second bucket per app that nobody reads")
        checkov.skip(artifact_bucket, "CKV_AWS_18",
                     "Only this pipeline's roles read and write its artifacts, and CloudTrail records their calls; "
                     "server access logs would need a second bucket per app that nobody reads")
        checkov.skip(artifact_bucket, "CKV_AWS_21",
                     "CodePipeline writes each artifact once under a new key per execution and never overwrites "
                     "one; versions would only keep what the pipeline deletes")
        return key, artifact_bucket

    def _build_stage(self, source_output: codepipeline.Artifact,
                     source_action: actions.CodeCommitSourceAction | actions.CodeStarConnectionsSourceAction) -> None:
        """The Build stage (``build_output``), and its image URI and tag as pipeline variables."""
        self.build_output = codepipeline.Artifact("Image")
        build_action = actions.CodeBuildAction(
            action_name="Image", project=self.build_project, input=source_output, outputs=[self.build_output],
            variables_namespace="Build",
            environment_variables={
                "SOURCE_COMMIT": codebuild.BuildEnvironmentVariable(value=source_action.variables.commit_id),
            },
        )
        self.pipeline.add_stage(stage_name="Build", actions=[build_action])
        self.image_uri = build_action.variable("IMAGE_URI")
        self.image_tag = build_action.variable("IMAGE_TAG")

    def _target_stages(self, targets: Sequence[Target], more_actions: MoreActions | None) -> None:
        """One stage per target (``stages``, ``plans``), their shared projects, and their failure notices."""
        record = self._record_project(targets)
        go_live = self._go_live_project(targets)
        live = self._live_target_groups_project(targets)
        self.projects.acknowledge_artifacts(self.pipeline.role, writes=True, key=True)
        self.stages: dict[str, codepipeline.IStage] = {}
        self.plans: dict[str, list[StageAction]] = {}
        for target in targets:
            plan = self.plans[target.env] = [
                *self._pre_deploy(target),
                *self._deploys(target),
                *self._post_deploy(target, record, go_live, live),
                *(more_actions(self._context(target)) if more_actions else ()),
            ]
            self.stages[target.env] = self.pipeline.add_stage(stage_name=target.env, actions=pipeline_actions(plan))
        self._notify_failures({t.env: t.alarm_topic for t in targets})
        if any(t.approve for t in targets):
            self._allow_encrypted_approval_topics()

    def _depend_on_role_policy(self) -> None:
        """CDK makes the pipeline depend on its role, which RoleArn references already (cfn-lint W3005); what
        must exist before the pipeline is the role's policy."""
        policy = self.pipeline.role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(policy, cdk.CfnElement)
        resource = self.pipeline.node.default_child
        assert isinstance(resource, cdk.CfnResource)
        resource.add_override("DependsOn", [cdk.Stack.of(self).get_logical_id(policy)])

    # --- source and build ------------------------------------------------------------------------

    def _source_action(self, source: SourceRepository, output: codepipeline.Artifact,
                       ) -> actions.CodeCommitSourceAction | actions.CodeStarConnectionsSourceAction:
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

    def _build_project(self, spec: dict, compute: codebuild.ComputeType, repository: ecr.IRepository | None,
                       cache_repository: ecr.IRepository, variables: Mapping[str, str],
                       secrets: Mapping[str, str], network: BuildNetwork | None) -> codebuild.PipelineProject:
        project = self.projects.project(
            self, "Build",
            description=f"{cdk.Stack.of(self).stack_name}: builds the app image, tagged with the commit SHA",
            build_spec=spec, log_prefix="build", compute=compute,
            privileged=True,  # docker builds need the daemon
            variables={
                **({
                    "IMAGE_REPOSITORY_URI": repository.repository_uri,
                    "IMAGE_REPOSITORY_NAME": repository.repository_name,
                } if repository is not None else {}),
                "CACHE_REPOSITORY_URI": cache_repository.repository_uri,
                **variables,
            },
            secrets=secrets, network=network,
            # A bonus: the host's Docker layer cache survives only between builds close in time (minutes, not
            # hours). The lasting cache is the registry cache in cache_repository.
            cache=codebuild.Cache.local(codebuild.LocalCacheMode.DOCKER_LAYER),
            writes_artifacts=True,
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
        return project

    # --- per environment -------------------------------------------------------------------------

    def _record_project(self, targets: Sequence[Target]) -> codebuild.PipelineProject:
        project = self.projects.project(
            self, "Record",
            description=f"{cdk.Stack.of(self).stack_name}: records each environment's deployed image tag",
            build_spec=buildspec.record_build_spec(), log_prefix="record",
        )
        for target in targets:
            target.image_tag_parameter.grant_write(project)
        return project

    def _go_live_project(self, targets: Sequence[Target]) -> codebuild.PipelineProject:
        """GoLive: after the first deploy to an environment, every service at the count its runtime stack
        publishes (``scripts/go-live.sh``); a no-op once the environment's image tag is recorded."""
        project = self.projects.project(
            self, "GoLive",
            description=f"{cdk.Stack.of(self).stack_name}: brings each environment's services to their counts "
                        "when its first image is deployed",
            build_spec=buildspec.go_live_build_spec(), log_prefix="go-live", timeout=self.deploy_timeout,
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
        project = self.projects.project(
            self, "RecordLiveTargetGroups",
            description=f"{cdk.Stack.of(self).stack_name}: records which target group holds each shifting web "
                        "process's live tasks",
            build_spec=buildspec.live_target_groups_build_spec(), log_prefix="live-target-groups",
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

    # --- each environment's stage, as data ----------------------------------------------------------

    def _context(self, target: Target) -> ActionContext:
        return ActionContext(env=target.env, input=self.build_output, image_uri=self.image_uri,
                             image_tag=self.image_tag, projects=self.projects)

    def _pre_deploy(self, target: Target) -> list[StageAction]:
        """[Approve] -> [ProvisionDatabase] -> [Release], one after the other."""
        plan = []
        if target.approve:
            plan.append(StageAction("Approve", Phase.PRE_DEPLOY, partial(
                actions.ManualApprovalAction, notification_topic=target.alarm_topic,
                additional_information=f"Deploy {self.image_uri} to {target.env}?",
            )))
        if target.env in self.provision_state_machines:
            plan.append(StageAction("ProvisionDatabase", Phase.PRE_DEPLOY, self._provision_action(target.env)))
        if self.release is not None:
            image_uri = f"{target.image_repository}:{self.image_tag}" if target.image_repository else self.image_uri
            plan.append(StageAction("Release", Phase.PRE_DEPLOY, partial(
                self.release.action, target.env, input=self.build_output, image_uri=image_uri,
            )))
        return plan

    def _deploys(self, target: Target) -> list[StageAction]:
        """One ECS deploy action per service, all at once, with the environment's deploy role."""
        role = self._deploy_role(target)
        stack = cdk.Stack.of(self)
        # registry: s3: the environment's own image definitions file; otherwise the one of every environment.
        image_file = (self.build_output.at_path(buildspec.image_definitions_file(target.env))
                      if target.image_repository else None)
        plan: list[StageAction] = []
        for process, service in target.services.items():
            arn = stack.format_arn(service="ecs", resource="service", resource_name=f"{target.cluster_name}/{service}")
            plan.append(StageAction(f"Deploy-{process}", Phase.DEPLOY, partial(
                actions.EcsDeployAction, role=role,
                input=None if image_file else self.build_output, image_file=image_file,
                deployment_timeout=self.deploy_timeout,
                service=ecs.BaseService.from_service_arn_with_cluster(self, f"{target.env}-{service}", arn),
            ), beside=plan[0].name if plan else None))
        return plan

    def _post_deploy(self, target: Target, record: codebuild.PipelineProject, go_live: codebuild.PipelineProject,
                     live: codebuild.PipelineProject | None) -> list[StageAction]:
        """GoLive, then RecordImageTag with [RecordLiveTargetGroups] beside it."""
        def variables(values: Mapping[str, str]) -> dict[str, codebuild.BuildEnvironmentVariable]:
            return {k: codebuild.BuildEnvironmentVariable(value=v) for k, v in values.items()}

        tag_parameter = target.image_tag_parameter.parameter_name
        plan = [
            StageAction("GoLive", Phase.POST_DEPLOY, partial(
                actions.CodeBuildAction, project=go_live, input=self.build_output,
                environment_variables=variables({
                    "CLUSTER": target.cluster_name, "IMAGE_TAG_PARAMETER": tag_parameter,
                    "SERVICE_COUNTS_PARAMETER": target.service_counts_parameter, "NO_IMAGE_TAG": target.no_image_tag,
                }),
            )),
            StageAction("RecordImageTag", Phase.POST_DEPLOY, partial(
                actions.CodeBuildAction, project=record, input=self.build_output,
                environment_variables=variables({"IMAGE_TAG": self.image_tag, "IMAGE_TAG_PARAMETER": tag_parameter}),
            )),
        ]
        if target.live_target_groups and live is not None:
            live_variables = self._live_target_group_variables(target)
            plan.append(StageAction("RecordLiveTargetGroups", Phase.POST_DEPLOY, partial(
                actions.CodeBuildAction, project=live, input=self.build_output,
                environment_variables=variables(live_variables),
            ), beside="RecordImageTag"))
            self._record_after_any_deployment(target, live, live_variables)
        return plan

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
        TaskRunnerGrant(
            clusters=target.cluster_name, families=target.task_families, services=list(target.services.values()),
            roles=naming.app_roles(self.project_name, self.app_name, target.env),
            task_actions=["ecs:DescribeTasks"], list_tasks=True,
        ).grant(role, services_first=True)
        self.artifact_bucket.grant_read(role)
        self.projects.acknowledge_artifacts(role, writes=False, key=False)
        return role.without_policy_updates()

    def _provision_action(self, env: str) -> MakeAction:
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
        return partial(actions.StepFunctionInvokeAction, state_machine=machine)

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

    # --- notifications ---------------------------------------------------------------------------

    def _notify_failures(self, topics: Mapping[str, sns.ITopic]) -> None:
        """A failed stage is announced on the topic of the environment it leads to: an environment's own stage on
        its topic, any stage before it (Source, Build) on the next environment's, any after the last on the
        last's. Derived from the pipeline's stages, so a new stage is announced without a change here."""
        announced: dict[str, list[str]] = {env: [] for env in topics}
        waiting: list[str] = []
        for name in (stage.stage_name for stage in self.pipeline.stages):
            waiting.append(name)
            if name in topics:
                announced[name] += waiting
                waiting = []
        announced[list(topics)[-1]] += waiting
        for env, stages in announced.items():
            stage = events.EventField.from_path("$.detail.stage")
            execution = events.EventField.from_path("$.detail.execution-id")
            events.Rule(
                self, f"{env}-Failed",
                description=f"{self.pipeline.pipeline_name}: a failed {', '.join(stages)} stage",
                event_pattern=events.EventPattern(
                    source=["aws.codepipeline"],
                    detail_type=["CodePipeline Stage Execution State Change"],
                    detail={"pipeline": [self.pipeline.pipeline_name], "stage": stages, "state": ["FAILED"]},
                ),
                targets=[event_targets.SnsTopic(topics[env], message=events.RuleTargetInput.from_text(
                    f"{self.pipeline.pipeline_name}: stage {stage} failed (execution {execution})"
                ))],
            )
