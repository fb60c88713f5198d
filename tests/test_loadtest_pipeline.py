"""The pipeline's load-test gate: the action after staging's deploy, its commands, its rights, its verdict."""

from __future__ import annotations

import json
import subprocess

import pytest
from aws_cdk.assertions import Match, Template

from shipway.constructs import buildspec
from shipway.loadtest import gate_construct, image

MASTER_ROLES = [f"acme-minne-staging-loadtest-{r}-{k}" for r in ("master", "worker") for k in ("task", "execution")]


@pytest.fixture(scope="module")
def pipeline(shipped) -> Template:
    return Template.from_stack(shipped.stack("acme-minne"))


def _stages(template: Template) -> dict[str, list[tuple[str, int]]]:
    (resource,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    return {s["Name"]: [(a["Name"], a["RunOrder"]) for a in s["Actions"]] for s in resource["Properties"]["Stages"]}


def test_the_gate_runs_after_stagings_deploy_only(pipeline, shipped):
    stages = _stages(pipeline)
    record = dict(stages["staging"])["RecordImageTag"]
    assert ("LoadTest", record) in stages["staging"]  # beside the tag record, after every deploy action
    assert all(order < record for name, order in stages["staging"] if name.startswith("Deploy-"))
    assert "LoadTest" not in dict(stages["production"])
    blog = Template.from_stack(shipped.stack("acme-blog"))
    assert all("LoadTest" not in dict(actions) for actions in _stages(blog).values())
    assert not blog.find_resources("AWS::ECR::Repository", {"Properties": {"RepositoryName": "acme/blog-loadtest"}})


def test_the_gate_addresses_what_the_staging_stack_creates(pipeline, shipped):
    (project,) = pipeline.find_resources("AWS::CodeBuild::Project", {
        "Properties": {"Description": Match.string_like_regexp("load-test gate")}}).values()
    variables = {v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]}
    runtime = Template.from_stack(shipped.stack("acme-minne-staging"))
    families = {r["Properties"]["Family"] for r in runtime.find_resources("AWS::ECS::TaskDefinition").values()}
    assert {variables["MASTER_FAMILY"], variables["WORKER_FAMILY"]} <= families
    runtime.has_resource_properties("AWS::ECS::Service", {"ServiceName": variables["WORKER_SERVICE"],
                                                          "Cluster": variables["CLUSTER"]})
    for parameter in ("MASTER_SECURITY_GROUP_PARAMETER", "DISCOVERY_SERVICE_PARAMETER"):
        runtime.has_resource_properties("AWS::SSM::Parameter", {"Name": variables[parameter]})
    runtime.has_resource_properties("AWS::S3::Bucket", {"BucketName": variables["RESULTS_BUCKET"]})
    roles = {r["Properties"]["RoleName"] for r in runtime.find_resources("AWS::IAM::Role").values()
             if "RoleName" in r["Properties"]}
    assert set(MASTER_ROLES) <= roles
    assert variables["WORKERS"] == "4"
    assert variables["WAIT_SECONDS"] == str(180 + 300 + 60)  # 3m run, the master's wait for workers, stop margins
    assert project["Properties"]["TimeoutInMinutes"] > int(variables["WAIT_SECONDS"]) / 60 + 10


def test_the_gate_role_may_do_only_its_job(pipeline):
    policies = pipeline.find_resources("AWS::IAM::Policy", {
        "Properties": {"Roles": [{"Ref": Match.string_like_regexp("LoadTestGateRole")}]}})
    (policy,) = policies.values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_action = {json.dumps(s["Action"]): s for s in statements}
    run = by_action['"ecs:RunTask"']
    assert "acme-minne-staging-loadtest-master:*" in json.dumps(run["Resource"])
    assert "loadtest-worker" not in json.dumps(run["Resource"])
    assert "ecs:cluster" in json.dumps(run["Condition"])
    update = by_action['["ecs:DescribeServices", "ecs:UpdateService"]']
    assert json.dumps(update["Resource"]).endswith('":service/acme-staging/minne-loadtest-worker"]]}')
    passed = by_action['"iam:PassRole"']
    assert [json.dumps(r)[-60:] for r in passed["Resource"]] and all(
        any(name in json.dumps(r) for r in passed["Resource"]) for name in MASTER_ROLES)
    assert passed["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert '"s3:GetObject"' in by_action
    assert not any(a in json.dumps(statements) for a in ('"ecs:*"', '"s3:*"', '"iam:*"', "s3:PutObject"))


def test_the_gate_changes_dns_only_in_its_environments_namespace(pipeline, shipped):
    (policy,) = pipeline.find_resources("AWS::IAM::Policy", {
        "Properties": {"Roles": [{"Ref": Match.string_like_regexp("LoadTestGateRole")}]}}).values()
    by_action = {json.dumps(s["Action"]): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    route53 = by_action['["route53:ChangeResourceRecordSets", "route53:GetHostedZone"]']
    assert "hostedzone/*" not in json.dumps(route53)
    (zone_parameter,) = [part["Ref"] for part in route53["Resource"]["Fn::Join"][1] if isinstance(part, dict)
                         and "Ref" in part and part["Ref"].startswith("SsmParameterValue")]
    parameters = pipeline.to_json()["Parameters"]
    assert parameters[zone_parameter]["Default"] == "/shipway/acme/staging/discovery/hosted-zone-id"
    platform = Template.from_stack(shipped.stack("acme-staging-platform"))
    platform.has_resource_properties("AWS::SSM::Parameter", {
        "Name": "/shipway/acme/staging/discovery/hosted-zone-id",
        "Value": {"Fn::GetAtt": [Match.string_like_regexp("^Namespace"), "HostedZoneId"]},
    })
    # Cloud Map: only the service tagged with the staging master's name, which the staging stack tags so.
    discovery = by_action['["servicediscovery:DeregisterInstance", "servicediscovery:RegisterInstance"]']
    master = "minne-loadtest-master.staging.acme.internal"
    assert discovery["Condition"] == {"StringEquals": {"aws:ResourceTag/shipway:discovery": master}}
    runtime = Template.from_stack(shipped.stack("acme-minne-staging"))
    runtime.has_resource_properties("AWS::ServiceDiscovery::Service", {
        "Tags": Match.array_with([{"Key": "shipway:discovery", "Value": master}]),
    })


def test_the_build_stage_also_builds_the_load_test_image(pipeline):
    pipeline.has_resource("AWS::ECR::Repository", {
        "Properties": Match.object_like({"RepositoryName": "acme/minne-loadtest", "ImageTagMutability": "IMMUTABLE",
                                         "ImageScanningConfiguration": {"ScanOnPush": True}}),
        "DeletionPolicy": "RetainExceptOnCreate",
    })
    (build,) = pipeline.find_resources("AWS::CodeBuild::Project", {
        "Properties": {"Description": Match.string_like_regexp("builds the app image")}}).values()
    spec = json.dumps(build["Properties"]["Source"]["BuildSpec"])
    assert "--build-context app=loadtest" in spec and '--tag \\\\\\"$LOADTEST_IMAGE_URI\\\\\\"' in spec
    assert isinstance(build["Properties"]["Source"]["BuildSpec"], str)  # no deploy-time tokens in a buildspec
    (policy,) = pipeline.find_resources("AWS::IAM::Policy", {
        "Properties": {"Roles": [{"Ref": Match.string_like_regexp("DeliveryBuildRole")}]}}).values()
    pushes = [json.dumps(s["Resource"]) for s in policy["Properties"]["PolicyDocument"]["Statement"]
              if "ecr:PutImage" in s["Action"]]
    assert any("LoadTestRepository" in resource for resource in pushes)


def test_a_buildpacks_app_gets_a_builder_for_the_load_test_image():
    spec = buildspec.image_build_spec(dockerfile=None, buildpacks="heroku/builder:24",
                                      extra_builds=image.build_commands("locustfile.py"))
    install = spec["phases"]["install"]["commands"]
    assert install[0].startswith("curl ") and install[-1] == "docker buildx inspect --bootstrap"
    assert "docker buildx create --name shipway --driver docker-container --use" in install
    (app, *loadtest) = spec["phases"]["build"]["commands"]
    assert "pack build" in app and loadtest == image.build_commands("locustfile.py")


@pytest.mark.parametrize("phase", ["commands", "finally"])
def test_every_gate_command_is_valid_bash(phase):
    commands = gate_construct.gate_build_spec()["phases"]["build"][phase]
    for command in commands:
        result = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True, check=False)
        assert result.returncode == 0, (command, result.stderr)


def test_workers_go_back_to_zero_always():
    """Every cleanup step runs, and fails the build when it fails (run against moto: tests/test_pipeline_scripts.py)."""
    cleanup = gate_construct.gate_build_spec()["phases"]["build"]["finally"]
    assert cleanup[1].startswith('if aws ecs update-service --cluster "$CLUSTER" --service "$WORKER_SERVICE"')
    assert "--desired-count 0" in cleanup[1]
    assert not any("|| true" in c for c in cleanup)
    assert cleanup[-1].startswith('[ -z "$CLEANUP_FAILED" ] ||')


def _judge(tmp_path, containers, reason="Essential container in task exited"):
    """The gate's verdict as shipped, from ``cat loadtest-summary.md`` on, run by bash on a describe-tasks answer."""
    commands = gate_construct.gate_build_spec()["phases"]["build"]["commands"]
    judge = commands[commands.index("cat loadtest-summary.md"):]
    assert judge[-1] == 'echo "load-test gate passed"'
    (tmp_path / "loadtest-master.json").write_text(
        json.dumps({"tasks": [{"stoppedReason": reason, "containers": containers}]}))
    (tmp_path / "loadtest-summary.md").write_text("# Load test: SOMETHING\n")
    return subprocess.run(["bash", "-e", "-c", "\n".join(judge)], cwd=tmp_path, capture_output=True, text=True,
                          check=False, timeout=30)


def test_the_verdict_is_the_masters_exit_code(tmp_path):
    passed = _judge(tmp_path, [{"name": "master", "exitCode": 0}])
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.splitlines() == [
        "# Load test: SOMETHING",
        "master stopped: Essential container in task exited; container master: exit code 0, reason: -",
        "load-test gate passed",
    ]
    failed = _judge(tmp_path, [{"name": "master", "exitCode": 1}])
    assert failed.returncode != 0
    assert failed.stderr.strip() == ("the load-test gate failed: the master's verdict is exit code 1 "
                                     "(see the summary above)")


@pytest.mark.parametrize(("container", "printed"), [
    # killed for memory: an exit code, and ECS's reason, which the message must carry
    ({"name": "master", "exitCode": 137, "reason": "OutOfMemoryError: Container killed due to memory usage"},
     "exit code 137, reason: OutOfMemoryError: Container killed due to memory usage;"),
    # never exited at all (stopped before it ran): no exit code
    ({"name": "master", "reason": "CannotPullContainerError: not found"},
     "exit code none, reason: CannotPullContainerError: not found;"),
])
def test_a_master_without_a_verdict_is_not_reported_as_a_threshold_failure(tmp_path, container, printed):
    crashed = _judge(tmp_path, [{"name": "log-router", "exitCode": 0}, container],
                     reason="Essential container in task exited")
    assert crashed.returncode != 0
    assert "the Locust master ended without a verdict (" + printed in crashed.stderr
    assert "task stopped: Essential container in task exited)" in crashed.stderr
    assert "verdict is exit code 1" not in crashed.stderr


def test_the_docs_shell_examples_are_valid_bash():
    import re

    from shipway.synth import ROOT

    text = (ROOT / "docs" / "loadtest.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) >= 4
    for block in blocks:
        result = subprocess.run(["bash", "-n", "-c", block], capture_output=True, text=True, check=False)
        assert result.returncode == 0, (block[:200], result.stderr)
    # the documented names are the ones the stacks use
    for name in ("acme-minne-staging-loadtest-master", "minne-loadtest-worker",
                 "minne-loadtest-master.staging.acme.internal", "acme/minne-loadtest", "locustio/locust:2.47.0"):
        assert name in text, name


def test_the_master_learns_its_results_key_from_the_execution_and_build_ids():
    """A Retry keeps the execution ID; the CodeBuild build ID makes each attempt's key its own."""
    commands = gate_construct.gate_build_spec()["phases"]["build"]["commands"]
    (key,) = [c for c in commands if c.startswith("RESULTS_KEY=")]
    (run,) = [c for c in commands if c.startswith("MASTER_TASK=$(aws ecs run-task")]
    overrides = run.split("--overrides ", 1)[1].split(" --started-by", 1)[0]
    script = f"EXECUTION_ID=0a1b2c3d-exec; CODEBUILD_BUILD_ID=LoadTestGate:77f0-attempt; {key}; printf %s {overrides}"
    printed = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(printed) == {"containerOverrides": [{"name": "master", "environment": [
        {"name": "SHIPWAY_RESULTS_KEY", "value": "0a1b2c3d-exec/77f0-attempt"}]}]}
