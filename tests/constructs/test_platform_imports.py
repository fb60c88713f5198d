"""``PlatformImports`` in a bare stack: handles on a platform published in SSM, each read only when used."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from shipway.constructs.platform_imports import PlatformImports
from shipway.constructs.service import ProcessService


def parameters(template: Template) -> dict[str, str]:
    """The stack's CloudFormation parameters that read the platform: logical ID -> the SSM path."""
    return {
        k: v["Default"] for k, v in template.to_json().get("Parameters", {}).items()
        if str(v.get("Default", "")).startswith("/shipway/")
    }


def test_a_worker_on_the_platform_reads_its_subnets_and_security_group_and_nothing_else(stack, container):
    platform = PlatformImports(stack, "Platform", project="acme", env="staging", max_azs=3)
    ProcessService(stack, "Worker", container=container, cluster=platform.cluster, vpc=platform.private_vpc,
                   security_groups=[platform.app_security_group], service_name="app-worker")
    template = Template.from_stack(stack)
    assert sorted(parameters(template).values()) == [
        "/shipway/acme/staging/apps/security-group-id", "/shipway/acme/staging/vpc/private-subnets",
    ]
    # The cluster is named, not read: its name derives from the project and environment.
    template.has_resource_properties("AWS::ECS::Service", {
        "Cluster": "acme-staging",
        "NetworkConfiguration": {"AwsvpcConfiguration": Match.object_like({
            "Subnets": [{"Fn::Select": [i, {"Fn::Split": [",", Match.any_value()]}]} for i in range(3)],
        })},
    })


def test_the_listener_topic_and_namespace_are_read_on_first_use(stack):
    platform = PlatformImports(stack, "Platform", project="acme", env="production", max_azs=2)
    assert platform.cluster_name == "acme-production"
    assert platform.namespace_name == "production.acme.internal"
    assert platform.alarm_topic.topic_arn
    assert platform.listener.listener_arn
    read = sorted(parameters(Template.from_stack(stack)).values())
    assert read == ["/shipway/acme/production/alarms/topic-arn", "/shipway/acme/production/router/listener-arn"]
