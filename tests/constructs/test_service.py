"""``ProcessService`` in a bare stack: what it creates by itself, what it takes from you, and its deploys."""

from __future__ import annotations

import inspect

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Capture, Match, Template

from shipway.constructs.app_task import TaskPlacement
from shipway.constructs.service import Autoscaling, Deployment, ProcessService, ScheduledCapacity
from shipway.spec.model import Process


def web_parts(stack: cdk.Stack) -> dict:
    vpc = ec2.Vpc(stack, "Network", max_azs=2, nat_gateways=1)
    alb = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc, internet_facing=True)
    listener = alb.add_listener("Http", port=80, default_action=elbv2.ListenerAction.fixed_response(404))
    return {"vpc": vpc, "listener": listener}


def test_with_only_a_container_it_creates_its_cluster_vpc_roles_and_runs_one_fargate_task(stack, container):
    worker = ProcessService(stack, "Worker", container=container, command="work")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ECS::Cluster", 1)
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.resource_count_is("AWS::IAM::Role", 2)  # execution and task role
    template.resource_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", 0)
    template.has_resource_properties("AWS::ECS::Service", {
        "LaunchType": "FARGATE", "DesiredCount": 1,
        "DeploymentConfiguration": Match.object_like({
            "MinimumHealthyPercent": 100, "MaximumPercent": 200,
            "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
        }),
        "EnableExecuteCommand": True,
    })
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "Cpu": "256", "Memory": "512", "NetworkMode": "awsvpc",
        "ContainerDefinitions": [Match.object_like({
            "Name": "app", "Command": ["/bin/sh", "-c", "work"],
            "Environment": [{"Name": "A", "Value": "1"}, {"Name": "MEMORY_MB", "Value": "512"}],
        })],
    })
    assert worker.target_group is None and worker.listener is None
    assert worker.counts == {"service": worker.service_name, "count": 1}


def test_it_runs_in_your_cluster_with_your_security_groups_and_names(stack, vpc, cluster, container):
    group = ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-0a1b2c3d4e5f60718", mutable=False)
    ProcessService(stack, "Worker", container=container, cluster=cluster, vpc=vpc, security_groups=[group],
                   service_name="app-worker", family="app-worker", cpu=512, memory=1024, desired_count=3)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ECS::Cluster", 0)
    template.resource_count_is("AWS::EC2::SecurityGroup", 0)
    template.has_resource_properties("AWS::ECS::Service", {
        "Cluster": "c", "ServiceName": "app-worker", "DesiredCount": 3,
        "NetworkConfiguration": {"AwsvpcConfiguration": Match.object_like({
            "SecurityGroups": ["sg-0a1b2c3d4e5f60718"], "Subnets": ["subnet-0a1b2c3d4e5f60718"],
        })},
    })
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "Family": "app-worker", "Cpu": "512", "Memory": "1024",
    })


def test_a_web_process_gets_a_fast_draining_target_group_and_a_host_rule(stack, container):
    parts = web_parts(stack)
    ProcessService(stack, "Web", container=container, vpc=parts["vpc"], listener=parts["listener"], priority=7,
                   hosts=["a.example.com"], port=8080, health_check_path="/up",
                   autoscaling=Autoscaling(max=4, cpu_percent=None, requests_per_target=100))
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::TargetGroup", {
        "TargetType": "ip", "Port": 8080, "HealthCheckPath": "/up", "HealthCheckIntervalSeconds": 5,
        "HealthCheckTimeoutSeconds": 4, "HealthyThresholdCount": 2,
        "TargetGroupAttributes": Match.array_with([
            {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
            {"Key": "slow_start.duration_seconds", "Value": "30"},
        ]),
    })
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::ListenerRule", {
        "Priority": 7, "Conditions": [{"Field": "host-header", "HostHeaderConfig": {"Values": ["a.example.com"]}}],
    })
    template.has_resource_properties("AWS::ECS::Service", {
        "HealthCheckGracePeriodSeconds": 30,
        "LoadBalancers": [{"ContainerName": "app", "ContainerPort": 8080, "TargetGroupArn": Match.any_value()}],
    })
    # The load balancer's full name comes from your listener's ALB: the request policy's dimension.
    dimensions = Capture()
    template.has_resource_properties("AWS::ApplicationAutoScaling::ScalingPolicy", {
        "TargetTrackingScalingPolicyConfiguration": Match.object_like({
            "TargetValue": 100,
            "CustomizedMetricSpecification": {"Metrics": Match.array_with([Match.object_like({
                "Id": "r0", "MetricStat": Match.object_like({"Metric": Match.object_like({"Dimensions": dimensions})}),
            })])},
        }),
    })
    load_balancer = dimensions.as_array()[0]
    assert load_balancer["Name"] == "LoadBalancer"
    assert load_balancer["Value"]["Fn::GetAtt"][1] == "LoadBalancerFullName"


def test_a_web_process_needs_a_listener_a_priority_and_a_port(stack, container):
    with pytest.raises(ValueError, match="needs a port, the listener"):
        ProcessService(stack, "Web", container=container, port=80, hosts=["a.example.com"])


def test_canary_shifts_between_two_target_groups_and_reads_which_is_live(stack, container):
    parts = web_parts(stack)
    live = cdk.CfnCondition(stack, "AlternateLive", expression=cdk.Fn.condition_equals("a", "b"))
    web = ProcessService(stack, "Web", container=container, vpc=parts["vpc"], listener=parts["listener"],
                         priority=7, hosts=["a.example.com"], port=80, alternate_live=live,
                         deployment=Deployment(strategy="canary", percent=20, bake_minutes=3))
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", 2)
    assert web.alternate_target_group is not None and len(web.target_groups) == 2
    template.has_resource_properties("AWS::ECS::Service", {
        "DeploymentConfiguration": Match.object_like({
            "Strategy": "CANARY", "BakeTimeInMinutes": 3,
            "CanaryConfiguration": {"CanaryPercent": 20, "CanaryBakeTimeInMinutes": 3},
        }),
    })
    weights = Capture()
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::ListenerRule", {
        "Actions": [Match.object_like({"ForwardConfig": {"TargetGroups": weights}})],
    })
    assert [g["Weight"] for g in weights.as_array()] == [
        {"Fn::If": ["AlternateLive", 0, 100]}, {"Fn::If": ["AlternateLive", 100, 0]},
    ]


def test_a_worker_never_shifts_traffic_whatever_the_deployment(stack, container):
    ProcessService(stack, "Worker", container=container, deployment=Deployment(strategy="blue-green"))
    Template.from_stack(stack).has_resource_properties("AWS::ECS::Service", {
        "DeploymentConfiguration": Match.object_like({"Strategy": "ROLLING"}),
    })


def test_until_running_it_holds_no_task_and_suspends_autoscaling(stack, container):
    running = cdk.CfnCondition(stack, "Running", expression=cdk.Fn.condition_equals("a", "a"))
    scaled = ProcessService(
        stack, "Worker", container=container, running=running,
        autoscaling=Autoscaling(min=2, max=5, schedules=[ScheduledCapacity(schedule="cron(0 8 * * ? *)", min=3)]),
    )
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::ECS::Service", {
        "DesiredCount": {"Fn::If": ["Running", {"Ref": "AWS::NoValue"}, 0]},
    })
    template.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {
        "MinCapacity": {"Fn::If": ["Running", 2, 0]}, "MaxCapacity": 5,
        "SuspendedState": {"Fn::If": ["Running", Match.object_like({"ScheduledScalingSuspended": False}),
                                      Match.object_like({"ScheduledScalingSuspended": True})]},
        "ScheduledActions": [Match.object_like({"ScalableTargetAction": {"MinCapacity": 3}})],
    })
    assert scaled.counts == {"service": scaled.service_name, "count": 2, "min": 2, "max": 5}


def test_on_a_pool_it_is_an_ec2_service_with_your_constraints(stack, vpc, cluster, container):
    pool = TaskPlacement(
        ec2=True, capacity_provider_strategies=[], launch_type="EC2",
        placement_constraints=[ecs.PlacementConstraint.member_of("attribute:shipway.pool == big")],
    )
    ProcessService(stack, "Worker", container=container, cluster=cluster, vpc=vpc, placement=pool)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::ECS::Service", {
        "LaunchType": "EC2",
        "PlacementConstraints": [{"Type": "memberOf", "Expression": "attribute:shipway.pool == big"}],
    })
    template.has_resource_properties("AWS::ECS::TaskDefinition", {"RequiresCompatibilities": ["EC2"]})


# The construct's own defaults are the spec's: a process written with none of these keys and a bare ProcessService
# get the same service. (Each name: ProcessService's keyword, then the spec's field or property.)
SAME_DEFAULT = {
    "command": "command", "port": "port", "desired_count": "count", "stop_timeout": "stop_timeout",
    "health_check_path": "health_check", "health_check_interval": "health_check_interval",
    "health_check_timeout": "health_check_timeout", "healthy_threshold": "healthy_threshold",
    "health_check_grace": "health_check_grace", "deregistration_delay": "deregistration_delay",
    "slow_start": "slow_start",
}


def test_the_constructs_defaults_are_the_specs():
    defaults = {k: p.default for k, p in inspect.signature(ProcessService.__init__).parameters.items()}
    process = Process()
    for keyword, field in SAME_DEFAULT.items():
        expected = getattr(process, field)
        if keyword == "stop_timeout":  # ECS's own default is 30 s, the spec's minimum
            assert expected == 30 and defaults[keyword] is None
            continue
        assert defaults[keyword] == expected, keyword
    assert (defaults["cpu"], defaults["memory"]) == (process.size.cpu, process.size.memory)
