"""The pipeline's load-test gate: a CodeBuild action after the deploy of ``loadtest.environment``.

It registers revisions of the master and worker task definitions with this commit's load-test image, runs
the master as a one-off task, registers its address in Cloud Map (the name the workers dial), scales the
workers to ``loadtest.workers``, waits for the master to stop (bounded), prints the summary the master put
in the results bucket under ``<pipeline execution ID>/<build ID>`` (a Retry keeps the execution ID, so each
attempt needs a key of its own), and fails the stage unless the master exited 0 (it exits 1 on a failed gate
and otherwise when it crashed). Whatever happens, the ``finally`` block scales the workers back to 0,
deregisters the master and stops it: each step runs even when another failed, and any failed step fails
the build.

The addresses the app-env stack creates (master security group, Cloud Map service) are read from its SSM
parameters at run time: the pipeline stack deploys first and never references that stack. The gate's shell is
``shipway/loadtest/gate.sh.j2``.
"""

from __future__ import annotations

import math

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from .. import nag, naming, templates
from ..constructs.build_projects import BuildProjects
from ..constructs.release import parameter_arn
from ..constructs.task_runner import TaskRunnerGrant
from ..naming import LoadTestParam, Param
from .commands import WORKERS_MAX_WAIT
from .limits import STOP_MARGIN
from .locust_construct import MASTER_CONTAINER, WORKER_CONTAINER

# Before the master runs: registering revisions and starting the task (`aws ecs wait tasks-running`: 10 min).
START_MINUTES = 12
POLL_SECONDS = 15


def wait_seconds(run_seconds: int) -> int:
    """How long the gate waits for the master to stop once it runs: its run, its wait for workers, its stop."""
    return run_seconds + WORKERS_MAX_WAIT + 2 * STOP_MARGIN


def gate_build_spec() -> dict:
    """The gate's buildspec: its commands and its ``finally`` cleanup (``shipway/loadtest/gate.sh.j2``)."""
    phases = templates.shell_phases("loadtest/gate.sh.j2", master_container=MASTER_CONTAINER,
                                    worker_container=WORKER_CONTAINER, poll_seconds=POLL_SECONDS)
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {"build": {"commands": phases["build"], "finally": phases["build_finally"]}},
    }


class LoadTestGate(Construct):
    """A CodeBuild project that runs ``env``'s load test; ``action`` puts it in that environment's stage.

    Its role may do what the gate does, on this app's load-test resources in ``env`` only: Cloud Map
    registrations in the service tagged with the master's DNS name, Route 53 changes in ``hosted_zone_id`` (the
    private hosted zone of ``env``'s namespace, which Cloud Map changes as the caller).
    """

    def __init__(self, scope: Construct, construct_id: str, *, project: str, app: str, env: str, workers: int,
                 run_seconds: int, repository: ecr.IRepository, projects: BuildProjects, hosted_zone_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.env_name = env
        cluster = naming.cluster_name(project, env)
        worker_service = naming.service_name(app, naming.LOADTEST_WORKER)
        master_family = naming.task_family(project, app, env, naming.LOADTEST_MASTER)
        worker_family = naming.task_family(project, app, env, naming.LOADTEST_WORKER)
        bucket = naming.loadtest_results_bucket(project, app, env, stack.account, stack.region)
        parameters = {key: naming.loadtest_parameter(project, app, env, key)
                      for key in (LoadTestParam.MASTER_SECURITY_GROUP, LoadTestParam.DISCOVERY_SERVICE_ID)}
        subnets = naming.parameter(project, env, Param.PRIVATE_SUBNETS)
        self.variables = {
            "CLUSTER": cluster,
            "MASTER_FAMILY": master_family,
            "WORKER_FAMILY": worker_family,
            "WORKER_SERVICE": worker_service,
            "WORKERS": str(workers),
            "WAIT_SECONDS": str(wait_seconds(run_seconds)),
            "LOADTEST_REPOSITORY_URI": repository.repository_uri,
            "RESULTS_BUCKET": bucket,
            "SUBNETS_PARAMETER": subnets,
            "MASTER_SECURITY_GROUP_PARAMETER": parameters[LoadTestParam.MASTER_SECURITY_GROUP],
            "DISCOVERY_SERVICE_PARAMETER": parameters[LoadTestParam.DISCOVERY_SERVICE_ID],
        }
        self.project = projects.project(
            self, "Default",
            description=f"shipway {project} {app}: the load-test gate after the deploy to {env}",
            build_spec=gate_build_spec(), log_prefix="loadtest", variables=self.variables,
            timeout=cdk.Duration.minutes(START_MINUTES + math.ceil(wait_seconds(run_seconds) / 60) + 5),
        )
        role = self.project.role
        assert role is not None
        # Registers the master's and workers' revisions, runs the master, points the workers' service at theirs.
        TaskRunnerGrant(
            clusters=cluster, families=[master_family, worker_family], runs=[master_family],
            services=[worker_service], roles=naming.loadtest_roles(project, app, env),
        ).grant(role)
        discovery_arn = stack.format_arn(service="servicediscovery", resource="service", resource_name="*")
        master_host = f"{naming.loadtest_master_discovery(app)}.{naming.namespace(project, env)}"
        hosted_zone = f"arn:{stack.partition}:route53:::hostedzone/{hosted_zone_id}"
        statements = [
            (["ssm:GetParameter"], [parameter_arn(stack, p) for p in (subnets, *parameters.values())], None),
            # Cloud Map service IDs are the app-env stack's (deployed after this one): the tag names the service.
            (["servicediscovery:RegisterInstance", "servicediscovery:DeregisterInstance"], [discovery_arn],
             {"StringEquals": {f"aws:ResourceTag/{naming.DISCOVERY_TAG}": master_host}}),
            # Cloud Map writes the master's A record into the namespace's private hosted zone as the caller.
            (["route53:GetHostedZone", "route53:ChangeResourceRecordSets"], [hosted_zone], None),
            (["s3:GetObject"], [f"arn:{stack.partition}:s3:::{bucket}/*"], None),
        ]
        for verbs, resources, conditions in statements:
            role.add_to_principal_policy(iam.PolicyStatement(actions=verbs, resources=resources, conditions=conditions))
        self._acknowledge(role, discovery_arn, bucket)

    def _acknowledge(self, role: iam.IRole, discovery: str, bucket: str) -> None:
        stack = cdk.Stack.of(self)
        findings = {
            discovery: "Cloud Map (de)registration, only in the service tagged with the Locust master's DNS name "
                       "(condition aws:ResourceTag): its ID is the app-env stack's, which deploys after this one",
            f"arn:{stack.partition}:s3:::{bucket}/*": "Reading the run's summary from the results bucket, keyed "
                                                      "by pipeline execution ID",
        }
        for arn, reason in findings.items():
            nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", arn), reason)

    def action(self, *, input: codepipeline.Artifact, image_tag: str, action_name: str,
               run_order: int) -> actions.CodeBuildAction:
        return actions.CodeBuildAction(
            action_name=action_name,
            project=self.project,
            input=input,
            run_order=run_order,
            environment_variables={
                "IMAGE_TAG": codebuild.BuildEnvironmentVariable(value=image_tag),
                "EXECUTION_ID": codebuild.BuildEnvironmentVariable(value="#{codepipeline.PipelineExecutionId}"),
            },
        )


def loadtest_repository(scope: Construct, *, repository_name: str, untagged_days: int,
                        keep_images: int) -> ecr.Repository:
    """The app's load-test image repository in ``<name>-<app>``: immutable tags, scanned, encrypted, retained;
    untagged images (failed or interrupted pushes) expire after ``untagged_days``, and the newest
    ``keep_images`` are kept."""
    return ecr.Repository(
        scope, "LoadTestRepository",
        repository_name=repository_name,
        image_scan_on_push=True,
        image_tag_mutability=ecr.TagMutability.IMMUTABLE,
        encryption=ecr.RepositoryEncryption.KMS,
        lifecycle_rules=[
            ecr.LifecycleRule(rule_priority=1, description="untagged images: failed or interrupted pushes",
                              tag_status=ecr.TagStatus.UNTAGGED, max_image_age=cdk.Duration.days(untagged_days)),
            ecr.LifecycleRule(rule_priority=2, description=f"keep the newest {keep_images} images",
                              tag_status=ecr.TagStatus.ANY, max_image_count=keep_images),
        ],
        removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    )
