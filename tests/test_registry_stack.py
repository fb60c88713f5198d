"""The registry's CloudFormation: ECR's registry-wide scanning, and the S3 registry as an ECS service."""

from __future__ import annotations

import copy
import json
import subprocess

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Capture, Match, Template

from shipway import nag, naming
from shipway.constructs.registry import (
    HTPASSWD_PATH,
    EcrScanOnPush,
    S3Registry,
    htpasswd_command,
    registry_config,
)
from shipway.defaults import REGISTRY_IMAGE
from shipway.props.platform import holds_ecr_settings
from shipway.spec import SpecError, load_spec
from shipway.spec.load import validate_spec
from shipway.spec.references import registry_priorities, registry_sources

from .conftest import SPECS

NAT_CIDRS = ["203.0.113.1/32", "203.0.113.2/32", "203.0.113.3/32", "203.0.113.4/32", "203.0.113.5/32"]


def synth_registry(**props) -> tuple[cdk.Stack, S3Registry]:
    """An S3Registry against imported platform resources; cdk-nag runs, so any unacknowledged finding fails."""
    app = cdk.App()
    nag.add_checks(app)
    stack = cdk.Stack(app, "Registry")
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["az-a", "az-b"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    )
    cluster = ecs.Cluster.from_cluster_attributes(stack, "Cluster", cluster_name="c", vpc=vpc, security_groups=[])
    router = ec2.SecurityGroup.from_security_group_id(stack, "Router", "sg-0123456789abcdef0", mutable=False)
    listener = elbv2.ApplicationListener.from_application_listener_attributes(
        stack, "Listener", listener_arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/a/b/c",
        security_group=router,
    )
    registry = S3Registry(
        stack, "Registry", cluster=cluster, listener=listener, router_security_group=router,
        host="registry.example.com", **({"source_cidrs": NAT_CIDRS[:2]} | props),
    )
    app.synth()
    return stack, registry


@pytest.fixture(scope="module")
def built() -> tuple[cdk.Stack, S3Registry]:
    return synth_registry()


@pytest.fixture(scope="module")
def template(built) -> Template:
    return Template.from_stack(built[0])


def test_bucket_is_encrypted_versioned_retained_and_tls_only(template):
    template.has_resource("AWS::S3::Bucket", {
        "Properties": Match.object_like({
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        }),
        "DeletionPolicy": "RetainExceptOnCreate",
        "UpdateReplacePolicy": "Retain",
    })
    template.has_resource_properties("AWS::S3::BucketPolicy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Effect": "Deny", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        })])},
    })


def test_task_role_reaches_the_bucket_and_nothing_else(built, template):
    stack, registry = built
    bucket = stack.get_logical_id(registry.bucket.node.default_child)
    role = stack.get_logical_id(registry.task_definition.task_role.node.default_child)
    policies = [p for p in template.find_resources("AWS::IAM::Policy").values()
                if {"Ref": role} in p["Properties"]["Roles"]]
    assert len(policies) == 1
    resources = [s["Resource"] for s in policies[0]["Properties"]["PolicyDocument"]["Statement"]]
    assert resources == [
        {"Fn::GetAtt": [bucket, "Arn"]},
        {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]},
    ]


def test_the_service_runs_the_rendered_config(built, template):
    stack, registry = built
    bucket = stack.get_logical_id(registry.bucket.node.default_child)
    environment = Capture()
    command = Capture()
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "ContainerDefinitions": [Match.any_value(), Match.object_like({
            "Image": REGISTRY_IMAGE, "EntryPoint": ["/bin/sh", "-c"], "Command": command,
            "Environment": environment,
            "Secrets": [{"Name": "REGISTRY_HTTP_SECRET", "ValueFrom": Match.any_value()}],
            "PortMappings": [Match.object_like({"ContainerPort": 5000})],
        })],
    })
    (variable,) = environment.as_array()
    assert variable["Name"] == "SHIPWAY_REGISTRY_CONFIG"
    # Put placeholders where CloudFormation puts the bucket's name and the Region: it is the tested config.
    parts = variable["Value"]["Fn::Join"][1]
    placeholders = {repr({"Ref": bucket}): "BUCKET", repr({"Ref": "AWS::Region"}): "REGION"}
    text = "".join(p if isinstance(p, str) else placeholders[repr(p)] for p in parts)
    assert text == registry_config(bucket="BUCKET", region="REGION")
    assert command.as_array() == [
        'printf "%s" "$SHIPWAY_REGISTRY_CONFIG" > /etc/docker/registry/config.yml '
        "&& exec registry serve /etc/docker/registry/config.yml"
    ]


def test_service_rolls_back_and_only_the_router_reaches_it(template):
    template.has_resource_properties("AWS::ECS::Service", {
        "LaunchType": "FARGATE", "DesiredCount": 2,
        "DeploymentConfiguration": Match.object_like({
            "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}, "MinimumHealthyPercent": 100,
        }),
        "NetworkConfiguration": {"AwsvpcConfiguration": Match.object_like({
            "AssignPublicIp": "DISABLED", "Subnets": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
        })},
    })
    template.has_resource_properties("AWS::EC2::SecurityGroupIngress", {
        "FromPort": 5000, "ToPort": 5000, "SourceSecurityGroupId": "sg-0123456789abcdef0",
    })
    assert len(template.find_resources("AWS::EC2::SecurityGroupIngress")) == 1


def test_target_group_checks_the_api_root_and_drains_before_a_spot_notice(template):
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::TargetGroup", {
        "Port": 5000, "TargetType": "ip", "HealthCheckPath": "/v2/", "Matcher": {"HttpCode": "401"},
        "TargetGroupAttributes": Match.array_with([
            {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}]),
    })


def test_rule_routes_the_registry_host_from_the_allowed_addresses_only(template):
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::ListenerRule", {
        "Priority": 50000,
        "Conditions": [
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["registry.example.com"]}},
            {"Field": "source-ip", "SourceIpConfig": {"Values": NAT_CIDRS[:2]}},
        ],
    })


def test_more_addresses_than_one_rule_holds_take_the_next_priorities():
    stack, _ = synth_registry(source_cidrs=NAT_CIDRS)
    rules = Template.from_stack(stack).find_resources("AWS::ElasticLoadBalancingV2::ListenerRule")
    by_priority = {r["Properties"]["Priority"]: r["Properties"]["Conditions"] for r in rules.values()}
    assert sorted(by_priority, reverse=True) == [50000, 49999]
    assert by_priority[50000][1]["SourceIpConfig"]["Values"] == NAT_CIDRS[:4]
    assert by_priority[49999][1]["SourceIpConfig"]["Values"] == NAT_CIDRS[4:]
    for conditions in by_priority.values():
        assert sum(len(c[next(k for k in c if k.endswith("Config"))]["Values"]) for c in conditions) <= 5


def test_a_registry_open_to_nobody_is_refused():
    with pytest.raises(ValueError, match="source CIDR"):
        synth_registry(source_cidrs=[])


def test_ecr_scans_every_repository_on_push():
    stack = cdk.Stack(cdk.App(), "Ecr")
    EcrScanOnPush(stack, "Registry")
    Template.from_stack(stack).has_resource_properties("AWS::ECR::RegistryScanningConfiguration", {
        "ScanType": "BASIC",
        "Rules": [{"ScanFrequency": "SCAN_ON_PUSH", "RepositoryFilters": [{"Filter": "*", "FilterType": "WILDCARD"}]}],
    })


S3_SPEC = SPECS / "s3-registry.yaml"


def problems_of(edit) -> list[str]:
    spec = yaml.safe_load(S3_SPEC.read_text())
    edit(spec)
    with pytest.raises(SpecError) as caught:
        validate_spec(spec)
    return caught.value.problems


def router(spec: dict) -> dict:
    return spec["environments"]["dev"]["router"]


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda s: router(s).pop("registry_host"),
     "environments.dev.router.registry_host: registry: s3 needs the host name of this environment's registry"),
    (lambda s: router(s).update(registry_host="*.example.com"),
     "environments.dev.router.registry_host: '*.example.com' is not a host name such as registry.example.com"),
    (lambda s: router(s).pop("certificate_arn"),
     "environments.dev.router.certificate_arn: registry: s3 needs HTTPS"),
    (lambda s: s.update(registry="ecr"),
     "environments.dev.router.registry_host: registry_host is for registry: s3"),
    (lambda s: s["apps"]["hello"]["processes"]["web"].update(hosts=["registry.example.com"]),
     "apps.hello.processes.web.hosts[0]: host 'registry.example.com' is environment dev's registry_host"),
    (lambda s: s["apps"]["hello"]["processes"]["web"].update(priority=50000),
     "apps.hello.processes.web.priority: listener priority 50000 belongs to the registry in environment dev"),
    # five NAT addresses take the registry's second rule, the next priority down
    (lambda s: (s["environments"]["dev"].update(network={"max_azs": 5, "nat_gateways": 5}),
                s["apps"]["hello"]["processes"]["web"].update(priority=49999)),
     "apps.hello.processes.web.priority: listener priority 49999 belongs to the registry in environment dev"),
])
def test_the_spec_of_an_s3_registry_is_checked(edit, expected):
    (problem,) = problems_of(edit)
    assert expected in problem


def test_the_s3_registry_spec_is_valid():
    assert load_spec(S3_SPEC).registry == "s3"


def test_registry_rules_take_one_priority_per_four_addresses():
    assert registry_priorities(1) == registry_priorities(4) == [50000]
    assert registry_priorities(5) == registry_priorities(6) == [50000, 49999]
    spec = yaml.safe_load(S3_SPEC.read_text())
    spec["environments"]["dev"]["network"] = {"max_azs": 4, "nat_gateways": 4}
    spec["apps"]["hello"]["processes"]["web"]["priority"] = 49999
    assert validate_spec(spec).apps["hello"].processes["web"].priority == 49999  # free while one rule holds four


def test_ecr_settings_live_in_one_platform_stack_per_account_and_region_and_only_on_request():
    spec = load_spec(S3_SPEC).model_copy(update={"registry": "ecr"})
    environments = {
        "dev": spec.environments["dev"],
        "staging": spec.environments["dev"],
        "prod": spec.environments["dev"].model_copy(update={"account": "123456789012", "region": "us-east-1"}),
        "prod-eu": spec.environments["dev"].model_copy(update={"account": "123456789012", "region": "eu-west-1"}),
    }
    spec = spec.model_copy(update={"environments": environments})
    assert not spec.ecr_registry_scanning
    assert not any(holds_ecr_settings(spec, env) for env in environments)
    opted_in = spec.model_copy(update={"ecr_registry_scanning": True})
    assert [env for env in environments if holds_ecr_settings(opted_in, env)] == ["dev", "prod", "prod-eu"]
    s3 = opted_in.model_copy(update={"registry": "s3"})
    assert not any(holds_ecr_settings(s3, env) for env in environments)


# The S3 registry's stateful resources in the platform stack of tests/specs/s3-registry.yaml, pinned.
PINNED_REGISTRY_IDS = {
    "RegistryBucket9C3667AF": "AWS::S3::Bucket",
    "RegistryLogs1A035EBA": "AWS::Logs::LogGroup",
    "RegistryHttpSecret2AC721EF": "AWS::SecretsManager::Secret",
}


@pytest.fixture(scope="module")
def s3_platform(s3_registry) -> Template:
    return Template.from_json(s3_registry.templates()["boxy-dev-platform"])


def test_the_s3_registry_runs_in_the_platform_stack_with_pinned_ids(s3_platform):
    resources = s3_platform.to_json()["Resources"]
    for logical_id, kind in PINNED_REGISTRY_IDS.items():
        assert resources[logical_id]["Type"] == kind, logical_id
    assert resources["RegistryBucket9C3667AF"]["DeletionPolicy"] == "RetainExceptOnCreate"
    assert resources["RegistryLogs1A035EBA"]["DeletionPolicy"] == "RetainExceptOnCreate"
    assert not s3_platform.find_resources("AWS::ECR::RegistryScanningConfiguration")


def test_the_platform_routes_its_registry_host_from_its_nat_addresses(s3_platform):
    s3_platform.has_resource_properties("AWS::ElasticLoadBalancingV2::ListenerRule", {
        "ListenerArn": {"Ref": Match.string_like_regexp("^RouterHttps")},
        "Priority": 50000,
        "Conditions": [
            {"Field": "host-header", "HostHeaderConfig": {"Values": ["registry.example.com"]}},
            {"Field": "source-ip", "SourceIpConfig": {"Values": [
                {"Fn::Join": ["", [{"Fn::GetAtt": ["NetworkPublicSubnet1EIP4549873D", "PublicIp"]}, "/32"]]},
            ]}},
        ],
    })
    s3_platform.has_resource_properties("AWS::ECS::Service", {
        "Cluster": {"Ref": Match.string_like_regexp("^Cluster")}, "LaunchType": "FARGATE",
    })


def test_the_router_reaches_the_registry_tasks_and_logs_their_bucket(s3_platform):
    registry_group = {"Fn::GetAtt": ["RegistrySecurityGroupEE222DD8", "GroupId"]}
    s3_platform.has_resource_properties("AWS::EC2::SecurityGroupEgress", {
        "GroupId": {"Fn::GetAtt": [Match.string_like_regexp("^RouterSecurityGroup"), "GroupId"]},
        "DestinationSecurityGroupId": registry_group, "FromPort": 5000, "ToPort": 5000,
    })
    s3_platform.has_resource_properties("AWS::S3::Bucket", {
        "LoggingConfiguration": {"DestinationBucketName": {"Ref": "RouterAccessLogsBE6D68A9"},
                                 "LogFilePrefix": "registry-bucket/"},
    })


def test_by_default_no_platform_stack_touches_the_account_wide_scanning_setting(shipped_templates):
    for name, template in shipped_templates.items():
        assert not Template.from_json(template).find_resources("AWS::ECR::RegistryScanningConfiguration"), name
    # ... while every repository still scans its own pushes.
    repositories = Template.from_json(shipped_templates["acme-minne"]).find_resources("AWS::ECR::Repository")
    scanned = [r for r in repositories.values()
               if r["Properties"].get("ImageScanningConfiguration") == {"ScanOnPush": True}]
    assert len(scanned) == 2  # the app's images and the load-test images; the build cache holds no images


def test_an_opted_in_spec_holds_the_scanning_setting_in_its_first_platform_stack(pinned):
    platform = Template.from_json(pinned.templates()["pinned-prod-platform"])
    platform.has_resource_properties("AWS::ECR::RegistryScanningConfiguration", {"ScanType": "BASIC"})
    assert "Registry4DB9CCA5" in platform.to_json()["Resources"]


# --- registry: s3 for real: credentials, the build's push, every task's pull -----------------------


def test_every_request_needs_the_environments_password(s3_platform):
    s3_platform.has_resource_properties("AWS::SecretsManager::Secret", {
        "Name": "shipway/boxy/dev/registry",
        "GenerateSecretString": Match.object_like({"SecretStringTemplate": '{"username": "shipway"}',
                                                   "GenerateStringKey": "password"}),
    })
    (task,) = s3_platform.find_resources("AWS::ECS::TaskDefinition").values()
    containers = {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}
    htpasswd, registry = containers["Htpasswd"], containers["Registry"]
    # The init container writes the bcrypt file from the secret; the registry waits for it to succeed.
    assert htpasswd["Essential"] is False
    assert htpasswd["Command"] == [htpasswd_command("REGISTRY_USERNAME", "REGISTRY_PASSWORD", HTPASSWD_PATH)]
    assert {s["Name"] for s in htpasswd["Secrets"]} == {"REGISTRY_USERNAME", "REGISTRY_PASSWORD"}
    assert registry["DependsOn"] == [{"ContainerName": "Htpasswd", "Condition": "SUCCESS"}]
    assert registry["MountPoints"] == [{"ContainerPath": "/auth", "SourceVolume": "auth", "ReadOnly": True}]
    assert task["Properties"]["Volumes"] == [{"Name": "auth"}]
    config = next(e["Value"] for e in registry["Environment"] if e["Name"] == "SHIPWAY_REGISTRY_CONFIG")
    assert yaml.safe_load(cdk_free(config))["auth"] == {"htpasswd": {"realm": "shipway-registry",
                                                                     "path": HTPASSWD_PATH}}
    # Healthy is the API's 401 challenge to the ALB's anonymous check.
    s3_platform.has_resource_properties("AWS::ElasticLoadBalancingV2::TargetGroup", {
        "HealthCheckPath": "/v2/", "Matcher": {"HttpCode": "401"}, "Port": 5000,
    })
    s3_platform.has_resource_properties("AWS::SSM::Parameter", {
        "Name": "/shipway/boxy/dev/registry/credentials-secret-arn",
        "Value": {"Ref": Match.string_like_regexp("^RegistryCredentials")},
    })


def cdk_free(rendered) -> str:
    """The rendered config with CloudFormation's bucket and Region tokens replaced by placeholders."""
    if isinstance(rendered, str):
        return rendered
    return "".join(part if isinstance(part, str) else "x" for part in rendered["Fn::Join"][1])


def test_every_task_pulls_from_the_registry_host_with_its_credentials(s3_registry):
    runtime = Template.from_json(s3_registry.templates()["boxy-hello-dev"])
    parameters = runtime.to_json()["Parameters"]
    # every task that runs the app's image; the database provision task runs a PostgreSQL client from ECR Public
    tasks = [t for t in runtime.find_resources("AWS::ECS::TaskDefinition").values()
             if t["Properties"]["Family"] != naming.task_family("boxy", "hello", "dev", naming.PROVISION)]
    assert tasks
    for task in tasks:
        (app,) = [c for c in task["Properties"]["ContainerDefinitions"] if c["Name"] == "app"]
        assert app["Image"]["Fn::Join"][1][0] == "registry.example.com/boxy/hello:"
        credentials = app["RepositoryCredentials"]["CredentialsParameter"]["Ref"]
        assert parameters[credentials]["Default"] == "/shipway/boxy/dev/registry/credentials-secret-arn"
    assert "ecr:BatchGetImage" not in json.dumps(runtime.find_resources("AWS::IAM::Policy"))
    runtime.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                           "Resource": Match.array_with([{"Ref": credentials}])}),
    ])}})


def test_the_build_pushes_to_the_registry_from_the_build_environments_vpc(s3_registry):
    pipeline = Template.from_json(s3_registry.templates()["boxy-hello"])
    (build,) = [p for p in pipeline.find_resources("AWS::CodeBuild::Project").values()
                if "builds the app image" in p["Properties"]["Description"]]
    variables = {v["Name"]: v for v in build["Properties"]["Environment"]["EnvironmentVariables"]}
    assert variables["IMAGE_REPOSITORY_URI"]["Value"] == "registry.example.com/boxy/hello"
    # No ECR repository for the images; only the build cache's.
    repositories = pipeline.find_resources("AWS::ECR::Repository").values()
    assert [r["Properties"]["RepositoryName"] for r in repositories] == ["boxy/hello/build-cache"]
    assert variables["REGISTRY_PASSWORD_0"] == {"Name": "REGISTRY_PASSWORD_0", "Type": "SECRETS_MANAGER",
                                                "Value": "shipway/boxy/dev/registry:password"}
    assert build["Properties"]["VpcConfig"]["VpcId"]["Ref"].startswith("SsmParameterValueshipwayboxydevvpcid")
    spec = json.loads(build["Properties"]["Source"]["BuildSpec"])
    assert ('printf "%s" "$REGISTRY_PASSWORD_0" | docker login --username shipway --password-stdin '
            "registry.example.com") in spec["phases"]["pre_build"]["commands"]
    assert "imagedefinitions-dev.json" in spec["artifacts"]["files"]
    (pipe,) = pipeline.find_resources("AWS::CodePipeline::Pipeline").values()
    (dev,) = [s for s in pipe["Properties"]["Stages"] if s["Name"] == "dev"]
    deploys = [a for a in dev["Actions"] if a["Name"].startswith("Deploy-")]
    assert deploys and all(a["Configuration"]["FileName"] == "imagedefinitions-dev.json" for a in deploys)


def test_a_later_environments_registry_admits_the_build_environments_addresses():
    import aws_cdk as cdk

    from shipway.stacks.platform import PlatformStack
    from shipway.synth import cdk_context

    spec = yaml.safe_load(S3_SPEC.read_text())
    spec["environments"]["prod"] = copy.deepcopy(spec["environments"]["dev"])
    spec["environments"]["prod"]["router"]["registry_host"] = "registry.prod.example.com"
    spec["environments"]["prod"]["network"] = {"nat_gateways": 2}
    spec["apps"]["hello"]["processes"]["web"]["hosts"] = {
        "dev": ["hello.dev.example.com"], "prod": ["hello.example.com"],
    }
    spec = validate_spec(spec)
    assert registry_sources(spec, "dev") == 1 and registry_sources(spec, "prod") == 3
    prod = Template.from_stack(PlatformStack(cdk.App(context=cdk_context()), spec=spec, env="prod"))
    (rule,) = prod.find_resources("AWS::ElasticLoadBalancingV2::ListenerRule", {
        "Properties": {"Priority": 50000}}).values()
    (sources,) = [c["SourceIpConfig"]["Values"] for c in rule["Properties"]["Conditions"] if c["Field"] == "source-ip"]
    assert len(sources) == 3
    assert "/shipway/boxy/dev/vpc/egress-cidrs" in json.dumps(prod.to_json()["Parameters"])


def test_the_s3_build_commands_parse_and_write_each_environments_image_definitions(s3_registry, tmp_path):
    from .test_pipeline import BASH, build_spec_of, commands_of, run_commands

    pipeline = Template.from_json(s3_registry.templates()["boxy-hello"])
    (build,) = [p for p in pipeline.find_resources("AWS::CodeBuild::Project").values()
                if "builds the app image" in p["Properties"]["Description"]]
    spec = build_spec_of(build)
    script = commands_of(spec)
    whole = subprocess.run([BASH, "-n"], input="\n".join(script), capture_output=True, text=True, check=False)
    assert whole.returncode == 0, whole.stderr
    checked = subprocess.run(["shellcheck", "--shell=bash", "--severity=warning", "-"],
                             input="\n".join(script), capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout
    # The image definitions, written for real with jq: each environment's names its own registry's image.
    result = run_commands(spec["phases"]["post_build"]["commands"], tmp_path, {
        "IMAGE_TAG": "0123abc", "IMAGE_URI": "registry.example.com/boxy/hello:0123abc"})
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "imagedefinitions-dev.json").read_text()) == [
        {"name": "app", "imageUri": "registry.example.com/boxy/hello:0123abc"}]
    assert sorted(spec["artifacts"]["files"]) == ["imagedefinitions-dev.json", "imagedefinitions.json"]
