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
parameters at run time: the pipeline stack deploys first and never references that stack.
"""

from __future__ import annotations

import json
import math

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from .. import nag, naming
from ..loadtest import image
from ..loadtest.commands import WORKERS_MAX_WAIT
from ..loadtest.runner import STOP_MARGIN
from ..naming import LoadTestParam, Param
from ..spec import Spec
from . import buildspec
from .build_projects import BuildProjects
from .buildspec import _fail, _fail_expanding, _q
from .loadtest import MASTER_CONTAINER, WORKER_CONTAINER
from .release import parameter_arn
from .task_runner import TaskRunnerGrant

# Before the master runs: registering revisions and starting the task (`aws ecs wait tasks-running`: 10 min).
START_MINUTES = 12
POLL_SECONDS = 15


def wait_seconds(run_seconds: int) -> int:
    """How long the gate waits for the master to stop once it runs: its run, its wait for workers, its stop."""
    return run_seconds + WORKERS_MAX_WAIT + 2 * STOP_MARGIN


def gate_commands() -> list[str]:
    """Register, start, register in Cloud Map, scale the workers up, wait (bounded), judge."""
    network = ("awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$MASTER_SECURITY_GROUP],"
               "assignPublicIp=DISABLED}")
    overrides = json.dumps({"containerOverrides": [{"name": MASTER_CONTAINER, "environment": [
        {"name": "SHIPWAY_RESULTS_KEY", "value": "@KEY@"}]}]}, separators=(",", ":"))
    overrides = overrides.replace('"', '\\"').replace("@KEY@", "$RESULTS_KEY")
    describe_master = 'aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$MASTER_TASK"'
    status = f"{describe_master} --query 'tasks[0].lastStatus' --output text"
    return [
        '{ [ -n "$EXECUTION_ID" ] && [ -n "$IMAGE_TAG" ] && [ -n "${CODEBUILD_BUILD_ID:-}" ]; } || '
        + _fail("no pipeline execution ID, image tag or CodeBuild build ID"),
        # A Retry of the stage keeps the execution ID; the build ID (project:uuid) is this attempt's own.
        'RESULTS_KEY="$EXECUTION_ID/${CODEBUILD_BUILD_ID##*:}"',
        'echo "results: s3://$RESULTS_BUCKET/$RESULTS_KEY/"',
        'LOADTEST_IMAGE_URI="$LOADTEST_REPOSITORY_URI:$IMAGE_TAG"',
        *buildspec.register_revision(family="MASTER_FAMILY", container=MASTER_CONTAINER, image="LOADTEST_IMAGE_URI",
                                     result="MASTER_TASK_DEFINITION", stem="loadtest-master"),
        *buildspec.register_revision(family="WORKER_FAMILY", container=WORKER_CONTAINER, image="LOADTEST_IMAGE_URI",
                                     result="WORKER_TASK_DEFINITION", stem="loadtest-worker"),
        *[
            f'{variable}=$(aws ssm get-parameter --name "${parameter}" --query Parameter.Value --output text)'
            for variable, parameter in (("SUBNETS", "SUBNETS_PARAMETER"),
                                        ("MASTER_SECURITY_GROUP", "MASTER_SECURITY_GROUP_PARAMETER"),
                                        ("DISCOVERY_SERVICE_ID", "DISCOVERY_SERVICE_PARAMETER"))
        ],
        'MASTER_TASK=$(aws ecs run-task --cluster "$CLUSTER" --task-definition "$MASTER_TASK_DEFINITION"'
        " --capacity-provider-strategy capacityProvider=FARGATE,weight=1"
        f' --network-configuration "{network}" --overrides "{overrides}"'
        " --started-by shipway-loadtest --query 'tasks[0].taskArn' --output text)",
        '[ "${MASTER_TASK:-None}" != None ] || ' + _fail("run-task started no Locust master"),
        'MASTER_ID="${MASTER_TASK##*/}"',
        'echo "Locust master: $MASTER_TASK"',
        # A master that stops before it runs (an image that cannot be pulled, no capacity) says why here.
        'aws ecs wait tasks-running --cluster "$CLUSTER" --tasks "$MASTER_TASK" || { '
        f"{describe_master} --output json > loadtest-master.json; "
        + " ".join(f"{c};" for c in buildspec.read_stop("loadtest-master.json", container=MASTER_CONTAINER,
                                                        prefix="MASTER", label="master"))
        + " "
        + _fail("the Locust master never ran (it stopped, see above, or did not start within 10 minutes)")
        + "; }",
        f"MASTER_IP=$({describe_master} --query 'tasks[0].containers[0].networkInterfaces[0].privateIpv4Address'"
        " --output text)",
        # Noted first: a registration that fails after Cloud Map accepted it still gets deregistered.
        'MASTER_REGISTERED=1',
        'aws servicediscovery register-instance --service-id "$DISCOVERY_SERVICE_ID" --instance-id "$MASTER_ID"'
        ' --attributes "AWS_INSTANCE_IPV4=$MASTER_IP" > /dev/null',
        'echo "Locust master registered in Cloud Map as $MASTER_ID ($MASTER_IP)"',
        'aws ecs update-service --cluster "$CLUSTER" --service "$WORKER_SERVICE"'
        ' --task-definition "$WORKER_TASK_DEFINITION" --desired-count "$WORKERS" > /dev/null',
        'echo "$WORKERS workers starting; waiting up to $WAIT_SECONDS s for the master"',
        # Bounded: past the deadline the build fails, and `finally` stops the master and the workers.
        f'DEADLINE=$((SECONDS + WAIT_SECONDS)); until [ "$({status})" = STOPPED ] || [ "$SECONDS" -ge "$DEADLINE" ];'
        f" do sleep {POLL_SECONDS}; done",
        f'[ "$({status})" = STOPPED ] || ' + _fail("timeout: the Locust master was still running; the gate fails"),
        f"{describe_master} --output json > loadtest-master.json",
        'aws s3 cp "s3://$RESULTS_BUCKET/$RESULTS_KEY/summary.md" loadtest-summary.md --only-show-errors || '
        'echo "no summary in s3://$RESULTS_BUCKET/$RESULTS_KEY/ (the master stopped before writing one)"'
        ' > loadtest-summary.md',
        *judge("loadtest-master.json", "loadtest-summary.md"),
    ]


def judge(described: str, summary: str) -> list[str]:
    """The verdict on the master's ``describe-tasks`` document: its container's exit code is the gate's.

    0 passed; 1 is the master's own verdict (thresholds, no requests, or a Locust that failed: the summary
    says which); anything else, or no exit code at all (killed: out of memory, stopped), is a master that
    never reached a verdict, and the message says so with the exit code and the reasons ECS gives.
    """
    verdict = _fail_expanding("the load-test gate failed: the master's verdict is exit code 1 (see the summary above)")
    crashed = _fail_expanding(
        "the load-test gate failed: the Locust master ended without a verdict (exit code $MASTER_EXIT, reason:"
        " $MASTER_REASON; task stopped: $MASTER_STOPPED); its log stream loadtest-master/... says why"
    )
    return [
        f"cat {_q(summary)}",
        *buildspec.read_stop(described, container=MASTER_CONTAINER, prefix="MASTER", label="master"),
        f'[ "$MASTER_EXIT" != 1 ] || {verdict}',
        f'[ "$MASTER_EXIT" = 0 ] || {crashed}',
        'echo "load-test gate passed"',
    ]


def cleanup_commands() -> list[str]:
    """Always, every step whatever the others did: workers back to 0, the master deregistered from Cloud Map
    and stopped.

    CodeBuild stops a ``finally`` block at its first failing command, as it does ``commands``: one failed call
    would skip the steps after it (a stale Cloud Map record beside the next run's master, a master left
    running). So no step fails on its own; each failure is noted, and the last command fails the build when
    any step failed, naming them.
    """
    failed = _fail_expanding("the load-test gate's cleanup failed:$CLEANUP_FAILED (see the errors above)")
    return [
        'CLEANUP_FAILED=""',
        'if aws ecs update-service --cluster "$CLUSTER" --service "$WORKER_SERVICE" --desired-count 0 > /dev/null;'
        ' then echo "workers scaled back to 0";'
        ' else CLEANUP_FAILED="$CLEANUP_FAILED scaling the workers of $WORKER_SERVICE to 0;"; fi',
        'if [ -n "${MASTER_REGISTERED:-}" ]; then if aws servicediscovery deregister-instance'
        ' --service-id "$DISCOVERY_SERVICE_ID" --instance-id "$MASTER_ID" > /dev/null;'
        ' then echo "Locust master deregistered from Cloud Map";'
        ' else CLEANUP_FAILED="$CLEANUP_FAILED deregistering $MASTER_ID from Cloud Map service $DISCOVERY_SERVICE_ID;";'
        " fi; fi",
        'if [ -n "${MASTER_TASK:-}" ] && [ "$MASTER_TASK" != None ]; then if aws ecs stop-task --cluster "$CLUSTER"'
        ' --task "$MASTER_TASK" --reason "load-test gate finished" > /dev/null; then echo "Locust master stopped";'
        ' else CLEANUP_FAILED="$CLEANUP_FAILED stopping the master $MASTER_TASK;"; fi; fi',
        f'[ -z "$CLEANUP_FAILED" ] || {failed}',
    ]


def gate_build_spec() -> dict:
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {"build": {"commands": gate_commands(), "finally": cleanup_commands()}},
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

    def action(self, *, input: codepipeline.Artifact, image_tag: str, run_order: int) -> actions.CodeBuildAction:
        return actions.CodeBuildAction(
            action_name="LoadTest",
            project=self.project,
            input=input,
            run_order=run_order,
            environment_variables={
                "IMAGE_TAG": codebuild.BuildEnvironmentVariable(value=image_tag),
                "EXECUTION_ID": codebuild.BuildEnvironmentVariable(value="#{codepipeline.PipelineExecutionId}"),
            },
        )


def loadtest_repository(scope: Construct, *, spec: Spec, app: str) -> ecr.Repository | None:
    """The app's load-test image repository in ``<name>-<app>``, when the app has a load test."""
    if spec.apps[app].loadtest is None:
        return None
    build = spec.apps[app].build
    return ecr.Repository(
        scope, "LoadTestRepository",
        repository_name=naming.loadtest_repository(spec.name, app),
        image_scan_on_push=True,
        image_tag_mutability=ecr.TagMutability.IMMUTABLE,
        encryption=ecr.RepositoryEncryption.KMS,
        lifecycle_rules=[
            ecr.LifecycleRule(rule_priority=1, description="untagged images: failed or interrupted pushes",
                              tag_status=ecr.TagStatus.UNTAGGED, max_image_age=cdk.Duration.days(build.untagged_days)),
            ecr.LifecycleRule(rule_priority=2, description=f"keep the newest {build.keep_images} images",
                              tag_status=ecr.TagStatus.ANY, max_image_count=build.keep_images),
        ],
        removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    )


def add_image_build(build_spec: dict, *, locustfile: str) -> dict:
    """The build stage's buildspec, which also builds and pushes the load-test image with the commit's tag."""
    phases = build_spec["phases"]
    if buildspec.buildx_setup()[1] not in phases["install"]["commands"]:  # a buildpacks app: no builder yet
        phases["install"]["commands"] = [*phases["install"]["commands"], *buildspec.buildx_setup()]
    phases["build"]["commands"] = [*phases["build"]["commands"], *image.build_commands(locustfile)]
    return build_spec
