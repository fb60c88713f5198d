"""`make synth` prints only what a user needs: one line per stack, no INFO blocks, no feature-flag notice."""

from __future__ import annotations

import json
import re
import subprocess

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs

from shipway.acknowledged import ACKNOWLEDGED, DIFF, SYNTH, unacknowledged
from shipway.synth import ROOT

from .conftest import SPECS

SUMMARY_LINE = re.compile(r"^\S+ +\d+ resources +[\d,]+ bytes$")


def test_make_synth_prints_one_line_per_stack_and_nothing_else(tmp_path):
    """The Makefile's CDK step through the pinned CLI (Node 24 first on PATH, as the Makefile puts it)."""
    done = subprocess.run(
        ["make", "--no-print-directory", "_synth", f"SPEC={SPECS / 'minimal.yaml'}", f"CDK_OUT={tmp_path / 'out'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no INFO, no WARNING, no "N feature flags are not configured"
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["tiny-dev-platform", "tiny-dev-data", "tiny-hello", "tiny-hello-dev"]
    assert all(SUMMARY_LINE.match(line) for line in lines), lines


def test_the_filter_drops_only_the_acknowledged_blocks():
    cli = [
        ('INFO Deployment alarm ({"Ref":"MonitoringwebLatency2856A24F"}) enabled on Service may cause a circular '
        "dependency error when this stack deploys. (Construct Annotations)\n"),
        "   tiny-hello-dev/web/Service\n",
        "   Acknowledge with 'Annotation::info-annotation'\n",
        "\n",
        "INFO Something else CDK wants to say (Construct Annotations)\n",
        "   tiny-hello-dev/web\n",
        "\n",
        "WARNING A warning nobody acknowledged\n",
        "Successfully synthesized to /tmp/out\n",
        "Supply a stack id (a, b) to display its template.\n",
    ]
    assert list(unacknowledged(cli, SYNTH)) == cli[4:8]
    assert all(a.reason.strip() and a.commands for a in ACKNOWLEDGED)


def test_cdk_diff_loses_only_the_deployment_alarm_info():
    """No summary follows cdk diff, so the synth-only entries do not apply; the diff (on stderr) is all kept."""
    cli = [
        ('INFO Deployment alarm ({"Ref":"MonitoringwebLatency2856A24F"}) enabled on Service may cause a circular '
        "dependency error when this stack deploys. (Construct Annotations)\n"),
        "   tiny-hello-dev/web/Service\n",
        "   Acknowledge with 'Annotation::info-annotation'\n",
        "Successfully synthesized to /tmp/out\n",
        "Stack tiny-hello-dev\n",
        "Resources\n",
        "[+] AWS::ECS::Service web/Service/Service webService7644FB27\n",
        " └─ [+] Tags\n",
        "\n",
    ]
    assert list(unacknowledged(cli, DIFF)) == cli[3:]


def test_cdk_still_cannot_acknowledge_the_deployment_alarm_info():
    """aws-ecs adds this INFO without an id, so neither acknowledgement API removes it. When this fails, CDK can:
    acknowledge it where the alarms are attached and drop its entry from shipway.acknowledged."""
    stack = cdk.Stack(cdk.App(), "S")
    cluster = ecs.Cluster(stack, "Cluster", vpc=ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0))
    task = ecs.FargateTaskDefinition(stack, "Task")
    task.add_container("app", image=ecs.ContainerImage.from_registry("app"))
    service = ecs.FargateService(stack, "Service", cluster=cluster, task_definition=task)
    alarm = cloudwatch.Alarm(stack, "Alarm", metric=cloudwatch.Metric(namespace="N", metric_name="M"),
                             threshold=1, evaluation_periods=1)
    service.enable_deployment_alarms([alarm.alarm_name], behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM)
    cdk.Annotations.of(service).acknowledge_info("info-annotation", "tried")
    cdk.Validations.of(service).acknowledge(cdk.Acknowledgment(id="Annotation::info-annotation", reason="tried"))
    infos = [m.data for m in service.node.metadata if m.type == "aws:cdk:info"]
    assert any(ACKNOWLEDGED[0].pattern.match(f"INFO {info}") for info in infos)


def _references(value) -> set[str]:
    text = json.dumps(value)
    return set(re.findall(r'"Ref": "([^"]+)"', text)) | set(re.findall(r'"Fn::GetAtt": \["([^"]+)"', text))


def test_no_deployment_alarm_refers_to_its_service(shipped_templates):
    """The reason the INFO is acknowledged: a cycle needs an alarm that refers back to the service."""
    checked = 0
    for template in shipped_templates.values():
        resources = template["Resources"]
        for service_id, service in resources.items():
            if service["Type"] != "AWS::ECS::Service":
                continue
            names = service["Properties"].get("DeploymentConfiguration", {}).get("Alarms", {}).get("AlarmNames", [])
            for alarm_id in _references(names):
                assert resources[alarm_id]["Type"] == "AWS::CloudWatch::Alarm"
                assert service_id not in _references(resources[alarm_id]), f"{alarm_id} refers to {service_id}"
                checked += 1
    assert checked >= 12  # three per web service in each of the four app environments
