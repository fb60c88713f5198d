"""docs/constructs.md's example, run as written: shipway's constructs in a plain CDK app, no spec anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aws_cdk.assertions import Capture, Match, Template

DOC = Path(__file__).parents[2] / "docs" / "constructs.md"


def run(block: str) -> dict:
    """The namespace a Python block of the doc leaves behind, after its ``app.synth()``."""
    namespace: dict = {}
    exec(compile(block, str(DOC), "exec"), namespace)
    return namespace


# The page's runnable examples: its first two Python blocks (the third shows how shipway calls them).
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)[:2]


@pytest.fixture(scope="module")
def example() -> dict:
    return run(BLOCKS[0])


@pytest.fixture(scope="module")
def database_example() -> dict:
    return run(BLOCKS[1])


@pytest.mark.parametrize("block", BLOCKS, ids=["services", "database"])
def test_it_imports_only_from_shipway_constructs_and_cdk(block):
    imports = re.findall(r"^from (\S+) import", block, re.MULTILINE)
    assert set(imports) == {"aws_cdk", "shipway.constructs"}
    assert "app.synth()" in block


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



def test_the_database_example_admits_the_apps_tasks_and_gives_them_their_own_login(database_example):
    template = Template.from_stack(database_example["stack"])
    template.has_resource_properties("AWS::RDS::DBInstance", {
        "DBInstanceIdentifier": "shop", "DBName": "shop", "EngineVersion": "17.9", "DBInstanceClass": "db.t4g.micro",
    })
    template.resource_count_is("AWS::RDS::DBSubnetGroup", 1)
    template.has_resource_properties("AWS::EC2::SecurityGroupIngress", {
        "GroupId": {"Fn::GetAtt": [Match.string_like_regexp("^DatabaseSecurityGroup"), "GroupId"]},
        "SourceSecurityGroupId": {"Fn::GetAtt": [Match.string_like_regexp("^AppTasks"), "GroupId"]},
    })
    template.has_resource_properties("AWS::SecretsManager::RotationSchedule", {
        "HostedRotationLambda": Match.object_like({"RotationType": "PostgreSQLSingleUser"}),
    })
    names = Capture()
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "ContainerDefinitions": [Match.object_like({"Command": ["/bin/sh", "-c", "bin/jobs"], "Secrets": names})],
    })
    assert {s["Name"] for s in names.as_array()} >= {"DATABASE_URL", "PGPASSWORD"}

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
