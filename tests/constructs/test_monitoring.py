"""``AppMonitoring`` in a bare stack: per-service alarms to a topic, the rollback alarms, one dashboard."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from shipway.constructs.monitoring import AppMonitoring
from shipway.constructs.service import ProcessService


def test_a_worker_gets_cpu_and_memory_alarms_on_a_topic_it_creates(stack, container):
    worker = ProcessService(stack, "Worker", container=container, service_name="app-worker")
    monitoring = AppMonitoring(stack, "Monitoring", name_prefix="acme-app-staging", cpu_percent=80,
                               evaluation_minutes=5)
    assert monitoring.add_process("worker", worker) == []  # nothing to roll back on: no traffic
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.resource_count_is("AWS::CloudWatch::Alarm", 2)
    topic = {"Ref": Match.string_like_regexp("^MonitoringTopic")}
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": "acme-app-staging-worker-Cpu", "MetricName": "CPUUtilization", "Namespace": "AWS/ECS",
        "Threshold": 80, "EvaluationPeriods": 5, "DatapointsToAlarm": 5, "TreatMissingData": "notBreaching",
        "Dimensions": Match.array_with([{"Name": "ServiceName", "Value": "app-worker"}]),
        "AlarmActions": [topic], "OKActions": [topic],
    })
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": "acme-app-staging-worker-Memory", "Threshold": 90,
    })
    template.has_resource_properties("AWS::CloudWatch::Dashboard", {"DashboardName": "acme-app-staging"})


def test_a_web_service_gets_rate_latency_and_router_alarms_that_roll_back(stack, container):
    vpc = ec2.Vpc(stack, "Network", max_azs=2, nat_gateways=1)
    alb = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc, internet_facing=True)
    listener = alb.add_listener("Http", port=80, default_action=elbv2.ListenerAction.fixed_response(404))
    cluster = ecs.Cluster(stack, "Cluster", vpc=vpc)
    web = ProcessService(stack, "Web", container=container, cluster=cluster, listener=listener, priority=1,
                         hosts=["a.example.com"], port=80, service_name="app-web")
    topic = sns.Topic.from_topic_arn(stack, "Topic", "arn:aws:sns:eu-west-1:123456789012:alarms")
    monitoring = AppMonitoring(stack, "Monitoring", name_prefix="p", topic=topic, error_rate_percent=2)
    rollback = monitoring.add_process("web", web)
    assert [a.node.id for a in rollback] == ["ErrorRate", "Latency", "RouterErrorRate"]
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 0)  # yours
    template.resource_count_is("AWS::CloudWatch::Alarm", 6)  # CPU, memory, the three above, unhealthy hosts
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": "p-web-ErrorRate", "Threshold": 2,
        "AlarmActions": ["arn:aws:sns:eu-west-1:123456789012:alarms"],
        "Metrics": Match.array_with([Match.object_like({
            "Id": "expr_1", "Expression": "100 * (FILL(e0, 0)) / (FILL(r0, 0))",
        })]),
    })
    # The cluster's name comes from the service's cluster when you name none.
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": "p-web-Cpu",
        "Dimensions": Match.array_with([
            {"Name": "ClusterName", "Value": {"Ref": Match.string_like_regexp("^Cluster")}},
        ]),
    })
