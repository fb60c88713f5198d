"""``OneOffTask`` in a bare stack: the app container with the command left to whoever runs it."""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from shipway.constructs.app_task import AppContainer
from shipway.constructs.one_off import OneOffTask


def test_it_has_no_command_and_runs_on_fargate_or_ec2(stack, container):
    task = OneOffTask(stack, "OneOff", container=container, family="app-release", cpu=512, memory=1024)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "Family": "app-release", "RequiresCompatibilities": ["EC2", "FARGATE"], "NetworkMode": "awsvpc",
        "Cpu": "512", "Memory": "1024",
        "ContainerDefinitions": [Match.object_like({
            "Name": "app", "Command": Match.absent(), "EntryPoint": Match.absent(),
            "Environment": [{"Name": "A", "Value": "1"}, {"Name": "MEMORY_MB", "Value": "1024"}],
            "LogConfiguration": Match.object_like({"Options": Match.object_like({"awslogs-stream-prefix": "one-off"})}),
        })],
    })
    template.resource_count_is("AWS::IAM::Role", 2)  # execution and task role, created
    assert task.container.container_name == "app"


def test_it_takes_your_roles_and_starts_a_buildpacks_image_through_the_launcher(stack):
    role = iam.Role.from_role_name(stack, "Role", "mine", mutable=False)
    container = AppContainer(image=ecs.ContainerImage.from_registry("app:1"), buildpacks=True)
    OneOffTask(stack, "OneOff", container=container, execution_role=role, task_role=role)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::IAM::Role", 0)
    template.resource_count_is("AWS::Logs::LogGroup", 1)  # no log group given: the task definition's own
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "Cpu": "256", "Memory": "512",
        "ContainerDefinitions": [Match.object_like({"EntryPoint": ["launcher"], "Command": Match.absent()})],
    })
