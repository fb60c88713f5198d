"""The pipeline's scripts as shipped, run by real bash and the real AWS CLI against moto's server on 127.0.0.1.

What moto stands in for, and what it cannot show:
- ECS: task definitions (with tags), services, run-task/describe-tasks/stop-task, waiters. It runs no container:
  a task either stops at once with exit code 0 (``reset(tasks="stop")``) or runs until stopped (``"run"``). The
  Locust master's run is played by tests/aws_hooks/aws (``AWS_PLAY_MASTER``); its IP is ``None`` (moto gives
  Fargate tasks no network interface in describe-tasks). Exit codes other than 0 and ECS's stop reasons are
  shown on describe-tasks documents in tests/test_pipeline.py and tests/test_loadtest_pipeline.py.
- ECR (describe-images: ImageNotFoundException, RepositoryNotFoundException, and AccessDeniedException from
  moto's own IAM evaluation, ``enable_iam_authentication``), SSM, S3, Cloud Map (register/deregister-instance)
  answer for real. Throttling, which moto never does, is injected by tests/aws_hooks/aws (``AWS_FAIL``), as is
  any failure of a named call.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from typing import Any

import boto3
import pytest
import requests
from moto.core import enable_iam_authentication

from shipway import naming, templates
from shipway.constructs import buildspec
from shipway.loadtest import gate_construct, image

from .codebuild import REAL_AWS, REGION, aws_env, reset, run_buildspec, unset_transitions

TAGS = [{"key": "shipway:app", "value": "minne"}, {"key": "team", "value": "payments"}]


@pytest.fixture
def endpoint(moto_s3):
    """moto's server (every service, not only S3) on 127.0.0.1."""
    yield moto_s3
    unset_transitions(moto_s3)


def client(endpoint: str, service: str):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def build_spec_named(template: dict, construct: str) -> dict:
    (project,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodeBuild::Project"
                  and r["Metadata"]["aws:cdk:path"].endswith(f"/{construct}/Resource")]
    return json.loads(project["Properties"]["Source"]["BuildSpec"])


def project_variables(template: dict, construct: str) -> dict:
    (project,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodeBuild::Project"
                  and r["Metadata"]["aws:cdk:path"].endswith(f"/{construct}/Resource")]
    return {v["Name"]: v["Value"] for v in project["Properties"]["Environment"].get("EnvironmentVariables", [])}


def calls(log) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_the_scripts_run_the_pinned_cli_from_the_venv(tmp_path):
    env = aws_env("http://127.0.0.1:9", tmp_path)
    assert shutil.which("aws", path=env["PATH"]) == str(REAL_AWS)
    version = subprocess.run(["aws", "--version"], env=env, capture_output=True, text=True, check=True)
    assert (version.stdout + version.stderr).startswith("aws-cli/1.46.3 ")


# --- the build: does the commit's image exist? -----------------------------------------------------------


def image_check(build: str, **arguments: str) -> str:
    """The image check every build shares (``unless_image_exists`` in scripts/functions.sh.j2) around ``build``."""
    macros: Any = templates.package_environment().get_template("scripts/functions.sh.j2").module  # Jinja macros
    (command,) = templates.commands(macros.unless_image_exists(build, **arguments))
    return command


@pytest.fixture
def image_repository(endpoint):
    reset(endpoint, tasks="stop")
    ecr = client(endpoint, "ecr")
    ecr.create_repository(repositoryName="acme/minne")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1,
                           "digest": "sha256:" + "a" * 64}, "layers": []}
    ecr.put_image(repositoryName="acme/minne", imageManifest=json.dumps(manifest), imageTag="built-before")
    return endpoint


def keys_without_describe_images(endpoint: str) -> dict[str, str]:
    """Access keys of a user that may pull images but not describe them (moto evaluates its policy)."""
    iam = client(endpoint, "iam")
    iam.create_user(UserName="builder")
    iam.put_user_policy(UserName="builder", PolicyName="pull", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["ecr:BatchGetImage"], "Resource": "*"}]}))
    key = iam.create_access_key(UserName="builder")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


@pytest.mark.parametrize(("repository", "tag", "fail", "outcome"), [
    ("acme/minne", "0a1b2c3", "", "built"),                      # ImageNotFoundException: build it
    ("acme/minne", "built-before", "", "reused"),                # a retried commit reuses its image
    # any other answer fails loudly: moto's own errors, its IAM evaluation, an injected throttle
    ("acme/gone", "0a1b2c3", "", "RepositoryNotFoundException"),
    ("acme/minne", "0a1b2c3", "", "AccessDeniedException"),
    ("acme/minne", "0a1b2c3", "ecr describe-images", "ThrottlingException"),
])
def test_only_image_not_found_builds_the_image(image_repository, tmp_path, repository, tag, fail, outcome):
    check = image_check("touch built")
    denied = outcome == "AccessDeniedException"
    env = aws_env(image_repository, tmp_path, hooks=True, AWS_FAIL=fail, IMAGE_REPOSITORY_NAME=repository,
                  IMAGE_TAG=tag, IMAGE_URI=f"repo/{repository}:{tag}",
                  **(keys_without_describe_images(image_repository) if denied else {}))
    with enable_iam_authentication() if denied else contextlib.nullcontext():
        result = run_buildspec({"phases": {"build": {"commands": [check]}}}, tmp_path, env)
    built = (tmp_path / "built").exists()
    if outcome == "built":
        assert result.returncode == 0 and built, result.stderr
    elif outcome == "reused":
        assert result.returncode == 0 and not built, result.stderr
        assert f"repo/acme/minne:{tag} exists; not building it again" in result.stdout
    else:
        assert result.returncode != 0 and not built
        # moto answers a denied JSON-protocol call with an XML body, which the CLI prints as "(403)"
        assert (f"<Code>{outcome.removesuffix('Exception')}" if denied else f"({outcome})") in result.stderr
        assert "not building over an immutable tag" in result.stderr


def test_the_app_and_load_test_images_share_the_check(minne_template):
    (check, *_) = build_spec_named(minne_template, "Delivery/Build")["phases"]["build"]["commands"]
    assert check.startswith(image_check("BUILD").split("then BUILD")[0])
    assert "(ImageNotFoundException)" in check
    (loadtest_check,) = [c for c in image.build_commands("loadtest/locustfile.py") if "describe-images" in c]
    assert loadtest_check.startswith(image_check(
        "BUILD", repository="LOADTEST_REPOSITORY_NAME", uri="LOADTEST_IMAGE_URI").split("then BUILD")[0])


def test_the_tag_and_uri_are_exported_for_codebuilds_exported_variables(minne_template, tmp_path):
    """exported-variables reads the build's exported environment: a child process must see both values."""
    spec = build_spec_named(minne_template, "Delivery/Build")
    assert spec["env"]["exported-variables"] == ["IMAGE_TAG", "IMAGE_URI"]
    resolve = [c for c in spec["phases"]["pre_build"]["commands"] if "IMAGE_" in c and "docker login" not in c]
    spec = {"phases": {"build": {"commands": [*resolve, "printenv IMAGE_TAG IMAGE_URI > exported.txt"]}}}
    result = run_buildspec(spec, tmp_path, {"PATH": "/usr/bin:/bin", "SOURCE_COMMIT": "0a1b2c3",
                                            "IMAGE_REPOSITORY_URI": "repo/acme/minne"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "exported.txt").read_text().splitlines() == ["0a1b2c3", "repo/acme/minne:0a1b2c3"]


# --- the release step ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def minne_template(shipped_templates) -> dict:
    return shipped_templates["acme-minne"]


def network(endpoint: str) -> tuple[str, str, str]:
    ec2 = client(endpoint, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # as the platform's VPC has it (and moto's awsvpc tasks need it: it names their network interface)
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="apps", Description="apps", VpcId=vpc)["GroupId"]
    return vpc, subnet, group


def release_account(endpoint: str, *, tasks: str) -> dict[str, str]:
    """What the release step reads in staging: the cluster, the release family (tagged), the SSM parameters."""
    reset(endpoint, tasks=tasks)
    _, subnet, group = network(endpoint)
    ecs, ssm = client(endpoint, "ecs"), client(endpoint, "ssm")
    ecs.create_cluster(clusterName="acme-staging")
    family = naming.task_family("acme", "minne", "staging", "release")
    ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        # moto needs a container's memory to place a task; ECS takes the task's
        containerDefinitions=[{"name": naming.CONTAINER_NAME, "image": "repo/acme/minne:none", "memory": 512}],
        tags=TAGS,
    )
    variables = {
        "IMAGE_URI": "repo/acme/minne:0a1b2c3",
        "CLUSTER": "acme-staging",
        "TASK_FAMILY": family,
        "SUBNETS_PARAMETER": naming.parameter("acme", "staging", naming.Param.PRIVATE_SUBNETS),
        "SECURITY_GROUP_PARAMETER": naming.parameter("acme", "staging", naming.Param.APP_SECURITY_GROUP),
    }
    ssm.put_parameter(Name=variables["SUBNETS_PARAMETER"], Value=subnet, Type="String")
    ssm.put_parameter(Name=variables["SECURITY_GROUP_PARAMETER"], Value=group, Type="String")
    return variables


def release_spec(template: dict) -> dict:
    spec = build_spec_named(template, "Delivery/Release/Default")
    assert spec == buildspec.release_build_spec("bundle exec rails db:migrate", wait_rounds=3)
    return spec


def test_the_release_runs_the_new_image_in_a_revision_that_keeps_its_tags(minne_template, endpoint, tmp_path):
    variables = release_account(endpoint, tasks="stop")
    result = run_buildspec(release_spec(minne_template), tmp_path, aws_env(endpoint, tmp_path, **variables))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "container app: exit code 0" in result.stdout and "release exited 0" in result.stdout
    ecs = client(endpoint, "ecs")
    described = ecs.describe_task_definition(taskDefinition=f"{variables['TASK_FAMILY']}:2", include=["TAGS"])
    assert described["taskDefinition"]["containerDefinitions"][0]["image"] == "repo/acme/minne:0a1b2c3"
    assert described["tags"] == TAGS
    (task,) = ecs.list_tasks(cluster="acme-staging", startedBy="shipway-release")["taskArns"]
    (run,) = ecs.describe_tasks(cluster="acme-staging", tasks=[task])["tasks"]
    assert run["taskDefinitionArn"].endswith(f"{variables['TASK_FAMILY']}:2")


def test_a_release_past_its_timeout_is_stopped_and_fails(minne_template, endpoint, tmp_path):
    """The migration never ends: every waiter round gives up, the step fails and its finally stops the task,
    so a retry cannot start a second migration beside it."""
    variables = release_account(endpoint, tasks="run")
    log = tmp_path / "calls.log"
    env = aws_env(endpoint, tmp_path, hooks=True, AWS_CALL_LOG=str(log), **variables)
    result = run_buildspec(release_spec(minne_template), tmp_path, env)
    assert result.returncode != 0
    assert "the release task is still RUNNING after the release timeout" in result.stderr
    assert "release exited" not in result.stdout
    assert calls(log).count("ecs wait") == 3 + 1  # three rounds, then the wait for the stop
    ecs = client(endpoint, "ecs")
    (task,) = ecs.list_tasks(cluster="acme-staging", startedBy="shipway-release")["taskArns"]
    (stopped,) = ecs.describe_tasks(cluster="acme-staging", tasks=[task])["tasks"]
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stoppedReason"] == "shipway: the release step ended before the task stopped"


def test_a_release_that_cannot_be_stopped_says_so(minne_template, endpoint, tmp_path):
    variables = release_account(endpoint, tasks="run")
    env = aws_env(endpoint, tmp_path, hooks=True, AWS_FAIL="ecs stop-task", **variables)
    result = run_buildspec(release_spec(minne_template), tmp_path, env)
    assert result.returncode != 0
    assert "could not stop the release task arn:aws:ecs:" in result.stderr
    assert "stop it before a retry runs another" in result.stderr


# --- the load-test gate ----------------------------------------------------------------------------------


def gate_account(endpoint: str, template: dict, tmp_path, **more: str) -> dict[str, str]:
    """What the gate finds in staging, and its build's environment: the project's variables as synthesized
    (deploy-time tokens replaced), the action's, and CodeBuild's build ID."""
    reset(endpoint, tasks="run")
    vpc, subnet, group = network(endpoint)
    variables = project_variables(template, "LoadTestGate/Default")
    variables |= {"LOADTEST_REPOSITORY_URI": "repo/acme/minne-loadtest",
                  "RESULTS_BUCKET": "acme-minne-staging-loadtest-123456789012-us-east-1"}
    assert all(isinstance(v, str) for v in variables.values()), variables
    ecs, ssm, discovery = client(endpoint, "ecs"), client(endpoint, "ssm"), client(endpoint, "servicediscovery")
    client(endpoint, "s3").create_bucket(Bucket=variables["RESULTS_BUCKET"])
    ecs.create_cluster(clusterName=variables["CLUSTER"])
    for family, container in ((variables["MASTER_FAMILY"], "master"), (variables["WORKER_FAMILY"], "worker")):
        ecs.register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="1024", memory="2048",
            containerDefinitions=[{"name": container, "image": "repo/acme/minne-loadtest:old", "memory": 2048}],
            tags=TAGS,
        )
    ecs.create_service(cluster=variables["CLUSTER"], serviceName=variables["WORKER_SERVICE"], desiredCount=0,
                       taskDefinition=variables["WORKER_FAMILY"], launchType="FARGATE", networkConfiguration={
                           "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}})
    operation = discovery.create_private_dns_namespace(Name="staging.acme.internal", Vpc=vpc)["OperationId"]
    namespace = discovery.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    service = discovery.create_service(Name=naming.loadtest_master_discovery("minne"), NamespaceId=namespace,
                                       DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]})["Service"]["Id"]
    for name, value in ((variables["SUBNETS_PARAMETER"], subnet), (variables["MASTER_SECURITY_GROUP_PARAMETER"], group),
                        (variables["DISCOVERY_SERVICE_PARAMETER"], service)):
        ssm.put_parameter(Name=name, Value=value, Type="String")
    return aws_env(endpoint, tmp_path, hooks=True, AWS_CALL_LOG=str(tmp_path / "calls.log"), AWS_PLAY_MASTER="1",
                   IMAGE_TAG="0a1b2c3", EXECUTION_ID="exec-1", **variables, **more) | {"DISCOVERY": service}


def gate_spec(template: dict) -> dict:
    spec = build_spec_named(template, "LoadTestGate/Default")
    assert spec == gate_construct.gate_build_spec()
    return spec


def left_behind(endpoint: str, env: dict[str, str]) -> dict:
    """What a finished gate leaves: the workers' count, the masters still running, Cloud Map's instances."""
    ecs = client(endpoint, "ecs")
    (service,) = ecs.describe_services(cluster=env["CLUSTER"], services=[env["WORKER_SERVICE"]])["services"]
    tasks = ecs.list_tasks(cluster=env["CLUSTER"], startedBy="shipway-loadtest")["taskArns"]
    running = [t["taskArn"] for t in ecs.describe_tasks(cluster=env["CLUSTER"], tasks=tasks)["tasks"]
               if t["lastStatus"] != "STOPPED"] if tasks else []
    instances = client(endpoint, "servicediscovery").list_instances(ServiceId=env["DISCOVERY"])["Instances"]
    return {"workers": service["desiredCount"], "masters running": running, "registered": instances,
            "masters started": len(tasks)}


def test_a_retried_gate_prints_its_own_attempts_summary(minne_template, endpoint, tmp_path):
    """A Retry keeps the pipeline execution ID: each attempt's results live under its own build ID."""
    spec = gate_spec(minne_template)
    env = gate_account(endpoint, minne_template, tmp_path, CODEBUILD_BUILD_ID="LoadTestGate:first-attempt")
    first = run_buildspec(spec, tmp_path, env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "played by the test under exec-1/first-attempt" in first.stdout
    assert "load-test gate passed" in first.stdout
    second = run_buildspec(spec, tmp_path, env | {"CODEBUILD_BUILD_ID": "LoadTestGate:second-attempt"})
    assert second.returncode == 0, second.stdout + second.stderr
    assert "played by the test under exec-1/second-attempt" in second.stdout
    assert "first-attempt" not in second.stdout
    assert left_behind(endpoint, env) == {"workers": 0, "masters running": [], "registered": [], "masters started": 2}
    ecs = client(endpoint, "ecs")
    for family in (env["MASTER_FAMILY"], env["WORKER_FAMILY"]):
        revision = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
        assert revision["taskDefinition"]["revision"] == 3  # one per attempt
        assert revision["taskDefinition"]["containerDefinitions"][0]["image"] == "repo/acme/minne-loadtest:0a1b2c3"
        assert revision["tags"] == TAGS


def test_a_gate_without_a_build_id_fails_before_it_starts_anything(minne_template, endpoint, tmp_path):
    env = gate_account(endpoint, minne_template, tmp_path)
    result = run_buildspec(gate_spec(minne_template), tmp_path, env)
    assert result.returncode != 0 and "no pipeline execution ID, image tag or CodeBuild build ID" in result.stderr
    assert calls(tmp_path / "calls.log") == ["ecs update-service"]  # only the cleanup's scale-down


def test_a_master_that_never_runs_fails_the_gate_with_its_reasons(minne_template, endpoint, tmp_path):
    env = gate_account(endpoint, minne_template, tmp_path, CODEBUILD_BUILD_ID="LoadTestGate:attempt")
    reset_tasks = {"progression": "immediate"}  # the master stops before it runs
    requests.post(f"{endpoint}/moto-api/state-manager/set-transition", timeout=10,
                  json={"model_name": "ecs::task", "transition": reset_tasks}).raise_for_status()
    result = run_buildspec(gate_spec(minne_template), tmp_path, env)
    assert result.returncode != 0
    assert "master stopped: -; container master: exit code 0, reason: -" in result.stdout  # moto's stopped task
    assert "the Locust master never ran (it stopped, see above" in result.stderr
    # never registered: nothing to deregister; the workers' scale-down and the master's stop still run
    assert calls(tmp_path / "calls.log")[-2:] == ["ecs update-service", "ecs stop-task"]
    assert "servicediscovery register-instance" not in calls(tmp_path / "calls.log")


@pytest.mark.parametrize("failing", [
    # ECS throttles both the scale-up and the scale-down: the gate fails, the master is still deregistered
    # and stopped
    ["ecs update-service"],
    # the gate passed, but its master could be neither deregistered nor stopped: the build fails, naming both
    ["servicediscovery deregister-instance", "ecs stop-task"],
])
def test_every_cleanup_step_runs_when_another_fails(minne_template, endpoint, tmp_path, failing):
    env = gate_account(endpoint, minne_template, tmp_path, CODEBUILD_BUILD_ID="LoadTestGate:attempt",
                       AWS_FAIL="\n".join(failing))
    result = run_buildspec(gate_spec(minne_template), tmp_path, env)
    assert result.returncode != 0
    cleanup = calls(tmp_path / "calls.log")[-3:]
    assert cleanup == ["ecs update-service", "servicediscovery deregister-instance", "ecs stop-task"]
    after = left_behind(endpoint, env)
    assert "the load-test gate's cleanup failed:" in result.stderr
    if failing == ["ecs update-service"]:
        assert "load-test gate passed" not in result.stdout
        assert "scaling the workers of minne-loadtest-worker to 0;" in result.stderr
        assert after["registered"] == [] and after["masters running"] == []
    else:
        assert "load-test gate passed" in result.stdout  # the verdict stands; the cleanup fails the build
        assert "deregistering " in result.stderr and "stopping the master arn:aws:ecs:" in result.stderr
        assert after["workers"] == 0
