"""Runtime stacks for what the shipped spec does not exercise: linear and rolling web deploys, a Spot
Fleet pool, SSM and complete Secrets Manager ARNs, a fixed count, a cron job on a pool, a buildpacks app's
release, worker command and cron job."""

from __future__ import annotations

import json
import shlex

import pytest
from aws_cdk.assertions import Template

from shipway.spec import parse_spec
from shipway.synth import synthesize

from .lint import cfn_lint

SPEC = """
name: var
environments:
  dev:
    cluster:
      pools:
        fleet:
          provisioning: spot-fleet
          instance_types: [c6i.large]
          capacity: 2
          metadata: {loadtest: "true"}
apps:
  shop:
    source: {codecommit: shop}
    secrets:
      API_TOKEN: "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/api-token"
      SIGNING_KEY: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/signing-AbC123"
    processes:
      web: {port: 8080, hosts: [shop.example.com], count: 3, slow_start: 0}
      batch: {capacity: "pool:fleet", placement: {loadtest: "true"}, command: "bin/batch"}
    cron:
      sweep: {schedule: "rate(1 hour)", command: "bin/sweep --all", size: 2x, capacity: "pool:fleet"}
    deploy: {strategy: linear, percent: 20, bake_minutes: 2}
  plain:
    source: {codecommit: plain}
    processes:
      web: {port: 80, hosts: [plain.example.com]}
  packs:
    source: {codecommit: packs}
    build: {buildpacks: "heroku/builder:24"}
    release: bundle exec rails db:migrate
    processes:
      web: {port: 8080, hosts: [packs.example.com]}
      worker: {command: "bundle exec sidekiq -c $SIDEKIQ_THREADS"}
      clock: {}
    cron:
      report: {schedule: "rate(1 day)", command: "bundle exec rails reports:nightly"}
"""


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    return synthesize(parse_spec(SPEC), tmp_path_factory.mktemp("variants"))


@pytest.fixture(scope="module")
def shop(variants) -> Template:
    return Template.from_json(variants.templates()["var-shop-dev"])


@pytest.fixture(scope="module")
def plain(variants) -> Template:
    return Template.from_json(variants.templates()["var-plain-dev"])


# --- a buildpacks image starts everything through the CNB launcher ----------------------------------


def _app_container(template: Template, family: str) -> dict:
    (task,) = [t for t in template.find_resources("AWS::ECS::TaskDefinition").values()
               if t["Properties"]["Family"] == family]
    (container,) = [c for c in task["Properties"]["ContainerDefinitions"] if c["Name"] == "app"]
    return container


def _argv(container: dict, overrides: dict | None = None) -> list[str]:
    """What the container runs, as ECS composes it: the entry point, then the command (a run's override wins)."""
    (override,) = (overrides or {"containerOverrides": [{}]})["containerOverrides"]
    return [*container.get("EntryPoint", ["<image entrypoint>"]),
            *override.get("command", container.get("Command", ["<image command>"]))]


@pytest.fixture(scope="module")
def packs(variants) -> Template:
    return Template.from_json(variants.templates()["var-packs-dev"])


def test_buildpacks_processes_start_through_the_launcher(packs):
    # A command is the launcher's one argument, which it runs as a bash script in the buildpacks' environment.
    assert _argv(_app_container(packs, "var-packs-dev-worker")) == [
        "launcher", "bundle exec sidekiq -c $SIDEKIQ_THREADS"]
    # Without a command, the Procfile type of the process's name.
    assert _argv(_app_container(packs, "var-packs-dev-web")) == ["/cnb/process/web", "<image command>"]
    assert _argv(_app_container(packs, "var-packs-dev-clock")) == ["/cnb/process/clock", "<image command>"]
    # The one-off task definition has the launcher and leaves the command to each run.
    one_off = _app_container(packs, "var-packs-dev-release")
    assert one_off["EntryPoint"] == ["launcher"] and "Command" not in one_off


def test_buildpacks_cron_and_release_runs_give_the_launcher_their_command(variants, packs):
    one_off = _app_container(packs, "var-packs-dev-release")
    (schedule,) = packs.find_resources("AWS::Scheduler::Schedule").values()
    cron = json.loads(schedule["Properties"]["Target"]["Input"])
    assert _argv(one_off, cron) == ["launcher", "bundle exec rails reports:nightly"]
    pipeline = Template.from_json(variants.templates()["var-packs"])
    (release,) = [p for p in pipeline.find_resources("AWS::CodeBuild::Project").values()
                  if "release command" in p["Properties"]["Description"]]
    commands = json.loads(release["Properties"]["Source"]["BuildSpec"])["phases"]["build"]["commands"]
    (run_task,) = [c for c in commands if "aws ecs run-task" in c]
    overrides = json.loads(shlex.split(run_task.split("--overrides ", 1)[1])[0])
    assert _argv(one_off, overrides) == ["launcher", "bundle exec rails db:migrate"]


def test_dockerfile_processes_keep_the_image_entry_point_and_a_shell(shop, variants):
    batch = _app_container(shop, "var-shop-dev-batch")
    assert _argv(batch) == ["<image entrypoint>", "/bin/sh", "-c", "bin/batch"]
    assert "EntryPoint" not in _app_container(shop, "var-shop-dev-release")


def service(template: Template, name: str) -> dict:
    (found,) = template.find_resources("AWS::ECS::Service", {"Properties": {"ServiceName": name}}).values()
    return found["Properties"]


def test_variants_pass_cfn_lint(variants):
    assert cfn_lint(variants.outdir) == []


def test_linear_deploy_shifts_in_steps(shop):
    config = service(shop, "shop-web")["DeploymentConfiguration"]
    assert config["Strategy"] == "LINEAR"
    assert config["LinearConfiguration"] == {"StepPercent": 20, "StepBakeTimeInMinutes": 2}
    assert config["BakeTimeInMinutes"] == 2


def test_rolling_web_has_one_target_group_and_a_plain_forward(plain):
    web = service(plain, "plain-web")
    assert web["DeploymentConfiguration"]["Strategy"] == "ROLLING"
    assert "AdvancedConfiguration" not in web["LoadBalancers"][0]
    plain.resource_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", 1)
    (rule,) = plain.find_resources("AWS::ElasticLoadBalancingV2::ListenerRule").values()
    assert rule["Properties"]["Actions"][0]["Type"] == "forward"
    assert web["DesiredCount"] == {"Fn::If": ["ImageBuilt", 1, 0]}


def test_slow_start_zero_turns_it_off(shop):
    for group in shop.find_resources("AWS::ElasticLoadBalancingV2::TargetGroup").values():
        keys = {a["Key"] for a in group["Properties"]["TargetGroupAttributes"]}
        assert "slow_start.duration_seconds" not in keys


def test_spot_fleet_pool_uses_launch_type_ec2_pinned_to_the_pool(shop):
    batch = service(shop, "shop-batch")
    assert batch["LaunchType"] == "EC2"
    assert "CapacityProviderStrategy" not in batch
    assert batch["PlacementConstraints"] == [
        {"Type": "memberOf", "Expression": "attribute:shipway.pool == fleet"},
        {"Type": "memberOf", "Expression": "attribute:loadtest == true"},
    ]


def test_cron_on_a_pool_places_like_a_service_and_sizes_itself(shop):
    (schedule,) = shop.find_resources("AWS::Scheduler::Schedule").values()
    target = schedule["Properties"]["Target"]
    parameters = target["EcsParameters"]
    assert parameters["LaunchType"] == "EC2"
    assert "AssignPublicIp" not in parameters["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert parameters["PlacementConstraints"][0] == {
        "Type": "memberOf", "Expression": "attribute:shipway.pool == fleet"}
    assert [s["Type"] for s in parameters["PlacementStrategy"]] == ["spread", "binpack"]
    overrides = json.loads(target["Input"])
    assert (overrides["cpu"], overrides["memory"]) == ("512", "1024")
    assert overrides["containerOverrides"][0]["command"] == ["/bin/sh", "-c", "bin/sweep --all"]


def test_ssm_and_complete_secret_arns_are_granted_exactly(shop):
    statements = [
        s for policy in shop.find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    ssm = [s for s in statements if "ssm:GetParameters" in s["Action"]]
    assert [s["Resource"] for s in ssm] == ["arn:aws:ssm:eu-west-1:123456789012:parameter/shop/api-token"]
    reads = next(s for s in statements if "secretsmanager:GetSecretValue" in s["Action"])
    assert "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/signing-AbC123" in reads["Resource"]
    (definition,) = next(iter(shop.find_resources(
        "AWS::ECS::TaskDefinition", {"Properties": {"Family": "var-shop-dev-web"}}
    ).values()))["Properties"]["ContainerDefinitions"]
    secrets = {s["Name"]: s["ValueFrom"] for s in definition["Secrets"]}
    assert secrets["API_TOKEN"] == "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/api-token"
