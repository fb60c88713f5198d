"""``Database`` in a bare stack, without a spec: its defaults, and your subnet group and security group."""

from __future__ import annotations

import inspect
import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk.assertions import Capture, Match, Template

from shipway import nag, naming
from shipway.constructs.database import Database
from shipway.constructs.retention import retention
from shipway.spec.model import Database as DatabaseSpec

ISOLATED = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]


def isolated_vpc(scope: cdk.Stack) -> ec2.IVpc:
    """A VPC of two isolated subnets, imported: the stack holds only what the construct makes."""
    return ec2.Vpc.from_vpc_attributes(
        scope, "Network", vpc_id="vpc-0a1b2c3d4e5f60718", availability_zones=["eu-west-1a", "eu-west-1b"],
        isolated_subnet_ids=ISOLATED, isolated_subnet_route_table_ids=["rtb-0a1", "rtb-0a2"],
    )


def test_an_encrypted_tls_only_postgres_that_leaves_a_snapshot(stack):
    vpc = ec2.Vpc(stack, "Network", max_azs=2, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
    ])
    group = ec2.SecurityGroup(stack, "Group", vpc=vpc)
    subnets = rds.SubnetGroup(stack, "Subnets", vpc=vpc, description="data",
                              vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED))
    database = Database(
        stack, "Database", vpc=vpc, subnet_group=subnets, security_group=group, version="16",
        instance_type="db.r7g.large", storage_gb=100, multi_az=True, backup_retention_days=14,
        instance_identifier="shop-prod", database_name="shop", username="admin",
        log_retention=logs.RetentionDays.ONE_YEAR,
    )
    template = Template.from_stack(stack)
    template.has_resource("AWS::RDS::DBInstance", {
        "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot",
        "Properties": Match.object_like({
            "DBInstanceIdentifier": "shop-prod", "DBName": "shop", "MasterUsername": "admin",
            "EngineVersion": "16.13", "DBInstanceClass": "db.r7g.large", "AllocatedStorage": "100",
            "StorageType": "gp3", "StorageEncrypted": True, "DeletionProtection": True, "MultiAZ": True,
            "BackupRetentionPeriod": 14, "ManageMasterUserPassword": True, "EnableIAMDatabaseAuthentication": True,
        }),
    })
    template.has_resource_properties("AWS::RDS::DBParameterGroup", {"Parameters": {"rds.force_ssl": "1"}})
    template.has_resource_properties("AWS::Logs::LogGroup", {
        "LogGroupName": "/aws/rds/instance/shop-prod/postgresql", "RetentionInDays": 365,
    })
    assert database.master_secret is not None and database.connection_secret is not None


def test_your_subnet_group_and_security_group_are_the_only_ones(stack):
    vpc = isolated_vpc(stack)
    group = ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-0a1b2c3d4e5f60718", mutable=False)
    subnets = rds.SubnetGroup.from_subnet_group_name(stack, "Subnets", "shop-data")
    database = Database(stack, "Database", vpc=vpc, instance_identifier="shop-prod", subnet_group=subnets,
                        security_group=group)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::RDS::DBSubnetGroup", 0)
    template.resource_count_is("AWS::EC2::SecurityGroup", 0)
    template.has_resource_properties("AWS::RDS::DBInstance", {
        "DBSubnetGroupName": "shop-data", "VPCSecurityGroups": ["sg-0a1b2c3d4e5f60718"],
    })
    assert (database.subnet_group, database.security_group) == (subnets, group)


def test_by_default_a_small_single_az_postgres_17_in_the_vpcs_isolated_subnets(stack):
    vpc = isolated_vpc(stack)
    database = Database(stack, "Database", vpc=vpc, instance_identifier="shop-prod")
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::RDS::DBInstance", {
        "DBInstanceIdentifier": "shop-prod", "EngineVersion": "17.9", "DBInstanceClass": "db.t4g.micro",
        "AllocatedStorage": "20", "MultiAZ": False, "BackupRetentionPeriod": 7,
        "DBName": "shop_prod", "MasterUsername": "shipway",
        "DBSubnetGroupName": {"Ref": Match.string_like_regexp("^DatabaseSubnetGroup")},
        "VPCSecurityGroups": [{"Fn::GetAtt": [Match.string_like_regexp("^DatabaseSecurityGroup"), "GroupId"]}],
    })
    template.resource_count_is("AWS::RDS::DBSubnetGroup", 1)
    template.has_resource_properties("AWS::RDS::DBSubnetGroup", {"SubnetIds": ISOLATED})
    # It admits no one until you say whom, and sends nothing (CDK's placeholder rule matches no traffic).
    template.resource_count_is("AWS::EC2::SecurityGroup", 1)
    template.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)
    template.has_resource_properties("AWS::EC2::SecurityGroup", {
        "VpcId": "vpc-0a1b2c3d4e5f60718", "SecurityGroupIngress": Match.absent(),
        "SecurityGroupEgress": [Match.object_like({"CidrIp": "255.255.255.255/32"})],
    })
    for log_type in ("postgresql", "upgrade"):
        template.has_resource_properties("AWS::Logs::LogGroup", {
            "LogGroupName": f"/aws/rds/instance/shop-prod/{log_type}", "RetentionInDays": 30,
        })
    url = Capture()
    template.has_resource_properties("AWS::SecretsManager::Secret", {"SecretString": url})
    assert "postgres://shipway@" in json.dumps(url.as_object())
    assert json.dumps(url.as_object()).count("/shop_prod?sslmode=require") == 1
    assert (database.database_name, database.username) == ("shop_prod", naming.DATABASE_USERNAME)


def test_a_client_you_admit_reaches_the_created_security_group(stack):
    database = Database(stack, "Database", vpc=isolated_vpc(stack), instance_identifier="shop-prod")
    clients = ec2.SecurityGroup.from_security_group_id(stack, "Clients", "sg-0c1c2c3c4c5c6c7c8", mutable=False)
    database.instance.connections.allow_default_port_from(clients, "PostgreSQL from clients")
    Template.from_stack(stack).has_resource_properties("AWS::EC2::SecurityGroupIngress", {
        "GroupId": {"Fn::GetAtt": [Match.string_like_regexp("^DatabaseSecurityGroup"), "GroupId"]},
        "SourceSecurityGroupId": "sg-0c1c2c3c4c5c6c7c8",
    })


def test_a_version_rds_does_not_create_is_refused_by_name(stack):
    with pytest.raises(ValueError, match=r"Database Database: version must be one of 13, .*18, not '12'"):
        Database(stack, "Database", vpc=isolated_vpc(stack), instance_identifier="shop-prod", version="12")


def test_the_constructs_defaults_are_the_specs():
    """A bare Database and a ``database`` that sets nothing in shipway.yaml ask RDS for the same instance."""
    defaults = {k: p.default for k, p in inspect.signature(Database.__init__).parameters.items()}
    spec = DatabaseSpec()
    for keyword in ("version", "instance_type", "storage_gb", "multi_az", "backup_retention_days"):
        assert defaults[keyword] == getattr(spec, keyword), keyword
    assert defaults["log_retention"] == retention(spec.log_retention_days)
    assert defaults["username"] == naming.DATABASE_USERNAME


def test_with_its_defaults_it_passes_cdk_nag_on_its_own_acknowledgements(tmp_path):
    app = cdk.App(outdir=str(tmp_path), analytics_reporting=False)
    nag.add_checks(app)
    stack = cdk.Stack(app, "Data", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    Database(stack, "Database", vpc=isolated_vpc(stack), instance_identifier="shop-prod")
    app.synth()  # cdk-nag fails the synth on a finding nobody acknowledged
