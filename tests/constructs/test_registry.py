"""``S3Registry`` and ``EcrScanOnPush`` in a bare stack: a registry on S3 behind your listener, ECR's scan rule."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Capture, Match, Template

from shipway.constructs.registry import REGISTRY_PORT, EcrScanOnPush, S3Registry


def registry_parts(stack: cdk.Stack) -> dict:
    vpc = ec2.Vpc(stack, "Network", max_azs=2, nat_gateways=1)
    alb = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc, internet_facing=True)
    listener = alb.add_listener("Http", port=80, default_action=elbv2.ListenerAction.fixed_response(404))
    return {
        "cluster": ecs.Cluster(stack, "Cluster", vpc=vpc), "listener": listener,
        "router_security_group": alb.connections.security_groups[0], "host": "registry.example.com",
    }


def test_five_sources_take_two_rules_from_the_lowest_priority_down(stack):
    sources = [f"198.51.100.{i}/32" for i in range(1, 6)]
    registry = S3Registry(stack, "Registry", **registry_parts(stack), source_cidrs=sources,
                          credentials_secret_name="registry-credentials")
    template = Template.from_stack(stack)
    assert len(registry.rules) == 2
    first, second = Capture(), Capture()
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::ListenerRule", {
        "Priority": 50000, "Conditions": Match.array_with([
            {"Field": "source-ip", "SourceIpConfig": {"Values": first}},
        ]),
    })
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::ListenerRule", {
        "Priority": 49999, "Conditions": Match.array_with([
            {"Field": "source-ip", "SourceIpConfig": {"Values": second}},
        ]),
    })
    assert first.as_array() + second.as_array() == sources
    template.has_resource("AWS::S3::Bucket", {
        "DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain",
        "Properties": Match.object_like({"VersioningConfiguration": {"Status": "Enabled"}}),
    })
    template.has_resource_properties("AWS::SecretsManager::Secret", {"Name": "registry-credentials"})
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::TargetGroup", {
        "Port": REGISTRY_PORT, "TargetType": "ip", "HealthCheckPath": "/v2/", "Matcher": {"HttpCode": "401"},
    })
    template.has_resource_properties("AWS::ECS::Service", {"DesiredCount": 2, "LaunchType": "FARGATE"})
    # Only the router reaches the tasks.
    template.has_resource_properties("AWS::EC2::SecurityGroupIngress", {
        "FromPort": REGISTRY_PORT, "ToPort": REGISTRY_PORT,
        "SourceSecurityGroupId": {"Fn::GetAtt": [Match.string_like_regexp("^AlbSecurityGroup"), "GroupId"]},
    })


def test_it_needs_a_source(stack):
    with pytest.raises(ValueError, match="at least one source CIDR"):
        S3Registry(stack, "Registry", **registry_parts(stack), source_cidrs=[])


def test_ecr_scan_on_push_is_one_wildcard_rule(stack):
    EcrScanOnPush(stack, "Scan")
    Template.from_stack(stack).has_resource_properties("AWS::ECR::RegistryScanningConfiguration", {
        "ScanType": "BASIC",
        "Rules": [{"ScanFrequency": "SCAN_ON_PUSH", "RepositoryFilters": [{"Filter": "*", "FilterType": "WILDCARD"}]}],
    })
