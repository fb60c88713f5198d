"""What every task of one app shares: the app container (image, environment, secrets, logs) and placement.

A process's service, the one-off (release) task and every cron job run the same image with the same
environment and secrets; only the command, the size and the capacity differ. ``AppContainer`` is that
shared part, ``TaskPlacement`` the capacity part (see ``placement.py`` for the vocabulary).

How a command starts depends on how the image was built. A Dockerfile image runs it with ``/bin/sh -c``. A
Cloud Native Buildpacks image starts everything through the CNB launcher, which sets up the buildpacks'
environment (layer env, exec.d, profile scripts) first: its entrypoint is the launcher as the default process
(``/cnb/process/web``), so a new command alone would only become arguments of the web process. There the
entry point is ``launcher`` and the command its one argument, which the launcher runs as a bash script; a
process without a command runs the Procfile type of its name through ``/cnb/process/<type>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs

from .. import naming
from . import placement as p

LAUNCHER = "launcher"
"""The CNB launcher, on the PATH of every buildpacks image (``/cnb/lifecycle/launcher``)."""
PROCESS_DIR = "/cnb/process"
"""Where a buildpacks image links each process type (Procfile entry) to the launcher."""


def shell_command(command: str | None, *, buildpacks: bool = False) -> list[str] | None:
    """A Procfile-style command line as the container's command, so that ``$PORT`` and friends expand, as
    Heroku runs Procfile entries: ``sh -c`` runs it in a Dockerfile image; in a buildpacks image it is the one
    argument of the ``launcher`` entry point, which runs it with bash in the buildpacks' environment."""
    if command is None:
        return None
    return [command] if buildpacks else ["/bin/sh", "-c", command]


def entry_point(*, buildpacks: bool, command: str | None = None, process_type: str | None = None) -> list[str] | None:
    """The container's entry point: the image's own for a Dockerfile image; for a buildpacks image the
    launcher with a command (or for a one-off task, whose runner gives the command), else the process type."""
    if not buildpacks:
        return None
    if command is None and process_type is not None:
        return [f"{PROCESS_DIR}/{process_type}"]
    return [LAUNCHER]


@dataclass(frozen=True)
class AppContainer:
    """The app container of every task definition of one app in one environment.

    :param image: the app's image.
    :param environment: plain values only. Default: none.
    :param secrets: everything secret (ECS injects it from Secrets Manager or SSM at start, so no value appears
        in the template). Default: none.
    :param log_group: where the container logs (``awslogs``). Default: each task definition creates its own.
    :param buildpacks: the image was built with Cloud Native Buildpacks, so commands start through the CNB
        launcher. Default: a Dockerfile image.
    """

    image: ecs.ContainerImage
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, ecs.Secret] = field(default_factory=dict)
    log_group: logs.ILogGroup | None = None
    buildpacks: bool = False

    def add_to(
        self,
        task_definition: ecs.TaskDefinition,
        *,
        stream_prefix: str,
        memory: int,
        command: str | None = None,
        process_type: str | None = None,
        port: int | None = None,
        stop_timeout: int | None = None,
    ) -> ecs.ContainerDefinition:
        """Add the container to ``task_definition``; ``PORT`` (when the task listens) and ``MEMORY_MB``
        (always: ``memory``, the task's MiB) let a runtime size itself, e.g. PHP's ``memory_limit``.
        ``process_type``: the process this task runs (None for a one-off task, whose command comes with each
        run)."""
        sized = {"MEMORY_MB": str(memory)}
        if port is not None:
            sized["PORT"] = str(port)
        container = task_definition.add_container(
            naming.CONTAINER_NAME,
            container_name=naming.CONTAINER_NAME,
            image=self.image,
            entry_point=entry_point(buildpacks=self.buildpacks, command=command, process_type=process_type),
            command=shell_command(command, buildpacks=self.buildpacks),
            environment={**self.environment, **sized},
            secrets=dict(self.secrets),
            logging=ecs.LogDrivers.aws_logs(stream_prefix=stream_prefix, log_group=self.log_group),
            stop_timeout=cdk.Duration.seconds(stop_timeout) if stop_timeout is not None else None,
            essential=True,
        )
        if port is not None:
            container.add_port_mappings(ecs.PortMapping(container_port=port, protocol=ecs.Protocol.TCP))
        return container


@dataclass(frozen=True)
class TaskPlacement:
    """Where a task runs: Fargate (``ec2`` false) or a pool's instances, with constraints and strategies.

    ``launch_type`` is ``EC2`` for a Spot Fleet pool, which has no capacity provider (its tasks are kept on the
    pool by ``placement.pool_constraint``) and ``FARGATE`` for ``FARGATE`` below; otherwise the capacity provider
    strategy decides.
    ``shipway.props.runtime.task_placement`` builds one from a process's ``capacity`` and ``placement``.
    """

    ec2: bool
    capacity_provider_strategies: Sequence[ecs.CapacityProviderStrategy]
    placement_constraints: Sequence[ecs.PlacementConstraint] = field(default_factory=list)
    placement_strategies: Sequence[ecs.PlacementStrategy] = field(default_factory=list)
    launch_type: str | None = None

    @classmethod
    def of(cls, capacity: p.Capacity, placement: Mapping[str, str]) -> TaskPlacement:
        """A task on ``capacity`` (``shipway.props.pools.capacity``) with a process's ``placement``."""
        return cls(
            ec2=capacity.on_instances,
            capacity_provider_strategies=capacity.capacity_provider_strategies(),
            placement_constraints=capacity.placement_constraints(placement),
            placement_strategies=capacity.placement_strategies(),
            launch_type=capacity.launch_type,
        )

    def compatibility(self) -> ecs.Compatibility:
        return ecs.Compatibility.EC2 if self.ec2 else ecs.Compatibility.FARGATE


FARGATE = TaskPlacement(ec2=False, capacity_provider_strategies=(), launch_type="FARGATE")
"""Fargate by launch type, without a capacity provider strategy: what a task gets unless told otherwise."""
