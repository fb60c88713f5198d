"""The `<name>-<app>-<env>` stacks of the shipped spec: minne (canary, pool, autoscale, cron) and blog
(blue/green, Fargate Spot), one assertion group per point of issue 4 and the service side of issue 5."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match, Template

from shipway import naming
from shipway.spec import listener_priority, load_spec
from shipway.spec.model import MAX_MODELED_WAIT
from shipway.synth import ROOT

from .conftest import SHIPPED

MINNE = "acme-minne-production"
MINNE_STAGING = "acme-minne-staging"
BLOG = "acme-blog-production"
RUNTIME_STACKS = [MINNE, MINNE_STAGING, BLOG, "acme-blog-staging"]


@pytest.fixture(scope="module")
def spec():
    return load_spec(SHIPPED)


@pytest.fixture(scope="module")
def minne(shipped_templates) -> Template:
    return Template.from_json(shipped_templates[MINNE])


@pytest.fixture(scope="module")
def blog(shipped_templates) -> Template:
    return Template.from_json(shipped_templates[BLOG])


def resources(template: Template, kind: str) -> Mapping[str, Mapping[str, Any]]:
    return template.find_resources(kind)


def only(template: Template, kind: str, props: dict | None = None) -> tuple[str, Mapping[str, Any]]:
    found = template.find_resources(kind, {"Properties": props} if props else None)
    assert len(found) == 1, f"{kind} matching {props}: {list(found)}"
    return next(iter(found.items()))


def service(template: Template, name: str) -> dict:
    return only(template, "AWS::ECS::Service", {"ServiceName": name})[1]["Properties"]


def task_definition(template: Template, family: str) -> dict:
    return only(template, "AWS::ECS::TaskDefinition", {"Family": family})[1]["Properties"]


def container(template: Template, family: str) -> dict:
    (definition,) = task_definition(template, family)["ContainerDefinitions"]
    return definition


def environment(definition: dict) -> dict[str, str]:
    return {e["Name"]: e["Value"] for e in definition.get("Environment", [])}


# --- 1. services ----------------------------------------------------------------------------------


def test_one_service_per_process_named_for_the_pipeline(minne, blog):
    assert sorted(s["Properties"]["ServiceName"] for s in resources(minne, "AWS::ECS::Service").values()) == [
        naming.service_name("minne", "web"), naming.service_name("minne", "worker"),
    ]
    assert [s["Properties"]["ServiceName"] for s in resources(blog, "AWS::ECS::Service").values()] == ["blog-web"]
    for template, services in ((minne, ["minne-web", "minne-worker"]), (blog, ["blog-web"])):
        for name in services:
            props = service(template, name)
            assert props["Cluster"] == "acme-production"
            assert props["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"


def test_task_definitions_are_awsvpc_families_sized_by_the_table(minne, blog):
    web = task_definition(minne, naming.task_family("acme", "minne", "production", "web"))
    assert (web["NetworkMode"], web["Cpu"], web["Memory"]) == ("awsvpc", "512", "1024")  # 2x
    assert web["RequiresCompatibilities"] == ["EC2"]  # pool:dedicated
    worker = task_definition(minne, "acme-minne-production-worker")
    assert (worker["NetworkMode"], worker["Cpu"], worker["Memory"]) == ("awsvpc", "256", "512")  # 1x
    assert worker["RequiresCompatibilities"] == ["FARGATE"]
    assert task_definition(blog, "acme-blog-production-web")["RequiresCompatibilities"] == ["FARGATE"]


def test_capacity_and_tag_based_placement(minne, blog):
    web = service(minne, "minne-web")
    assert web["CapacityProviderStrategy"] == [{"CapacityProvider": "acme-production-dedicated", "Weight": 1}]
    assert web["PlacementConstraints"] == [{"Type": "memberOf", "Expression": "attribute:high == true"}]
    assert web["PlacementStrategies"] == [
        {"Type": "spread", "Field": "attribute:ecs.availability-zone"},
        {"Type": "binpack", "Field": "MEMORY"},
    ]
    worker = service(minne, "minne-worker")
    assert worker["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    assert "PlacementConstraints" not in worker and "PlacementStrategies" not in worker
    assert service(blog, "blog-web")["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]


def test_web_gets_an_ip_target_group_with_health_check_and_slow_start(minne, spec):
    web = spec.apps["minne"].processes["web"]
    groups = resources(minne, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert groups  # canary: the target group and its alternate, configured alike
    for group in groups.values():
        props = group["Properties"]
        assert props["TargetType"] == "ip"
        assert (props["Port"], props["Protocol"]) == (3000, "HTTP")
        assert props["HealthCheckPath"] == web.health_check == "/healthz"
        attributes = {a["Key"]: a["Value"] for a in props["TargetGroupAttributes"]}
        assert attributes["slow_start.duration_seconds"] == "30"


def test_host_rule_on_the_shared_listener_with_a_stable_priority(minne, spec):
    _, rule = only(minne, "AWS::ElasticLoadBalancingV2::ListenerRule")
    props = rule["Properties"]
    assert props["Priority"] == listener_priority("minne", "web", None)
    assert props["Conditions"] == [
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["minne.example.com", "www.minne.example.com"]}}
    ]
    listener = props["ListenerArn"]["Ref"]
    assert minne.to_json()["Parameters"][listener]["Default"] == naming.parameter(
        "acme", "production", naming.Param.LISTENER_ARN
    )


def test_each_environment_routes_its_own_hosts_and_no_host_twice(shipped_templates, spec):
    """hosts are per environment: staging's listener rule names staging's hosts, production's production's, and no
    host name is in two rules anywhere (public DNS points a name at one ALB)."""
    routed: dict[str, str] = {}
    for stack in ("acme-minne-staging", "acme-minne-production", "acme-blog-staging", "acme-blog-production"):
        env = stack.rsplit("-", 1)[1]
        rules = Template.from_json(shipped_templates[stack]).find_resources("AWS::ElasticLoadBalancingV2::ListenerRule")
        production_rules = [r for logical_id, r in rules.items() if "TestListenerRule" not in logical_id]
        (rule,) = production_rules
        (condition,) = rule["Properties"]["Conditions"]
        hosts = condition["HostHeaderConfig"]["Values"]
        app = stack.split("-")[1]
        assert hosts == spec.apps[app].processes["web"].hosts_in(env)
        for host in hosts:
            assert routed.setdefault(host, stack) == stack, f"{host} is routed by {routed[host]} and {stack}"
    assert routed["minne.staging.example.com"] == "acme-minne-staging"
    assert routed["minne.example.com"] == "acme-minne-production"


def test_non_web_processes_have_no_load_balancer(minne):
    worker = service(minne, "minne-worker")
    assert "LoadBalancers" not in worker
    assert "HealthCheckGracePeriodSeconds" not in worker


def test_port_and_memory_mb_are_set(minne):
    web = environment(container(minne, "acme-minne-production-web"))
    assert (web["PORT"], web["MEMORY_MB"]) == ("3000", "1024")
    worker = environment(container(minne, "acme-minne-production-worker"))
    assert worker["MEMORY_MB"] == "512" and "PORT" not in worker  # a worker listens on nothing
    assert container(minne, "acme-minne-production-web")["PortMappings"] == [
        {"ContainerPort": 3000, "Protocol": "tcp"}
    ]


def test_commands_run_like_procfile_entries(minne):
    assert container(minne, "acme-minne-production-web")["Command"] == [
        "/bin/sh", "-c", "bundle exec puma -C config/puma.rb"
    ]


# --- 2. deploy speed without dropping requests -----------------------------------------------------


def test_modeled_wait_from_the_template_is_at_most_45_seconds(shipped_templates):
    checked = 0
    for name in RUNTIME_STACKS:
        for group in Template.from_json(shipped_templates[name]).find_resources(
            "AWS::ElasticLoadBalancingV2::TargetGroup"
        ).values():
            props = group["Properties"]
            delay = int({a["Key"]: a["Value"] for a in props["TargetGroupAttributes"]}[
                "deregistration_delay.timeout_seconds"
            ])
            wait = props["HealthCheckIntervalSeconds"] * props["HealthyThresholdCount"] + delay
            assert (props["HealthCheckIntervalSeconds"], props["HealthyThresholdCount"], delay) == (5, 2, 30)
            assert wait <= MAX_MODELED_WAIT
            checked += 1
    assert checked == 8  # a target group and its alternate, for minne and blog, in both environments


def test_stop_timeout_covers_the_drain_and_beats_the_spot_notice(minne):
    stop = container(minne, "acme-minne-production-web")["StopTimeout"]
    assert 30 <= stop < 120


def test_rolling_settings_and_circuit_breaker_with_rollback(minne, blog):
    for props in (service(minne, "minne-web"), service(minne, "minne-worker"), service(blog, "blog-web")):
        config = props["DeploymentConfiguration"]
        assert (config["MinimumHealthyPercent"], config["MaximumPercent"]) == (100, 200)
        assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
        assert props["DeploymentController"] == {"Type": "ECS"}
    assert service(minne, "minne-web")["HealthCheckGracePeriodSeconds"] == 30


# --- issue 5: deploy strategies on the service ----------------------------------------------------


def test_minne_web_deploys_canary_natively(minne):
    web = service(minne, "minne-web")
    config = web["DeploymentConfiguration"]
    assert config["Strategy"] == "CANARY"
    assert config["CanaryConfiguration"] == {"CanaryPercent": 10, "CanaryBakeTimeInMinutes": 5}
    assert config["BakeTimeInMinutes"] == 5
    (balancer,) = web["LoadBalancers"]
    advanced = balancer["AdvancedConfiguration"]
    assert advanced["AlternateTargetGroupArn"]["Ref"] != balancer["TargetGroupArn"]["Ref"]
    rule_id, rule = only(minne, "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert advanced["ProductionListenerRule"] == {"Ref": rule_id}
    assert "TestListenerRule" not in advanced
    forward = rule["Properties"]["Actions"][0]["ForwardConfig"]
    weights = {g["TargetGroupArn"]["Ref"]: g["Weight"] for g in forward["TargetGroups"]}
    assert weights == {balancer["TargetGroupArn"]["Ref"]: {"Fn::If": ["webAlternateLive", 0, 100]},
                       advanced["AlternateTargetGroupArn"]["Ref"]: {"Fn::If": ["webAlternateLive", 100, 0]}}


def evaluate(template: dict, node, parameters: dict[str, str]):
    """A template value as CloudFormation resolves it, for Fn::If on Fn::Equals conditions of parameters."""
    if isinstance(node, list):
        return [evaluate(template, n, parameters) for n in node]
    if not isinstance(node, dict):
        return node
    if "Fn::If" in node:
        name, when_true, when_false = node["Fn::If"]
        left, right = template["Conditions"][name]["Fn::Equals"]
        holds = parameters.get(left["Ref"], template["Parameters"][left["Ref"]].get("Default")) == right
        return evaluate(template, when_true if holds else when_false, parameters)
    return {k: evaluate(template, v, parameters) for k, v in node.items()}


@pytest.mark.parametrize("deployments", [0, 1, 2, 3])
def test_a_stack_update_after_any_number_of_deployments_forwards_to_the_live_group(shipped_templates, deployments):
    """ECS moves production traffic to the other target group on every canary/linear/blue-green deployment, and
    the pipeline records where it went; the rule a stack update writes must forward there (aws/aws-cdk#36649)."""
    for stack, app in (("acme-minne-production", "minne"), ("acme-blog-staging", "blog")):
        template = shipped_templates[stack]
        env = stack.rsplit("-", 1)[1]
        live_is_primary = deployments % 2 == 0  # tasks start in the primary group; each deployment swaps
        recorded = naming.LIVE_PRIMARY if live_is_primary else naming.LIVE_ALTERNATE
        (parameter,) = [k for k, p in template["Parameters"].items()
                        if p.get("Default") == naming.live_target_group_parameter("acme", app, env, "web")]
        (web,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ECS::Service"
                  and r["Properties"].get("ServiceName") == f"{app}-web"]
        (balancer,) = web["LoadBalancers"]
        live = (balancer["TargetGroupArn"] if live_is_primary
                else balancer["AdvancedConfiguration"]["AlternateTargetGroupArn"])
        rules = [r for r in template["Resources"].values() if r["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule"]
        assert rules
        for rule in rules:
            (forward,) = evaluate(template, rule["Properties"]["Actions"], {parameter: recorded})
            weights = {g["TargetGroupArn"]["Ref"]: g["Weight"] for g in forward["ForwardConfig"]["TargetGroups"]}
            assert weights == {live["Ref"]: 100, **{k: 0 for k in weights if k != live["Ref"]}}, (stack, deployments)


def test_shifting_processes_publish_their_rule_and_groups_for_the_record(minne):
    (routing,) = [r["Properties"] for r in minne.find_resources("AWS::SSM::Parameter").values()
                  if r["Properties"]["Name"] == naming.routing_parameter("acme", "minne", "production", "web")]
    template, values = routing["Value"]["Fn::Sub"]
    assert json.loads(template.replace("${Rule}", "r").replace("${Primary}", "p").replace("${Alternate}", "a")) == {
        "rule": "r", "primary": "p", "alternate": "a"}
    rule_id, _ = only(minne, "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert values["Rule"] == {"Ref": rule_id}


def test_workers_of_a_canary_app_roll(minne):
    config = service(minne, "minne-worker")["DeploymentConfiguration"]
    assert config["Strategy"] == "ROLLING"
    assert "CanaryConfiguration" not in config and "BakeTimeInMinutes" not in config


def test_blog_deploys_blue_green_with_a_test_listener_rule(blog):
    web = service(blog, "blog-web")
    config = web["DeploymentConfiguration"]
    assert config["Strategy"] == "BLUE_GREEN"
    assert config["BakeTimeInMinutes"] == 10
    advanced = web["LoadBalancers"][0]["AdvancedConfiguration"]
    rules = resources(blog, "AWS::ElasticLoadBalancingV2::ListenerRule")
    by_listener = {
        blog.to_json()["Parameters"][r["Properties"]["ListenerArn"]["Ref"]]["Default"]: (rid, r["Properties"])
        for rid, r in rules.items()
    }
    production = by_listener[naming.parameter("acme", "production", naming.Param.LISTENER_ARN)]
    test = by_listener[naming.parameter("acme", "production", naming.Param.TEST_LISTENER_ARN)]
    assert advanced["ProductionListenerRule"] == {"Ref": production[0]}
    assert advanced["TestListenerRule"] == {"Ref": test[0]}
    assert production[1]["Priority"] == test[1]["Priority"] == listener_priority("blog", "web", None)
    role = only(blog, "AWS::IAM::Role", {"AssumeRolePolicyDocument": Match.object_like({
        "Statement": [Match.object_like({"Principal": {"Service": "ecs.amazonaws.com"}})]
    })})
    assert advanced["RoleArn"] == {"Fn::GetAtt": [role[0], "Arn"]}


def test_deploys_roll_back_on_the_services_alarms(minne):
    alarms = minne.to_json()["Resources"]
    config = service(minne, "minne-web")["DeploymentConfiguration"]
    assert config["Alarms"]["Enable"] is True and config["Alarms"]["Rollback"] is True
    names = [alarms[a["Ref"]]["Properties"]["AlarmName"] for a in config["Alarms"]["AlarmNames"]]
    assert names == ["acme-minne-production-web-ErrorRate", "acme-minne-production-web-Latency",
                     "acme-minne-production-web-RouterErrorRate"]


# --- 3. scaling -----------------------------------------------------------------------------------


def test_count_becomes_the_desired_count_once_an_image_exists(minne, blog):
    assert service(minne, "minne-worker")["DesiredCount"] == {"Fn::If": ["ImageBuilt", 2, 0]}
    assert service(blog, "blog-web")["DesiredCount"] == {"Fn::If": ["ImageBuilt", 2, 0]}


def test_autoscaled_service_never_pins_its_desired_count(minne):
    # A redeploy must not reset a scaled-out count: with an image, DesiredCount is absent.
    assert service(minne, "minne-web")["DesiredCount"] == {"Fn::If": ["ImageBuilt", {"Ref": "AWS::NoValue"}, 0]}


def test_autoscale_bounds_targets_and_schedules(minne):
    _, target = only(minne, "AWS::ApplicationAutoScaling::ScalableTarget")
    props = target["Properties"]
    assert props["MinCapacity"] == {"Fn::If": ["ImageBuilt", 4, 0]}
    assert props["MaxCapacity"] == 24
    assert props["ScheduledActions"] == [
        {"ScheduledActionName": "Schedule0", "Schedule": "cron(0 11 ? * FRI *)",
         "ScalableTargetAction": {"MinCapacity": 16}},
        {"ScheduledActionName": "Schedule1", "Schedule": "cron(0 14 ? * FRI *)",
         "ScalableTargetAction": {"MinCapacity": 4}},
    ]
    minne.has_resource_properties("AWS::ApplicationAutoScaling::ScalingPolicy", {
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": Match.object_like({
            "TargetValue": 60,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
            "ScaleOutCooldown": 30, "ScaleInCooldown": 300,
        }),
    })


def test_autoscaling_is_suspended_until_the_first_image_so_no_schedule_raises_a_minimum_that_cannot_pull(minne):
    _, target = only(minne, "AWS::ApplicationAutoScaling::ScalableTarget")
    kinds = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended")
    assert target["Properties"]["SuspendedState"] == {
        "Fn::If": ["ImageBuilt", dict.fromkeys(kinds, False), dict.fromkeys(kinds, True)]
    }


def test_runtime_publishes_the_counts_the_pipeline_starts_its_services_at(minne, blog):
    for template, app, counts in (
        (minne, "minne", [{"service": "minne-web", "count": 4, "min": 4, "max": 24},
                          {"service": "minne-worker", "count": 2}]),
        (blog, "blog", [{"service": "blog-web", "count": 2}]),
    ):
        (parameter,) = [r["Properties"] for r in template.find_resources("AWS::SSM::Parameter").values()
                        if r["Properties"]["Name"] == naming.service_counts_parameter("acme", app, "production")]
        assert json.loads(parameter["Value"]) == counts


def test_request_scaling_counts_both_target_groups(minne):
    queries = Capture()
    minne.has_resource_properties("AWS::ApplicationAutoScaling::ScalingPolicy", {
        "TargetTrackingScalingPolicyConfiguration": Match.object_like({
            "TargetValue": 800, "CustomizedMetricSpecification": {"Metrics": queries},
        }),
    })
    by_id = {q["Id"]: q for q in queries.as_array()}
    assert by_id["perTarget"]["ReturnData"] is True
    assert by_id["perTarget"]["Expression"] == "(FILL(r0, 0) + FILL(r1, 0)) / MAX([FILL(h0, 0) + FILL(h1, 0), 1])"
    groups = {by_id[q]["MetricStat"]["Metric"]["Dimensions"][1]["Value"]["Fn::GetAtt"][0] for q in ("r0", "r1")}
    assert groups == set(resources(minne, "AWS::ElasticLoadBalancingV2::TargetGroup"))
    assert by_id["r0"]["MetricStat"]["Metric"]["MetricName"] == "RequestCount"
    assert by_id["h0"]["MetricStat"]["Metric"]["MetricName"] == "HealthyHostCount"


# --- 4. config and secrets ------------------------------------------------------------------------


def test_config_becomes_environment(minne):
    env = environment(container(minne, "acme-minne-production-web"))
    assert env["RAILS_ENV"] == "production" and env["RAILS_LOG_TO_STDOUT"] == "1"


APP_SECRET = "DatabaseSecret3B817195"
DATABASE_VARIABLES = {"DATABASE_URL": "url", "PGHOST": "host", "PGPORT": "port", "PGDATABASE": "dbname",
                      "PGUSER": "username", "PGPASSWORD": "password"}


def test_secrets_become_ecs_secrets_and_the_database_comes_from_the_apps_own_secret(minne):
    for family in ("acme-minne-production-web", "acme-minne-production-worker", "acme-minne-production-release"):
        secrets = {s["Name"]: s["ValueFrom"] for s in container(minne, family)["Secrets"]}
        assert secrets["STRIPE_API_KEY"] == "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:minne/stripe"
        for variable, field in DATABASE_VARIABLES.items():
            assert secrets[variable] == {"Fn::Join": ["", [{"Ref": APP_SECRET}, f":{field}::"]]}, (family, variable)
        assert len(secrets) == 1 + len(DATABASE_VARIABLES)


def test_execution_role_reads_exactly_the_apps_secrets(minne):
    statements = Capture()
    execution = only(minne, "AWS::IAM::Role", {"Description": Match.string_like_regexp("secrets")})[0]
    minne.has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": execution}], "PolicyDocument": {"Statement": statements, "Version": Match.any_value()},
    })
    reads = [s for s in statements.as_array() if "secretsmanager:GetSecretValue" in s["Action"]]
    assert len(reads) == 1
    assert sorted(reads[0]["Resource"], key=json.dumps) == sorted([
        "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:minne/stripe-??????", {"Ref": APP_SECRET},
    ], key=json.dumps)
    # The master secret is read in this stack (by the provision task) but no policy of the app's own roles names it.
    master = [ref for ref, p in minne.to_json()["Parameters"].items()
              if p.get("Default") == naming.parameter("acme", "production", naming.Param.DATABASE_SECRET_ARN)]
    assert len(master) == 1
    app_roles = [execution, *only(minne, "AWS::IAM::Role", {"Description": Match.string_like_regexp("ECS Exec")})]
    policies = [p for p in minne.find_resources("AWS::IAM::Policy").values()
                if any(r in p["Properties"]["Roles"] for r in ({"Ref": role} for role in app_roles))]
    assert len(policies) == 2
    assert all(master[0] not in json.dumps(p) for p in policies)


def test_no_secret_value_in_any_runtime_template(shipped_templates):
    for name in RUNTIME_STACKS:
        template = shipped_templates[name]
        assert "resolve:secretsmanager" not in json.dumps(template), name
        for secret in Template.from_json(template).find_resources("AWS::SecretsManager::Secret").values():
            properties = secret["Properties"]
            assert "SecretString" not in properties, name
            generated = properties["GenerateSecretString"]
            assert generated["GenerateStringKey"] == "password"
            assert "password" not in json.dumps(generated["SecretStringTemplate"]), name


# --- image ----------------------------------------------------------------------------------------


def test_image_is_the_tag_the_pipeline_recorded(minne):
    template = minne.to_json()
    image = container(minne, "acme-minne-production-web")["Image"]["Fn::Join"][1]
    tag_parameter = image[-1]["Ref"]
    assert template["Parameters"][tag_parameter] == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": naming.image_tag_parameter("acme", "minne", "production"),
    }
    assert ":repository/" not in json.dumps(image) and "acme/minne:" in json.dumps(image)
    assert template["Conditions"]["ImageBuilt"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": tag_parameter}, naming.NO_IMAGE_TAG]}]
    }


# --- 5. one-off task ------------------------------------------------------------------------------


def test_one_off_task_shares_image_environment_and_secrets(minne):
    family = naming.task_family("acme", "minne", "production", "release")
    one_off = task_definition(minne, family)
    assert one_off["RequiresCompatibilities"] == ["EC2", "FARGATE"]
    assert one_off["NetworkMode"] == "awsvpc"
    release, web = container(minne, family), container(minne, "acme-minne-production-web")
    assert release["Name"] == naming.CONTAINER_NAME == web["Name"]
    assert "Command" not in release  # whoever runs it overrides the command
    assert release["Image"] == web["Image"]
    assert release["Secrets"] == web["Secrets"]
    assert {k: v for k, v in environment(release).items() if k != "MEMORY_MB"} == {
        k: v for k, v in environment(web).items() if k not in ("MEMORY_MB", "PORT")
    }
    assert one_off["ExecutionRoleArn"] == task_definition(minne, "acme-minne-production-web")["ExecutionRoleArn"]


# --- 6. cron --------------------------------------------------------------------------------------


def test_cron_runs_the_one_off_task_with_the_command(minne):
    _, schedule = only(minne, "AWS::Scheduler::Schedule")
    props = schedule["Properties"]
    assert props["Name"] == "acme-minne-production-nightly-report"
    assert props["ScheduleExpression"] == "cron(0 18 * * ? *)"
    target = props["Target"]
    assert target["Arn"]["Fn::Join"][1][-1] == ":cluster/acme-production"
    assert target["EcsParameters"]["TaskDefinitionArn"]["Fn::Join"][1][-1].endswith(
        ":task-definition/acme-minne-production-release"
    )
    assert target["EcsParameters"]["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE", "Weight": 1}]
    overrides = json.loads(target["Input"])
    assert overrides["containerOverrides"] == [{
        "name": "app", "command": ["/bin/sh", "-c", "bundle exec rails reports:nightly"],
        "environment": [{"name": "MEMORY_MB", "value": "512"}],
    }]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    queue_id = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    queue = minne.to_json()["Resources"][queue_id]
    assert queue["Type"] == "AWS::SQS::Queue" and queue["Properties"]["SqsManagedSseEnabled"] is True


def test_cron_role_runs_only_the_one_off_family_on_the_cluster(minne):
    minne.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": Match.object_like({"Statement": Match.array_with([Match.object_like({
            "Action": "ecs:RunTask",
            "Condition": {"ArnEquals": {"ecs:cluster": Match.any_value()}},
        })])}),
    })


def test_blog_has_no_cron(blog):
    blog.resource_count_is("AWS::Scheduler::Schedule", 0)
    blog.resource_count_is("AWS::SQS::Queue", 0)


# --- 7. operations --------------------------------------------------------------------------------


def test_log_group_per_app_and_environment_is_retained_with_its_logical_id_pinned(minne):
    logs = minne.to_json()["Resources"]["Logs6819BB44"]
    assert logs["Type"] == "AWS::Logs::LogGroup"
    key = {"Ref": "SsmParameterValueshipwayacmeproductionlogskeyarnC96584B6F00A464EAD1953AFF4B05118Parameter"}
    assert logs["Properties"] == {"LogGroupName": "/shipway/acme/minne/production", "RetentionInDays": 30,
                                  "KmsKeyId": key, "Tags": [{"Key": "shipway:project", "Value": "acme"}]}
    assert (logs["DeletionPolicy"], logs["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    logging = container(minne, "acme-minne-production-web")["LogConfiguration"]
    assert logging["Options"]["awslogs-group"] == {"Ref": "Logs6819BB44"}


def test_ecs_exec_is_on_and_its_sessions_are_logged(minne):
    for props in resources(minne, "AWS::ECS::Service").values():
        assert props["Properties"]["EnableExecuteCommand"] is True
    statements = json.dumps(minne.find_resources("AWS::IAM::Policy"))
    assert "ssmmessages:OpenDataChannel" in statements
    assert "cluster/exec-log-group" in json.dumps(minne.to_json()["Parameters"])


def test_alarms_go_to_the_environments_topic(minne):
    alarms = resources(minne, "AWS::CloudWatch::Alarm")
    names = sorted(a["Properties"]["AlarmName"] for a in alarms.values())
    assert names == sorted(f"acme-minne-production-{p}-{k}" for p, kinds in {
        "web": ["Cpu", "Memory", "ErrorRate", "Latency", "RouterErrorRate", "UnhealthyHosts"],
        "worker": ["Cpu", "Memory"],
    }.items() for k in kinds)
    parameters = minne.to_json()["Parameters"]
    for alarm in alarms.values():
        (action,) = alarm["Properties"]["AlarmActions"]
        topic = naming.parameter("acme", "production", naming.Param.ALARM_TOPIC_ARN)
        assert parameters[action["Ref"]]["Default"] == topic


def test_alarm_metrics(minne):
    alarms = {a["Properties"]["AlarmName"]: a["Properties"]
              for a in resources(minne, "AWS::CloudWatch::Alarm").values()}
    cpu = alarms["acme-minne-production-worker-Cpu"]
    assert (cpu["Namespace"], cpu["MetricName"], cpu["Threshold"]) == ("AWS/ECS", "CPUUtilization", 90)
    assert {"Name": "ServiceName", "Value": "minne-worker"} in cpu["Dimensions"]
    rate = alarms["acme-minne-production-web-ErrorRate"]
    expression = next(m for m in rate["Metrics"] if "Expression" in m)["Expression"]
    assert expression == "100 * (FILL(e0, 0) + FILL(e1, 0)) / (FILL(r0, 0) + FILL(r1, 0))"
    router = alarms["acme-minne-production-web-RouterErrorRate"]
    (expression,) = [m["Expression"] for m in router["Metrics"] if "Expression" in m]
    errors = "FILL(elb502, 0) + FILL(elb503, 0) + FILL(elb504, 0)"
    assert expression == f"100 * ({errors}) / MAX([FILL(requests, 0) + {errors}, 1])"
    stats = {m["Id"]: m["MetricStat"] for m in router["Metrics"] if "MetricStat" in m}
    assert {i: s["Metric"]["MetricName"] for i, s in stats.items()} == {
        "elb502": "HTTPCode_ELB_502_Count", "elb503": "HTTPCode_ELB_503_Count", "elb504": "HTTPCode_ELB_504_Count",
        "requests": "RequestCount"}
    for stat in stats.values():  # per load balancer: CloudWatch has no target group dimension for the ALB's own codes
        assert stat["Stat"] == "Sum" and [d["Name"] for d in stat["Metric"]["Dimensions"]] == ["LoadBalancer"]
    assert router["Threshold"] == 5
    latency = alarms["acme-minne-production-web-Latency"]
    stats = {m["MetricStat"]["Stat"] for m in latency["Metrics"] if "MetricStat" in m}
    assert stats == {"p95"} and latency["Threshold"] == 1000


def test_a_dashboard_per_app_and_environment(minne):
    _, dashboard = only(minne, "AWS::CloudWatch::Dashboard")
    assert dashboard["Properties"]["DashboardName"] == "acme-minne-production"


# --- 8. fast to create, independent ---------------------------------------------------------------

SLOW_OR_SHARED = {
    "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancingV2::Listener", "AWS::EC2::NatGateway",
    "AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::ECS::Cluster", "AWS::RDS::DBInstance", "AWS::RDS::DBCluster",
    "AWS::AutoScaling::AutoScalingGroup", "AWS::EC2::SpotFleet", "AWS::EC2::LaunchTemplate",
}


def test_app_stacks_hold_nothing_slow_or_shared(shipped_templates):
    for name in RUNTIME_STACKS:
        kinds = {r["Type"] for r in shipped_templates[name]["Resources"].values()}
        assert not kinds & SLOW_OR_SHARED, name
        assert "Outputs" not in shipped_templates[name] or not any(
            "Export" in o for o in shipped_templates[name]["Outputs"].values()
        )


def test_app_stacks_read_the_platform_only_through_ssm(shipped_templates):
    for name in RUNTIME_STACKS:
        text = json.dumps(shipped_templates[name])
        assert "Fn::ImportValue" not in text, name
        for parameter in shipped_templates[name]["Parameters"].values():
            assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
            assert parameter["Default"].startswith("/shipway/acme/")


# --- docs -----------------------------------------------------------------------------------------


def test_the_run_task_example_is_valid_shell_and_uses_the_real_names(tmp_path):
    text = (ROOT / "docs" / "runtime.md").read_text()
    (block,) = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    script = tmp_path / "example.sh"
    script.write_text(block)
    subprocess.run(["bash", "-n", str(script)], check=True)
    family = naming.task_family("$NAME", "$APP", "$ENV", "release")
    assert f"--task-definition {family}" in block
    assert f'"name":"{naming.CONTAINER_NAME}"' in block
    assert naming.parameter("$NAME", "$ENV", naming.Param.PRIVATE_SUBNETS) in block
    assert naming.parameter("$NAME", "$ENV", naming.Param.APP_SECURITY_GROUP) in block
