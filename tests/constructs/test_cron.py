"""``CronJobs`` in a bare stack: schedules that run the one-off task, retried, then dead-lettered."""

from __future__ import annotations

import json

from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Capture, Match, Template

from shipway.constructs.app_task import TaskPlacement
from shipway.constructs.cron import CronJobs
from shipway.constructs.one_off import OneOffTask


def test_a_job_runs_the_one_off_family_with_its_command_and_size(stack, cluster, container):
    one_off = OneOffTask(stack, "OneOff", container=container, family="app-release")
    cron = CronJobs(stack, "Cron", cluster=cluster, task_definition=one_off.task_definition)
    cron.add_job("nightly", schedule="cron(0 3 * * ? *)", command="rake nightly", cpu=512, memory=1024)
    template = Template.from_stack(stack)
    overrides = Capture()
    template.has_resource_properties("AWS::Scheduler::Schedule", {
        "ScheduleExpression": "cron(0 3 * * ? *)",
        "Description": "cron nightly: rake nightly",
        "Target": Match.object_like({
            "Input": overrides,
            "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
            "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [Match.string_like_regexp("^CronDeadLetterQueue"), "Arn"]}},
            "EcsParameters": Match.object_like({
                "LaunchType": "FARGATE",
                "TaskDefinitionArn": {"Fn::Join": ["", Match.array_with([
                    ":ecs:eu-west-1:123456789012:task-definition/app-release",
                ])]},
                "NetworkConfiguration": {"AwsvpcConfiguration": Match.object_like({
                    "Subnets": ["subnet-0a1b2c3d4e5f60718"], "AssignPublicIp": "DISABLED",
                    "SecurityGroups": [{"Fn::GetAtt": [Match.string_like_regexp("^CronSecurityGroup"), "GroupId"]}],
                })},
            }),
        }),
    })
    assert json.loads(overrides.as_string()) == {
        "cpu": "512", "memory": "1024",
        "containerOverrides": [{
            "name": "app", "command": ["/bin/sh", "-c", "rake nightly"],
            "environment": [{"name": "MEMORY_MB", "value": "1024"}],
        }],
    }
    # RunTask only of the family's revisions, only in your cluster.
    template.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": "ecs:RunTask", "Condition": {"ArnEquals": {"ecs:cluster": Match.any_value()}},
        })])},
    })
    template.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})


def test_a_job_on_a_spot_fleet_pool_uses_launch_type_ec2_with_its_constraint(stack, vpc, cluster, container):
    one_off = OneOffTask(stack, "OneOff", container=container)
    cron = CronJobs(stack, "Cron", cluster=cluster, vpc=vpc, task_definition=one_off.task_definition)
    pool = TaskPlacement(
        ec2=True, capacity_provider_strategies=[], launch_type="EC2",
        placement_constraints=[ecs.PlacementConstraint.member_of("attribute:shipway.pool == big")],
    )
    cron.add_job("sweep", schedule="rate(1 hour)", command="sweep", placement=pool, retry_attempts=0)
    Template.from_stack(stack).has_resource_properties("AWS::Scheduler::Schedule", {
        "Target": Match.object_like({
            "RetryPolicy": Match.object_like({"MaximumRetryAttempts": 0}),
            "EcsParameters": Match.object_like({
                "LaunchType": "EC2",
                "PlacementConstraints": [{"Type": "memberOf", "Expression": "attribute:shipway.pool == big"}],
                "NetworkConfiguration": {"AwsvpcConfiguration": Match.object_like({
                    "AssignPublicIp": Match.absent(),
                })},
            }),
        }),
    })
