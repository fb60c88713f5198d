"""The data stack: PostgreSQL on RDS, its secrets and what it publishes for the apps."""

from __future__ import annotations

import json
import typing

import pytest
from aws_cdk.assertions import Capture, Match, Template
from cfnlint.api import lint

from shipway.constructs.database import CREATE_VERSIONS, connection_url, supports_performance_insights
from shipway.spec.model import Database

# Construct IDs of stateful resources are a contract: a change here means CloudFormation replaces them.
PINNED_LOGICAL_IDS = {
    "DatabaseF44359DD": "AWS::RDS::DBInstance",
    "DatabaseConnectionSecret3AAAD636": "AWS::SecretsManager::Secret",
    "DatabaseParameterGroup2A921026": "AWS::RDS::DBParameterGroup",
    "SubnetGroup": "AWS::RDS::DBSubnetGroup",
    "DatabaseSecurityGroup7319C0F6": "AWS::EC2::SecurityGroup",
    "DatabaseLogsPostgresqlA9BDE778": "AWS::Logs::LogGroup",
    "DatabaseLogsUpgrade2579E242": "AWS::Logs::LogGroup",
}
INSTANCE = "DatabaseF44359DD"
CONNECTION_SECRET = "DatabaseConnectionSecret3AAAD636"


@pytest.fixture(scope="module")
def staging(shipped_templates) -> Template:
    return Template.from_json(shipped_templates["acme-staging-data"])


@pytest.fixture(scope="module")
def production(shipped_templates) -> Template:
    return Template.from_json(shipped_templates["acme-production-data"])


@pytest.mark.parametrize("stack", ["acme-staging-data", "acme-production-data", "tiny-dev-data"])
def test_stateful_logical_ids_are_pinned(stack, shipped_templates, minimal):
    templates = {**shipped_templates, **minimal.templates()}
    resources = templates[stack]["Resources"]
    for logical_id, kind in PINNED_LOGICAL_IDS.items():
        assert resources[logical_id]["Type"] == kind, logical_id


def test_the_stack_has_termination_protection(shipped):
    assert shipped.stack("acme-staging-data").termination_protection is True


def test_instance_follows_the_spec_in_isolated_subnets(staging, production):
    staging.has_resource_properties("AWS::RDS::DBInstance", {
        "Engine": "postgres",
        "EngineVersion": "17.9",
        "DBInstanceClass": "db.t4g.micro",
        "AllocatedStorage": "20",
        "StorageType": "gp3",
        "MultiAZ": False,
        "BackupRetentionPeriod": 7,
        "DBInstanceIdentifier": "acme-staging",
        "DBName": "acme",
        "PubliclyAccessible": False,
        "DBSubnetGroupName": {"Ref": "SubnetGroup"},
        "VPCSecurityGroups": [{"Fn::GetAtt": ["DatabaseSecurityGroup7319C0F6", "GroupId"]}],
    })
    production.has_resource_properties("AWS::RDS::DBInstance", {
        "DBInstanceClass": "db.m6g.large", "AllocatedStorage": "100", "MultiAZ": True,
        "DBInstanceIdentifier": "acme-production",
    })
    staging.has_resource_properties("AWS::RDS::DBSubnetGroup", {
        "SubnetIds": Match.array_with([{"Fn::Select": [0, {"Fn::Split": [",", {"Ref": Match.string_like_regexp(
            "isolatedsubnets")}]}]}]),
    })


def test_instance_is_encrypted_protected_and_snapshotted(staging):
    staging.has_resource("AWS::RDS::DBInstance", {
        "DeletionPolicy": "Snapshot",
        "UpdateReplacePolicy": "Snapshot",
        "Properties": Match.object_like({
            "StorageEncrypted": True,
            "DeletionProtection": True,
            "CopyTagsToSnapshot": True,
            "AutoMinorVersionUpgrade": True,
            "EnableIAMDatabaseAuthentication": True,
        }),
    })


def test_logs_are_exported_to_retained_log_groups_created_first(staging):
    staging.has_resource_properties("AWS::RDS::DBInstance", {
        "EnableCloudwatchLogsExports": ["postgresql", "upgrade"],
    })
    for log_type in ("postgresql", "upgrade"):
        staging.has_resource("AWS::Logs::LogGroup", {
            "Properties": {
                "LogGroupName": f"/aws/rds/instance/acme-staging/{log_type}", "RetentionInDays": 30,
                "Tags": Match.any_value(),
            },
            "DeletionPolicy": "RetainExceptOnCreate",
            "UpdateReplacePolicy": "Retain",
        })
    depends_on = staging.to_json()["Resources"][INSTANCE]["DependsOn"]
    assert {"DatabaseLogsPostgresqlA9BDE778", "DatabaseLogsUpgrade2579E242"} <= set(depends_on)


def test_parameter_group_forces_tls(staging):
    staging.has_resource_properties("AWS::RDS::DBParameterGroup", {
        "Family": "postgres17", "Parameters": {"rds.force_ssl": "1"},
    })
    staging.has_resource_properties("AWS::RDS::DBInstance", {
        "DBParameterGroupName": {"Ref": "DatabaseParameterGroup2A921026"},
    })


@pytest.mark.parametrize(("engine", "instance_class", "supported"), [
    ("postgres", "db.t4g.micro", True),   # RDS for PostgreSQL has no instance-class restriction
    ("postgres", "db.t3.small", True),
    ("postgres", "db.m6g.large", True),
    ("mysql", "db.t4g.micro", False),     # MySQL and MariaDB lack it on micro and small burstable classes
    ("mariadb", "db.t3.small", False),
    ("mysql", "db.t4g.medium", True),
    ("mysql", "db.m6g.large", True),
])
def test_performance_insights_follows_the_instance_class_rule(engine, instance_class, supported):
    assert supports_performance_insights(engine, instance_class) is supported


def test_performance_insights_is_on_for_postgres_on_every_class(staging, production):
    # staging runs db.t4g.micro, production db.m6g.large: both support it on PostgreSQL
    for template in (staging, production):
        template.has_resource_properties("AWS::RDS::DBInstance", {
            "EnablePerformanceInsights": True, "PerformanceInsightsRetentionPeriod": 7,
        })


def test_master_password_is_managed_and_rotated_by_rds(staging):
    staging.has_resource_properties("AWS::RDS::DBInstance", {
        "ManageMasterUserPassword": True,
        "MasterUsername": "shipway",
        "MasterUserPassword": Match.absent(),
    })
    template = staging.to_json()
    # no rotation Lambda, no transform: the template deploys with plain `aws cloudformation deploy`
    assert "Transform" not in template
    assert not staging.find_resources("AWS::Lambda::Function")
    assert not staging.find_resources("AWS::SecretsManager::RotationSchedule")


def test_no_secret_value_is_in_the_template(staging):
    text = json.dumps(staging.to_json())
    assert "GenerateSecretString" not in text
    assert "{{resolve:" not in text  # nothing even reads a secret at deploy time


def test_connection_secret_holds_a_url_without_password_and_is_retained(staging):
    url = Capture()
    staging.has_resource("AWS::SecretsManager::Secret", {
        "Properties": Match.object_like({"SecretString": url}),
        "DeletionPolicy": "RetainExceptOnCreate",
        "UpdateReplacePolicy": "Retain",
    })
    assert url.as_object() == {"Fn::Join": ["", [
        "postgres://shipway@",
        {"Fn::GetAtt": [INSTANCE, "Endpoint.Address"]},
        ":",
        {"Fn::GetAtt": [INSTANCE, "Endpoint.Port"]},
        "/acme?sslmode=require",
    ]]}


def test_connection_url_carries_no_password():
    assert connection_url(username="u", host="h", port="5432", database_name="d") == (
        "postgres://u@h:5432/d?sslmode=require"
    )


def test_secret_arns_and_the_endpoint_are_published_for_the_apps(staging):
    staging.has_resource_properties("AWS::SSM::Parameter", {
        "Name": "/shipway/acme/staging/database/url-secret-arn", "Value": {"Ref": CONNECTION_SECRET},
    })
    staging.has_resource_properties("AWS::SSM::Parameter", {
        "Name": "/shipway/acme/staging/database/master-secret-arn",
        "Value": {"Fn::GetAtt": [INSTANCE, "MasterUserSecret.SecretArn"]},
    })
    staging.has_resource_properties("AWS::SSM::Parameter", {
        "Name": "/shipway/acme/staging/database/host", "Value": {"Fn::GetAtt": [INSTANCE, "Endpoint.Address"]},
    })
    staging.has_resource_properties("AWS::SSM::Parameter", {
        "Name": "/shipway/acme/staging/database/port", "Value": {"Fn::GetAtt": [INSTANCE, "Endpoint.Port"]},
    })


def test_only_app_tasks_reach_the_database(staging):
    ingress = staging.find_resources("AWS::EC2::SecurityGroupIngress")
    assert len(ingress) == 1
    (rule,) = ingress.values()
    assert rule["Properties"]["GroupId"] == {"Fn::GetAtt": ["DatabaseSecurityGroup7319C0F6", "GroupId"]}
    assert rule["Properties"]["FromPort"] == rule["Properties"]["ToPort"] == 5432
    assert "appssecuritygroupid" in rule["Properties"]["SourceSecurityGroupId"]["Ref"]
    group = staging.to_json()["Resources"]["DatabaseSecurityGroup7319C0F6"]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert group["SecurityGroupEgress"][0]["Description"] == "Disallow all traffic"


def test_every_major_the_spec_admits_has_a_version_rds_creates(tmp_path):
    majors = typing.get_args(Database.model_fields["version"].annotation)
    assert sorted(CREATE_VERSIONS) == sorted(majors)
    for major, version in CREATE_VERSIONS.items():
        assert version.split(".")[0] == major
        template = {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
                "Engine": "postgres", "EngineVersion": version, "DBInstanceClass": "db.t4g.micro",
                "AllocatedStorage": "20", "MasterUsername": "shipway", "ManageMasterUserPassword": True,
            }}},
        }
        findings = lint(json.dumps(template), regions=["us-east-1"])
        assert [f"{m.rule.id} {m.message}" for m in findings] == [], version


def test_a_master_rotation_redeploys_nothing(staging):
    """No app task holds the master password (each has its own role), so nothing needs replacing after RDS
    rotates it: the provision task reads it when it starts."""
    staging.resource_count_is("AWS::Events::Rule", 0)
    staging.resource_count_is("AWS::StepFunctions::StateMachine", 0)
