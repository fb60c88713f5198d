"""``Database``, ``AppDatabase`` and ``RedeployOnRotation`` in a bare stack, without a spec."""

from __future__ import annotations

import json

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Capture, Match, Template

from shipway.constructs.app_database import AppDatabase, RedeployOnRotation
from shipway.constructs.database import Database


def test_an_encrypted_tls_only_postgres_that_leaves_a_snapshot(stack):
    vpc = ec2.Vpc(stack, "Network", max_azs=2, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
    ])
    group = ec2.SecurityGroup(stack, "Group", vpc=vpc)
    subnets = rds.SubnetGroup(stack, "Subnets", vpc=vpc, description="data",
                              vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED))
    database = Database(
        stack, "Database", vpc=vpc, subnet_group=subnets, security_group=group, version="17",
        instance_type="db.t4g.micro", storage_gb=20, multi_az=False, backup_retention_days=7,
        instance_identifier="shop-prod", database_name="shop", username="admin",
        log_retention=logs.RetentionDays.ONE_MONTH,
    )
    template = Template.from_stack(stack)
    template.has_resource("AWS::RDS::DBInstance", {
        "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot",
        "Properties": Match.object_like({
            "DBInstanceIdentifier": "shop-prod", "DBName": "shop", "MasterUsername": "admin",
            "DBInstanceClass": "db.t4g.micro", "StorageType": "gp3", "StorageEncrypted": True,
            "DeletionProtection": True, "MultiAZ": False, "ManageMasterUserPassword": True,
            "EnableIAMDatabaseAuthentication": True,
        }),
    })
    template.has_resource_properties("AWS::RDS::DBParameterGroup", {"Parameters": {"rds.force_ssl": "1"}})
    template.has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": "/aws/rds/instance/shop-prod/postgresql"})
    assert database.master_secret is not None and database.connection_secret is not None


def test_an_apps_own_login_rotates_and_is_provisioned_by_a_task(stack, vpc, cluster):
    group = ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-0a1b2c3d4e5f60718", mutable=False)
    master = secretsmanager.Secret.from_secret_complete_arn(
        stack, "Master", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds-master-AbCdEf",
    )
    log_group = logs.LogGroup(stack, "Logs")
    database = AppDatabase(
        stack, "AppDatabase", database_name="minne", role_name="minne", shared_database="acme",
        host="db.example.internal", port="5432", master_secret=master, cluster=cluster, vpc=vpc,
        subnets=ec2.SubnetSelection(subnets=vpc.private_subnets), security_group=group, rotation_days=14,
        log_group=log_group, provision_family="acme-minne-prod-provision", provision_role_name="db-minne",
        state_machine_name="acme-minne-prod-provision",
    )
    RedeployOnRotation(stack, "Redeploy", secret_arn=database.secret.secret_arn, cluster_arn=cluster.cluster_arn,
                       cluster_name=cluster.cluster_name, services=["minne-web"], log_group=log_group)
    template = Template.from_stack(stack)
    template_string = Capture()
    template.has_resource("AWS::SecretsManager::Secret", {
        "DeletionPolicy": "RetainExceptOnCreate",
        "Metadata": Match.object_like({"shipway:database": {"database": "minne", "role": "minne"}}),
        "Properties": Match.object_like({"GenerateSecretString": Match.object_like({
            "SecretStringTemplate": template_string,
        })}),
    })
    secret = json.loads(template_string.as_string())
    assert (secret["dbname"], secret["username"], secret["host"], secret["port"]) == (
        "minne", "minne", "db.example.internal", "5432")
    assert "password" not in secret["url"]
    template.has_resource_properties("AWS::SecretsManager::RotationSchedule", {
        "HostedRotationLambda": Match.object_like({"RotationType": "PostgreSQLSingleUser"}),
        "RotationRules": {"ScheduleExpression": "rate(14 days)"},
    })
    template.has_resource_properties("AWS::StepFunctions::StateMachine", {
        "StateMachineName": "acme-minne-prod-provision",
    })
    template.has_resource_properties("AWS::ECS::TaskDefinition", {"Family": "acme-minne-prod-provision"})
    template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": Match.object_like({
            "detail-type": ["Secret Label Updated"], "detail": {"labelUpdated": ["AWSCURRENT"]},
        }),
        "Targets": [Match.object_like({"Input": '{"services":["minne-web"]}'})],
    })
    assert set(database.container_secrets()) == {
        "DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD",
    }
