"""docs/constructs.md's example, run as written: shipway's constructs in a plain CDK app, no spec anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Match, Template

DOC = Path(__file__).parents[2] / "docs" / "constructs.md"


@pytest.fixture(scope="module")
def example() -> dict:
    """The namespace the doc's first Python block leaves behind, after its ``app.synth()``."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert code is not None
    namespace: dict = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)
    return namespace


def test_it_imports_only_from_shipway_constructs_and_cdk(example):
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert code is not None
    imports = re.findall(r"^from (\S+) import", code.group(1), re.MULTILINE)
    assert set(imports) == {"aws_cdk", "shipway.constructs"}
    assert isinstance(example["app"], cdk.App)


def test_the_example_synthesizes_a_canary_web_service_a_worker_a_job_and_alarms(example):
    template = Template.from_stack(example["stack"])
    template.resource_count_is("AWS::ECS::Service", 2)
    template.resource_count_is("AWS::ECS::TaskDefinition", 3)  # web, worker, one-off
    template.resource_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", 2)  # canary: primary and alternate
    template.resource_count_is("AWS::Scheduler::Schedule", 1)
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.has_resource_properties("AWS::ECS::Service", {
        "LaunchType": "FARGATE",
        "DeploymentConfiguration": Match.object_like({
            "Strategy": "CANARY",
            "CanaryConfiguration": {"CanaryPercent": 10, "CanaryBakeTimeInMinutes": 5},
            "Alarms": Match.object_like({"Enable": True, "Rollback": True, "AlarmNames": [
                {"Ref": Match.string_like_regexp(f"^Monitoringweb{alarm}")}
                for alarm in ("ErrorRate", "Latency", "RouterErrorRate")
            ]}),
        }),
    })
    rule_groups = Capture()
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::ListenerRule", {
        "Priority": 10,
        "Conditions": [{"Field": "host-header", "HostHeaderConfig": {"Values": ["shop.example.com"]}}],
        "Actions": [Match.object_like({"ForwardConfig": {"TargetGroups": rule_groups}})],
    })
    assert [g["Weight"] for g in rule_groups.as_array()] == [100, 0]
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "Cpu": "512", "Memory": "1024",
        "ContainerDefinitions": [Match.object_like({"Command": ["/bin/sh", "-c", "bin/jobs"]})],
    })
    template.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {
        "MinCapacity": 2, "MaxCapacity": 10,
    })


def test_every_exported_construct_is_on_the_page_and_has_a_bare_stack_test():
    import constructs

    import shipway.constructs as exported

    page = DOC.read_text()
    tests = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    for name in exported.__all__:
        value = getattr(exported, name)
        if isinstance(value, type) and issubclass(value, constructs.Construct):
            assert f"`{name}`" in page, name
            assert f"{name}(" in tests, name
