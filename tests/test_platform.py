"""``<name>-<env>-platform`` on the shipped spec: network, cluster, pools, router, alarms, discovery, and
the SSM interface app stacks read."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from shipway import naming
from shipway.naming import Param
from shipway.spec import load_spec
from shipway.synth import synthesize

from .conftest import SHIPPED

SPEC = load_spec(SHIPPED)
ENVS = list(SPEC.environments)
CERTIFICATE = SPEC.environments["production"].router.certificate_arn


@pytest.fixture(scope="module")
def templates(shipped_templates) -> dict[str, Template]:
    return {env: Template.from_json(shipped_templates[naming.platform_stack("acme", env)]) for env in ENVS}


@pytest.fixture(scope="module")
def raw(shipped_templates) -> dict[str, dict]:
    return {env: shipped_templates[naming.platform_stack("acme", env)] for env in ENVS}


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def only(template: dict, kind: str) -> dict:
    (resource,) = resources(template, kind).values()
    return resource


# --- stateful resources (their logical IDs are pinned in test_pinned_ids.py) ------------------------


@pytest.mark.parametrize("env", ENVS)
def test_log_groups_buckets_and_keys_are_retained(raw, env):
    kept = {"AWS::Logs::LogGroup", "AWS::S3::Bucket", "AWS::KMS::Key"}
    stateful = {k: r for k, r in raw[env]["Resources"].items() if r["Type"] in kept}
    assert len(stateful) == 5
    for logical_id, resource in stateful.items():
        policies = (resource["DeletionPolicy"], resource["UpdateReplacePolicy"])
        assert policies == ("RetainExceptOnCreate", "Retain"), logical_id


# --- 1. network ----------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_vpc_has_public_private_and_isolated_subnets_in_each_az(raw, env):
    azs = SPEC.environments[env].network.max_azs
    kinds = [
        next(t["Value"] for t in r["Properties"]["Tags"] if t["Key"] == "aws-cdk:subnet-type")
        for r in resources(raw[env], "AWS::EC2::Subnet").values()
    ]
    assert sorted(kinds) == sorted(["Public", "Private", "Isolated"] * azs)


@pytest.mark.parametrize("env", ENVS)
def test_nat_gateways_have_elastic_ips_that_are_outputs(raw, env):
    count = SPEC.environments[env].network.nat_gateways
    template = raw[env]
    gateways = resources(template, "AWS::EC2::NatGateway")
    eips = resources(template, "AWS::EC2::EIP")
    assert len(gateways) == len(eips) == count
    for gateway in gateways.values():
        assert gateway["Properties"]["AllocationId"]["Fn::GetAtt"][0] in eips
    outputs = {k: o for k, o in template["Outputs"].items() if k.startswith("NetworkEgressIp")}
    assert sorted(o["Value"]["Fn::GetAtt"][0] for o in outputs.values()) == sorted(eips)
    assert all(o["Value"]["Fn::GetAtt"][1] == "PublicIp" for o in outputs.values())


@pytest.mark.parametrize("env", ENVS)
def test_flow_logs_and_s3_gateway_endpoint(templates, env):
    template = templates[env]
    template.has_resource_properties("AWS::EC2::FlowLog", {
        "ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
        "LogGroupName": {"Ref": "NetworkFlowLogs2BEC3212"},
    })
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    template.has_resource_properties("AWS::EC2::VPCEndpoint", {
        "VpcEndpointType": "Gateway",
        "ServiceName": Match.object_like({"Fn::Join": ["", Match.array_with([".s3"])]}),
    })


# --- 2. cluster ----------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_cluster_has_container_insights_and_logged_exec(templates, env):
    templates[env].has_resource_properties("AWS::ECS::Cluster", {
        "ClusterName": f"acme-{env}",
        "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}],
        "Configuration": {"ExecuteCommandConfiguration": {
            "Logging": "OVERRIDE",
            "LogConfiguration": {"CloudWatchLogGroupName": {"Ref": "ClusterExecLogs956D313E"}},
        }},
    })


@pytest.mark.parametrize("env", ENVS)
def test_cluster_capacity_providers_are_fargate_fargate_spot_and_each_asg_pool(raw, env):
    template = raw[env]
    providers = resources(template, "AWS::ECS::CapacityProvider")
    names = {logical_id: p["Properties"]["Name"] for logical_id, p in providers.items()}
    asg_pools = [n for n, p in SPEC.environments[env].cluster.pools.items() if p.provisioning == "asg"]
    assert sorted(names.values()) == sorted(naming.capacity_provider_name("acme", env, n) for n in asg_pools)
    associations = only(template, "AWS::ECS::ClusterCapacityProviderAssociations")["Properties"]
    assert associations["CapacityProviders"][:2] == ["FARGATE", "FARGATE_SPOT"]
    assert sorted(p["Ref"] for p in associations["CapacityProviders"][2:]) == sorted(names)


def test_a_cluster_without_fargate_spot_does_not_associate_it(tmp_path):
    spec = load_spec(SHIPPED)
    staging = spec.environments["staging"]
    staging.cluster.fargate_spot = False
    out = synthesize(spec.model_copy(update={"apps": {}}), tmp_path)
    template = out.templates()["acme-staging-platform"]
    providers = only(template, "AWS::ECS::ClusterCapacityProviderAssociations")["Properties"]["CapacityProviders"]
    assert "FARGATE_SPOT" not in providers and "FARGATE" in providers


# --- 2. pools ------------------------------------------------------------------------------------


def pool_cases(kind: str) -> list[tuple[str, str]]:
    return [
        (env, name) for env, environment in SPEC.environments.items()
        for name, pool in environment.cluster.pools.items() if pool.provisioning == kind
    ]


def pool_resources(template: dict, name: str, kind: str) -> dict:
    prefix = "Pools" + name.capitalize()
    (resource,) = [r for k, r in resources(template, kind).items() if k.startswith(prefix)]
    return resource


@pytest.mark.parametrize("env, name", pool_cases("asg") + pool_cases("spot-fleet"))
def test_launch_templates_require_imdsv2_and_encrypt_a_gp3_root_volume_of_the_ecs_ami(raw, env, name):
    template = raw[env]
    pool = SPEC.environments[env].cluster.pools[name]
    data = pool_resources(template, name, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"] == {"HttpTokens": "required", "HttpPutResponseHopLimit": 1}
    assert data["BlockDeviceMappings"] == [{
        "DeviceName": "/dev/xvda",
        "Ebs": {"Encrypted": True, "VolumeType": "gp3", "VolumeSize": pool.root_volume_gb, "DeleteOnTermination": True},
    }]
    image = template["Parameters"][data["ImageId"]["Ref"]]
    assert image["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    assert image["Default"] == "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    profile = data["IamInstanceProfile"]["Arn"]["Fn::GetAtt"][0]
    assert template["Resources"][profile]["Properties"]["Roles"] == [{"Ref": "PoolsInstanceRole322724E7"}]


@pytest.mark.parametrize("env, name", pool_cases("asg"))
def test_asg_pools_mix_instance_types_and_buy_spot_capacity_optimized(raw, env, name):
    pool = SPEC.environments[env].cluster.pools[name]
    group = pool_resources(raw[env], name, "AWS::AutoScaling::AutoScalingGroup")["Properties"]
    assert (group["MinSize"], group["MaxSize"]) == (str(pool.min), str(pool.max))
    assert "DesiredCapacity" not in group  # ECS's managed scaling owns it
    assert group["NewInstancesProtectedFromScaleIn"] is True
    policy = group["MixedInstancesPolicy"]
    assert [o["InstanceType"] for o in policy["LaunchTemplate"]["Overrides"]] == pool.instance_types
    distribution = policy["InstancesDistribution"]
    if pool.spot:
        assert distribution == {
            "OnDemandBaseCapacity": 0, "OnDemandPercentageAboveBaseCapacity": 0,
            "SpotAllocationStrategy": "capacity-optimized",
        }
        assert group["CapacityRebalance"] is True
    else:
        assert distribution["OnDemandPercentageAboveBaseCapacity"] == 100
        assert "SpotAllocationStrategy" not in distribution
    assert len(group["VPCZoneIdentifier"]) == SPEC.environments[env].network.max_azs
    assert all("PrivateSubnet" in s["Ref"] for s in group["VPCZoneIdentifier"])


def test_the_shipped_spec_has_spot_and_on_demand_asg_pools():
    kinds = {SPEC.environments[e].cluster.pools[n].spot for e, n in pool_cases("asg")}
    assert kinds == {True, False}


@pytest.mark.parametrize("env, name", pool_cases("asg"))
def test_asg_pools_are_capacity_providers_with_managed_scaling_and_termination_protection(raw, env, name):
    provider = pool_resources(raw[env], name, "AWS::ECS::CapacityProvider")["Properties"]
    group_id = next(k for k in resources(raw[env], "AWS::AutoScaling::AutoScalingGroup") if k.startswith(
        "Pools" + name.capitalize()))
    assert provider["Name"] == naming.capacity_provider_name("acme", env, name)
    assert provider["AutoScalingGroupProvider"] == {
        "AutoScalingGroupArn": {"Ref": group_id},
        "ManagedScaling": {"Status": "ENABLED", "TargetCapacity": 100},
        "ManagedTerminationProtection": "ENABLED",
        "ManagedDraining": "ENABLED",
    }


@pytest.mark.parametrize("env, name", pool_cases("spot-fleet"))
def test_spot_fleet_pools_are_capacity_optimized_at_target_capacity_over_types_and_azs(raw, env, name):
    template = raw[env]
    pool = SPEC.environments[env].cluster.pools[name]
    config = pool_resources(template, name, "AWS::EC2::SpotFleet")["Properties"]["SpotFleetRequestConfigData"]
    assert config["AllocationStrategy"] == "capacityOptimized"
    assert config["TargetCapacity"] == pool.capacity
    assert config["Type"] == "maintain"
    (launch,) = config["LaunchTemplateConfigs"]
    assert launch["LaunchTemplateSpecification"]["LaunchTemplateId"]["Ref"].startswith(
        "Pools" + name.capitalize() + "LaunchTemplate"
    )
    overrides = [(o["InstanceType"], o["SubnetId"]["Ref"]) for o in launch["Overrides"]]
    azs = SPEC.environments[env].network.max_azs
    assert sorted({t for t, _ in overrides}) == sorted(pool.instance_types)
    assert len(overrides) == len(pool.instance_types) * azs == len(set(overrides))
    assert all("PrivateSubnet" in subnet for _, subnet in overrides)
    role = template["Resources"][config["IamFleetRole"]["Fn::GetAtt"][0]]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "spotfleet.amazonaws.com"}
    assert "service-role/AmazonEC2SpotFleetTaggingRole" in json.dumps(role["ManagedPolicyArns"])


@pytest.mark.parametrize("env", ENVS)
def test_instance_role_is_the_ecs_agent_on_this_cluster_only(templates, env):
    cluster_arn = {"Fn::GetAtt": ["Cluster9EE0221C", "Arn"]}
    templates[env].has_resource_properties("AWS::IAM::Policy", {
        "Roles": [{"Ref": "PoolsInstanceRole322724E7"}],
        "PolicyDocument": {"Statement": [
            {
                "Action": [
                    "ecs:DeregisterContainerInstance", "ecs:RegisterContainerInstance",
                    "ecs:SubmitAttachmentStateChanges", "ecs:SubmitContainerStateChange", "ecs:SubmitTaskStateChange",
                ],
                "Effect": "Allow", "Resource": cluster_arn,
            },
            {
                "Action": ["ecs:Poll", "ecs:StartTelemetrySession", "ecs:UpdateContainerInstancesState"],
                "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}}, "Effect": "Allow", "Resource": "*",
            },
            {"Action": "ecs:DiscoverPollEndpoint", "Effect": "Allow", "Resource": "*"},
        ], "Version": "2012-10-17"},
    })
    templates[env].has_resource_properties("AWS::IAM::Role", {
        "AssumeRolePolicyDocument": Match.object_like({"Statement": [Match.object_like(
            {"Principal": {"Service": "ec2.amazonaws.com"}}
        )]}),
        "ManagedPolicyArns": Match.absent(),
    })


@pytest.mark.parametrize("env", ENVS)
def test_instances_take_no_inbound_traffic(raw, env):
    group = raw[env]["Resources"]["PoolsSecurityGroup53955228"]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert not [r for r in resources(raw[env], "AWS::EC2::SecurityGroupIngress").values()
                if r["Properties"]["GroupId"] == {"Fn::GetAtt": ["PoolsSecurityGroup53955228", "GroupId"]}]


# --- 5. router -----------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_alb_is_named_drops_invalid_headers_and_logs_access(templates, env):
    attributes = [
        {"Key": "idle_timeout.timeout_seconds", "Value": str(SPEC.environments[env].router.idle_timeout)},
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
        {"Key": "access_logs.s3.enabled", "Value": "true"},
        {"Key": "access_logs.s3.bucket", "Value": {"Ref": "RouterAccessLogsBE6D68A9"}},
    ]
    templates[env].has_resource_properties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
        "Name": naming.load_balancer_name("acme", env), "Scheme": "internet-facing", "Type": "application",
        "LoadBalancerAttributes": Match.array_with(attributes),
    })


NOT_FOUND = [{
    "Type": "fixed-response",
    "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain", "MessageBody": "Not Found"},
}]


def listeners(template: dict) -> dict[int, dict]:
    found = resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    return {r["Properties"]["Port"]: r["Properties"] for r in found}


def test_with_a_certificate_https_on_443_tls12_and_http_redirects(raw):
    by_port = listeners(raw["production"])
    assert sorted(by_port) == [80, 443, 8443]
    https = by_port[443]
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": CERTIFICATE}]
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["DefaultActions"] == NOT_FOUND
    assert by_port[80]["Protocol"] == "HTTP"
    assert by_port[80]["DefaultActions"] == [{"Type": "redirect", "RedirectConfig": {
        "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301",
    }}]
    test = by_port[8443]
    assert (test["Protocol"], test["SslPolicy"], test["DefaultActions"]) == (
        "HTTPS", "ELBSecurityPolicy-TLS13-1-2-2021-06", NOT_FOUND
    )
    assert test["Certificates"] == [{"CertificateArn": CERTIFICATE}]


def test_without_a_certificate_http_only(raw):
    assert SPEC.environments["staging"].router.certificate_arn is None
    by_port = listeners(raw["staging"])
    assert sorted(by_port) == [80, 8080]
    assert {p["Protocol"] for p in by_port.values()} == {"HTTP"}
    assert by_port[80]["DefaultActions"] == by_port[8080]["DefaultActions"] == NOT_FOUND


@pytest.mark.parametrize("env, public, test_port", [("staging", [80], 8080), ("production", [80, 443], 8443)])
def test_router_is_public_on_its_ports_and_the_test_listener_only_from_the_nat_addresses(raw, env, public, test_port):
    ingress = raw[env]["Resources"]["RouterSecurityGroupF002F26F"]["Properties"]["SecurityGroupIngress"]
    world = sorted(r["FromPort"] for r in ingress if r.get("CidrIp") == "0.0.0.0/0")
    assert world == public
    test = [r for r in ingress if r["FromPort"] == test_port]
    eips = sorted(resources(raw[env], "AWS::EC2::EIP"))
    assert sorted(r["CidrIp"]["Fn::Join"][1][0]["Fn::GetAtt"][0] for r in test) == eips
    assert all(r["CidrIp"]["Fn::Join"][1][1] == "/32" and r["ToPort"] == test_port for r in test)


@pytest.mark.parametrize("env", ENVS)
def test_router_reaches_app_tasks_and_nothing_else(raw, env):
    router = {"Fn::GetAtt": ["RouterSecurityGroupF002F26F", "GroupId"]}
    app = {"Fn::GetAtt": ["AppSecurityGroupC396D536", "GroupId"]}
    (egress,) = resources(raw[env], "AWS::EC2::SecurityGroupEgress").values()
    assert egress["Properties"] == {
        "GroupId": router, "DestinationSecurityGroupId": app, "IpProtocol": "tcp", "FromPort": 1, "ToPort": 65535,
        "Description": "Router to app tasks on their ports",
    }
    ingress = [r["Properties"] for r in resources(raw[env], "AWS::EC2::SecurityGroupIngress").values()]
    assert {"GroupId": app, "SourceSecurityGroupId": router, "IpProtocol": "tcp", "FromPort": 1, "ToPort": 65535,
            "Description": "Router to app tasks on their ports"} in ingress
    # No inline egress: CloudFormation drops a group's default allow-all rule once an egress rule is added.
    assert "SecurityGroupEgress" not in raw[env]["Resources"]["RouterSecurityGroupF002F26F"]["Properties"]


@pytest.mark.parametrize("env", ENVS)
def test_access_log_bucket_is_encrypted_private_retained_expiring_and_tls_only(templates, raw, env):
    days = SPEC.environments[env].router.access_log_days
    templates[env].has_resource("AWS::S3::Bucket", {
        "Properties": Match.object_like({
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
            ]},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LifecycleConfiguration": {"Rules": [{"ExpirationInDays": days, "Status": "Enabled"}]},
        }),
        "DeletionPolicy": "RetainExceptOnCreate",
    })
    policy = only(raw[env], "AWS::S3::BucketPolicy")["Properties"]["PolicyDocument"]["Statement"]
    assert {k: v for k, v in policy[0].items() if k != "Resource"} == {
        "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}, "Effect": "Deny",
        "Principal": {"AWS": "*"}}
    writer = policy[1]
    assert writer["Action"] == "s3:PutObject"
    assert writer["Principal"]["Service"] == "logdelivery.elasticloadbalancing.amazonaws.com"
    # the regional ELB account of every Region that has one, picked at deploy time
    mapping = next(iter(raw[env]["Mappings"].values()))
    assert mapping["us-east-1"] == {"account": "127311923021"}
    assert mapping["ap-northeast-1"] == {"account": "582318560864"}
    assert mapping["ap-southeast-5"] == {"account": "none"}
    load_balancer = only(raw[env], "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert "RouterAccessLogsPolicyD2D2ABA9" in load_balancer["DependsOn"]


# --- alarms and discovery ------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_alarm_topic_is_encrypted_with_a_rotated_key_and_tls_only(templates, raw, env):
    template = templates[env]
    template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": ["AlarmsKey3C2381B3", "Arn"]}}
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    statements = only(raw[env], "AWS::SNS::TopicPolicy")["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in statements)
    assert any(s["Effect"] == "Allow" and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
               and s["Action"] == "sns:Publish" for s in statements)
    key = raw[env]["Resources"]["AlarmsKey3C2381B3"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in key)


@pytest.mark.parametrize("env", ENVS)
def test_cloud_map_namespace_is_private_in_the_vpc(templates, env):
    templates[env].has_resource_properties("AWS::ServiceDiscovery::PrivateDnsNamespace", {
        "Name": naming.namespace("acme", env), "Vpc": {"Ref": "Network6E62CE96"},
    })


# --- the published interface ---------------------------------------------------------------------

PLATFORM_KEYS = [
    Param.VPC_ID, Param.PRIVATE_SUBNETS, Param.ISOLATED_SUBNETS, Param.APP_SECURITY_GROUP, Param.CLUSTER_ARN,
    Param.LISTENER_ARN, Param.TEST_LISTENER_ARN, Param.ROUTER_SECURITY_GROUP, Param.LOAD_BALANCER_FULL_NAME,
    Param.ROUTER_DNS_NAME, Param.ALARM_TOPIC_ARN, Param.NAMESPACE_ID, Param.NAMESPACE_ARN, Param.EXEC_LOG_GROUP,
    Param.NAMESPACE_HOSTED_ZONE_ID, Param.LOGS_KEY_ARN,
]
# Published only with registry: s3 (tests/test_registry_stack.py).
S3_REGISTRY_KEYS = [Param.EGRESS_CIDRS, Param.REGISTRY_CREDENTIALS_ARN]


def published(template: dict) -> dict[str, object]:
    return {
        r["Properties"]["Name"]: r["Properties"]["Value"] for r in resources(template, "AWS::SSM::Parameter").values()
    }


@pytest.mark.parametrize("env", ENVS)
def test_every_platform_parameter_is_published(raw, env):
    values = published(raw[env])
    for key in PLATFORM_KEYS:
        assert naming.parameter("acme", env, key) in values, key
    param = lambda key: values[naming.parameter("acme", env, key)]  # noqa: E731
    listener_id = "RouterHttpsF34A67F6" if env == "production" else "RouterHttp91C6F1CD"
    assert param(Param.LISTENER_ARN) == {"Ref": listener_id}
    assert param(Param.TEST_LISTENER_ARN) == {"Ref": "RouterTestAEFF4382"}
    assert param(Param.CLUSTER_ARN) == {"Fn::GetAtt": ["Cluster9EE0221C", "Arn"]}
    assert param(Param.EXEC_LOG_GROUP) == {"Ref": "ClusterExecLogs956D313E"}
    assert param(Param.ROUTER_SECURITY_GROUP) == {"Fn::GetAtt": ["RouterSecurityGroupF002F26F", "GroupId"]}
    assert param(Param.LOAD_BALANCER_FULL_NAME) == {"Fn::GetAtt": ["Router501F17BE", "LoadBalancerFullName"]}
    assert param(Param.ALARM_TOPIC_ARN) == {"Ref": "AlarmsB3E93623"}
    assert param(Param.LOGS_KEY_ARN) == {"Fn::GetAtt": ["LogsKey195F8DFC", "Arn"]}


def test_platform_keys_cover_every_param_the_data_stack_does_not_publish():
    keys = {v for k, v in vars(Param).items() if k.isupper()}
    assert set(PLATFORM_KEYS) | set(S3_REGISTRY_KEYS) == {k for k in keys if not k.startswith("database/")}


def test_the_platform_publishes_no_cloudformation_exports(raw):
    for template in raw.values():
        assert all("Export" not in o for o in template.get("Outputs", {}).values())


def test_apps_never_change_the_platform(shipped, tmp_path):
    """Adding or removing an app leaves every platform template byte-identical."""
    without_apps = synthesize(load_spec(SHIPPED).model_copy(update={"apps": {}}), tmp_path)
    for env in ENVS:
        name = naming.platform_stack("acme", env)
        assert (without_apps.outdir / f"{name}.template.json").read_bytes() == (
            shipped.outdir / f"{name}.template.json"
        ).read_bytes()


def test_minimal_spec_platform_has_no_pools_and_http_only(minimal):
    template = minimal.templates()["tiny-dev-platform"]
    assert not resources(template, "AWS::EC2::LaunchTemplate")
    assert not resources(template, "AWS::ECS::CapacityProvider")
    associations = only(template, "AWS::ECS::ClusterCapacityProviderAssociations")["Properties"]
    assert associations["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert sorted(listeners(template)) == [80, 8080]


# --- cdk-nag: every acknowledgement answers a finding, and every finding is acknowledged -------------


@pytest.mark.parametrize("env", ENVS)
def test_each_acknowledgement_answers_a_real_finding(env, tmp_path, monkeypatch):
    """With acknowledgements off, cdk-nag's findings on the platform are exactly the acknowledged ones."""
    import aws_cdk as cdk

    from shipway import nag
    from shipway.stacks.platform import PlatformStack
    from shipway.synth import cdk_context

    acknowledged: set[tuple[str, str]] = set()
    monkeypatch.setattr(nag, "acknowledge", lambda scope, finding, reason: acknowledged.add(
        (scope.node.path, finding.removeprefix("AwsSolutions::"))
    ))
    app = cdk.App(outdir=str(tmp_path), context=cdk_context(), analytics_reporting=False)
    nag.add_checks(app)
    PlatformStack(app, spec=SPEC, env=env)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    findings = {
        (c["constructPath"], v["ruleName"])
        for plugin in report["pluginReports"] for v in plugin["violations"] for c in v["violatingConstructs"]
    }
    assert acknowledged, "the platform acknowledges findings"
    for path, finding in acknowledged:
        assert any(f == finding and (p == path or p.startswith(path + "/")) for p, f in findings), (path, finding)
    for path, finding in findings:
        assert any(f == finding and (path == p or path.startswith(p + "/")) for p, f in acknowledged), (path, finding)


@pytest.mark.parametrize("env", ENVS)
def test_every_log_group_of_the_environment_is_encrypted_with_its_logs_key(raw, env, shipped_templates):
    key = raw[env]["Resources"]["LogsKey195F8DFC"]
    (logs_statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"]
                         if "Service" in s["Principal"]]
    assert logs_statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]["Fn::Join"][1][-1] == (
        ":log-group:*")
    for name, template in shipped_templates.items():
        if name.endswith(f"-{env}") or name.startswith(f"acme-{env}-") or name in ("acme-minne", "acme-blog"):
            parameters = template.get("Parameters", {})
            for logical_id, group in template["Resources"].items():
                if group["Type"] != "AWS::Logs::LogGroup":
                    continue
                kms = group["Properties"]["KmsKeyId"]
                if name == f"acme-{env}-platform":
                    assert kms == {"Fn::GetAtt": ["LogsKey195F8DFC", "Arn"]}, (name, logical_id)
                else:  # the platform's key, read from its SSM parameter (the pipeline's: the first environment's)
                    owner = "staging" if name in ("acme-minne", "acme-blog") else env
                    key_arn = f"/shipway/acme/{owner}/logs/key-arn"
                    assert parameters[kms["Ref"]]["Default"] == key_arn, (name, logical_id)
