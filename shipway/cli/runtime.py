"""The running side of an app in one environment, found by the names the stacks give it (shipway.naming).

Services are ``<app>-<process>`` in cluster ``<name>-<env>``; the one-off family is
``<name>-<app>-<env>-release``; the app container is ``app`` in every task definition. A change the verbs
apply (config, secrets, size) is a new revision of those task definitions, cloned from the one in use with
only that change, then the service moves to it: what the next ``cdk deploy`` of ``<name>-<app>-<env>``
registers again from the edited spec, so CloudFormation and the verb agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import naming
from . import aws
from .context import Target

# What describe_task_definition returns that register_task_definition accepts.
_REGISTER_KEYS = (
    "family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
    "placementConstraints", "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode",
    "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage", "runtimePlatform", "enableFaultInjection",
)


@dataclass
class Service:
    process: str
    description: dict[str, Any]

    @property
    def name(self) -> str:
        return self.description["serviceName"]

    @property
    def task_definition(self) -> str:
        return self.description["taskDefinition"]


def ecs(target: Target):
    return aws.client(target.spec, target.env, "ecs")


def services(target: Target, processes: list[str] | None = None) -> dict[str, Service | None]:
    """The app's services in ``target.env`` by process; None for a process with no service there."""
    processes = list(target.app_spec.processes) if processes is None else processes
    found: dict[str, Service | None] = dict.fromkeys(processes)
    names = {target.service(p): p for p in processes}
    client = ecs(target)
    for start in range(0, len(names), 10):  # DescribeServices takes 10 at a time
        batch = list(names)[start:start + 10]
        try:
            described = client.describe_services(cluster=target.cluster, services=batch)["services"]
        except client.exceptions.ClusterNotFoundException:
            return found
        for service in described:
            if service.get("status") == "ACTIVE":
                found[names[service["serviceName"]]] = Service(names[service["serviceName"]], service)
    return found


def deployed(target: Target) -> bool:
    """Whether ``<name>-<app>-<env>`` has been deployed: its one-off family exists."""
    return latest_task_definition(target, target.family("release")) is not None


def latest_task_definition(target: Target, family: str) -> str | None:
    client = ecs(target)
    arns = client.list_task_definitions(familyPrefix=family, status="ACTIVE", sort="DESC", maxResults=1)
    return arns["taskDefinitionArns"][0] if arns["taskDefinitionArns"] else None


def describe(target: Target, task_definition: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    answer = ecs(target).describe_task_definition(taskDefinition=task_definition, include=["TAGS"])
    return answer["taskDefinition"], answer.get("tags", [])


def app_container(task_definition: dict[str, Any]) -> dict[str, Any]:
    for container in task_definition["containerDefinitions"]:
        if container["name"] == naming.CONTAINER_NAME:
            return container
    raise KeyError(f"{task_definition['family']} has no {naming.CONTAINER_NAME!r} container")


def register_changed(target: Target, task_definition: str,
                     change: Callable[[dict[str, Any]], None]) -> str:
    """Register a new revision of ``task_definition`` with ``change`` applied; returns its ARN."""
    current, tags = describe(target, task_definition)
    request = {key: current[key] for key in _REGISTER_KEYS if key in current}
    change(request)
    if tags:
        request["tags"] = tags
    return ecs(target).register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"]


def image_tag(target: Target, env: str | None = None) -> str | None:
    """The tag the pipeline recorded for the environment; None when the parameter does not exist."""
    env = env or target.env
    ssm = aws.client(target.spec, env, "ssm")
    try:
        return ssm.get_parameter(Name=naming.image_tag_parameter(target.name, target.app, env))["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None


def platform_parameter(target: Target, key: str) -> str | None:
    ssm = aws.client(target.spec, target.env, "ssm")
    try:
        return ssm.get_parameter(Name=naming.parameter(target.name, target.env, key))["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None


def short(arn: str) -> str:
    """``family:revision`` of a task definition ARN, or the last part of any ARN."""
    return arn.rsplit("/", 1)[-1]


def roll_out(target: Target, change: Callable[[dict[str, Any]], None], progress, *,
             processes: list[str] | None = None, one_off: bool = True) -> list[str]:
    """Apply ``change`` (to a task definition request) in every environment where the app is deployed.

    Each process's service moves to a new revision of its task definition; with ``one_off`` the release
    family gets one too (``run``, cron and the next release use its latest revision). Returns the
    environments changed; the others are reported as waiting for their first ``cdk deploy``.
    """
    changed = []
    for env in target.spec.environments:
        here = target.in_env(env)
        found = {p: s for p, s in services(here, processes).items() if s is not None}
        release = latest_task_definition(here, here.family("release")) if one_off else None
        if not found and release is None:
            progress.note(f"  {naming.app_env_stack(target.name, target.app, env)} is not deployed: "
                          "its first cdk deploy brings the change")
            continue
        client = ecs(here)
        for process, service in found.items():
            progress.step(f"{env}: registering {here.family(process)} and updating {service.name}")
            arn = register_changed(here, service.task_definition, change)
            client.update_service(cluster=here.cluster, service=service.name, taskDefinition=arn)
        if release is not None:
            progress.step(f"{env}: registering {here.family('release')}")
            register_changed(here, release, change)
        changed.append(env)
    return changed
