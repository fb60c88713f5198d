"""``AppDatabase`` and ``RedeployOnRotation`` in a bare stack, without a spec."""

from __future__ import annotations

import inspect
import json

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Capture, Match, Template

from shipway.constructs.app_database import LOG_RETENTION, AppDatabase, RedeployOnRotation
from shipway.constructs.retention import retention
from shipway.spec.model import App, Database


def connection(stack) -> dict:
    """What every AppDatabase needs from the instance: where it is, its master secret, its first database."""
    master = secretsmanager.Secret.from_secret_complete_arn(
        stack, "Master", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds-master-AbCdEf",
    )
    return {"host": "db.example.internal", "port": "5432", "master_secret": master, "shared_database": "acme"}


def app_group(stack) -> ec2.ISecurityGroup:
    return ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-0a1b2c3d4e5f60718", mutable=False)


def test_an_apps_own_login_rotates_and_is_provisioned_by_a_task(stack, vpc, cluster):
    log_group = logs.LogGroup(stack, "Logs")
    database = AppDatabase(
        stack, "AppDatabase", database_name="minne", role_name="minne_app", cluster=cluster, vpc=vpc,
        subnets=ec2.SubnetSelection(subnets=vpc.private_subnets), security_group=app_group(stack), rotation_days=14,
        log_group=log_group, provision_family="acme-minne-prod-provision", provision_role_name="db-minne",
        state_machine_name="acme-minne-prod-provision", **connection(stack),
    )
    RedeployOnRotation(stack, "Redeploy", secret_arn=database.secret.secret_arn, cluster_arn=cluster.cluster_arn,
                       cluster_name=cluster.cluster_name, services=["minne-web"], log_group=log_group)
    template = Template.from_stack(stack)
    template_string = Capture()
    template.has_resource("AWS::SecretsManager::Secret", {
        "DeletionPolicy": "RetainExceptOnCreate",
        "Metadata": Match.object_like({"shipway:database": {"database": "minne", "role": "minne_app"}}),
        "Properties": Match.object_like({"GenerateSecretString": Match.object_like({
            "SecretStringTemplate": template_string,
        })}),
    })
    secret = json.loads(template_string.as_string())
    assert (secret["dbname"], secret["username"], secret["host"], secret["port"]) == (
        "minne", "minne_app", "db.example.internal", "5432")
    assert "password" not in secret["url"]
    template.has_resource_properties("AWS::SecretsManager::RotationSchedule", {
        "HostedRotationLambda": Match.object_like({
            "RotationType": "PostgreSQLSingleUser", "VpcSubnetIds": "subnet-0a1b2c3d4e5f60718",
            "VpcSecurityGroupIds": "sg-0a1b2c3d4e5f60718",
        }),
        "RotationRules": {"ScheduleExpression": "rate(14 days)"},
    })
    template.has_resource_properties("AWS::StepFunctions::StateMachine", {
        "StateMachineName": "acme-minne-prod-provision",
    })
    template.has_resource_properties("AWS::ECS::TaskDefinition", {"Family": "acme-minne-prod-provision"})
    template.has_resource_properties("AWS::IAM::Role", {"RoleName": "db-minne"})
    # Your log group is where both log: the construct makes none of its own.
    template.resource_count_is("AWS::Logs::LogGroup", 1)
    assert database.log_group is log_group
    template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": Match.object_like({
            "detail-type": ["Secret Label Updated"], "detail": {"labelUpdated": ["AWSCURRENT"]},
        }),
        "Targets": [Match.object_like({"Input": '{"services":["minne-web"]}'})],
    })
    assert set(database.container_secrets()) == {
        "DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD",
    }


def test_by_default_the_role_is_named_for_the_database_and_logs_go_to_a_log_group_of_its_own(stack, vpc, cluster):
    database = AppDatabase(stack, "AppDatabase", database_name="minne", cluster=cluster,
                           security_group=app_group(stack), **connection(stack))
    template = Template.from_stack(stack)
    template_string = Capture()
    template.has_resource_properties("AWS::SecretsManager::Secret", {
        "GenerateSecretString": Match.object_like({"SecretStringTemplate": template_string}),
    })
    assert json.loads(template_string.as_string())["username"] == "minne"
    assert database.role_name == "minne"
    template.has_resource_properties("AWS::SecretsManager::RotationSchedule", {
        # The cluster's VPC, its private subnets
        "HostedRotationLambda": Match.object_like({"VpcSubnetIds": "subnet-0a1b2c3d4e5f60718"}),
        "RotationRules": {"ScheduleExpression": "rate(30 days)"},
    })
    template.resource_count_is("AWS::Logs::LogGroup", 1)
    template.has_resource("AWS::Logs::LogGroup", {
        "DeletionPolicy": "RetainExceptOnCreate", "Properties": {"RetentionInDays": 30},
    })
    log_group = {"Ref": Match.string_like_regexp("^AppDatabaseLogs")}
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "Family": Match.string_like_regexp("AppDatabaseProvisionTask"),
        "ContainerDefinitions": [Match.object_like({"LogConfiguration": Match.object_like({
            "Options": Match.object_like({"awslogs-group": log_group}),
        })})],
    })
    template.has_resource_properties("AWS::StepFunctions::StateMachine", {
        "StateMachineName": Match.absent(),
        "LoggingConfiguration": Match.object_like({"Destinations": [
            {"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": [Match.string_like_regexp("^AppDatabaseLogs"),
                                                                       "Arn"]}}},
        ]}),
    })
    template.has_resource_properties("AWS::IAM::Role", {
        "AssumeRolePolicyDocument": Match.object_like({"Statement": [Match.object_like({
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        })]}),
        "RoleName": Match.absent(),
    })


def test_its_defaults_are_the_specs():
    """Rotation as for a ``database`` that sets nothing; the log group it makes kept as an app's logs are."""
    defaults = {k: p.default for k, p in inspect.signature(AppDatabase.__init__).parameters.items()}
    assert defaults["rotation_days"] == Database().rotation_days
    assert retention(App.model_fields["log_retention_days"].default) == LOG_RETENTION
