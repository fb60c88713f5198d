"""The spec of one app in one environment, as the keyword props of the runtime constructs.

Each function reads the spec (``shipway.spec``) and returns what a construct in ``shipway.constructs`` takes:
primitives, CDK types and the constructs' own frozen dataclasses. The stack (``stacks/app_runtime.py``) adds what
only it holds (the cluster, the listener, roles, conditions) and calls the construct.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from .. import naming
from ..constructs.app_task import TaskPlacement
from ..constructs.service import Autoscaling, Deployment, ScheduledCapacity
from ..spec import Spec, listener_priority
from ..spec.model import ROLLING_MAX_PERCENT, App, Process
from . import pools as pool_props


def task_placement(spec: Spec, env: str, capacity: str, placement: Mapping[str, str]) -> TaskPlacement:
    """Where a process's or cron job's tasks run in ``env``: Fargate, or a pool with constraints and strategies."""
    return TaskPlacement.of(pool_props.capacity(spec, env, capacity), placement)


class ProcessProps(TypedDict):
    """The keyword props of ``ProcessService`` that the spec decides (``process_service``)."""

    service_name: str
    family: str
    placement: TaskPlacement
    cpu: int
    memory: int
    command: str | None
    port: int | None
    desired_count: int
    autoscaling: Autoscaling | None
    max_healthy_percent: int
    stop_timeout: int
    hosts: list[str]
    priority: int | None
    health_check_path: str
    health_check_interval: int
    health_check_timeout: int
    healthy_threshold: int
    health_check_grace: int
    deregistration_delay: int
    slow_start: int
    deployment: Deployment


def autoscaling(process: Process) -> Autoscaling | None:
    """A process's ``autoscale``, or None for a fixed count."""
    scale = process.autoscale
    if scale is None:
        return None
    return Autoscaling(
        min=scale.min,
        max=scale.max,
        cpu_percent=scale.cpu,
        memory_percent=scale.memory,
        requests_per_target=scale.requests_per_target,
        schedules=tuple(ScheduledCapacity(schedule=s.cron, min=s.min, max=s.max) for s in scale.schedules),
        scale_in_cooldown=scale.scale_in_cooldown,
        scale_out_cooldown=scale.scale_out_cooldown,
    )


def deployment(app: App) -> Deployment:
    """The app's ``deploy`` strategy, for its web processes."""
    deploy = app.deploy
    return Deployment(strategy=deploy.strategy, percent=deploy.percent, bake_minutes=deploy.bake_minutes)


def process_service(spec: Spec, app: str, env: str, process: str) -> ProcessProps:
    """Process ``process`` of ``app`` in ``env``: its service's name, task, count, scaling, routing and deploys."""
    app_spec = spec.apps[app]
    proc = app_spec.processes[process]
    return ProcessProps(
        service_name=naming.service_name(app, process),
        family=naming.task_family(spec.name, app, env, process),
        placement=task_placement(spec, env, proc.capacity, proc.placement),
        cpu=proc.size.cpu,
        memory=proc.size.memory,
        command=proc.command,
        port=proc.port,
        desired_count=proc.count,
        autoscaling=autoscaling(proc),
        max_healthy_percent=ROLLING_MAX_PERCENT,
        stop_timeout=proc.stop_timeout,
        hosts=proc.hosts_in(env),
        priority=listener_priority(app, process, proc.priority) if proc.is_web else None,
        health_check_path=proc.health_check,
        health_check_interval=proc.health_check_interval,
        health_check_timeout=proc.health_check_timeout,
        healthy_threshold=proc.healthy_threshold,
        health_check_grace=proc.health_check_grace,
        deregistration_delay=proc.deregistration_delay,
        slow_start=proc.slow_start,
        deployment=deployment(app_spec),
    )



class OneOffProps(TypedDict):
    """The keyword props of ``OneOffTask`` that the spec decides (``one_off_task``)."""

    family: str
    cpu: int
    memory: int


def one_off_task(spec: Spec, app: str, env: str) -> OneOffProps:
    """The one-off (release) task definition of ``app`` in ``env``: its family and ``release_size``."""
    size = spec.apps[app].release_size
    return OneOffProps(family=naming.task_family(spec.name, app, env, "release"), cpu=size.cpu, memory=size.memory)


class CronJobProps(TypedDict):
    """The keyword props of ``CronJobs.add_job`` (``cron_job``)."""

    schedule: str
    command: str
    cpu: int
    memory: int
    placement: TaskPlacement
    schedule_name: str
    retry_attempts: int
    max_event_age: int


def cron_job(spec: Spec, app: str, env: str, job: str) -> CronJobProps:
    """Cron job ``job`` of ``app`` in ``env``: its schedule, command, size, capacity and retries."""
    cron = spec.apps[app].cron[job]
    return CronJobProps(
        schedule=cron.schedule,
        command=cron.command,
        cpu=cron.size.cpu,
        memory=cron.size.memory,
        placement=task_placement(spec, env, cron.capacity, cron.placement),
        schedule_name=naming.schedule_name(spec.name, app, env, job),
        retry_attempts=cron.retry_attempts,
        max_event_age=cron.max_event_age,
    )


class MonitoringProps(TypedDict):
    """The keyword props of ``AppMonitoring`` that the spec decides (``app_monitoring``)."""

    name_prefix: str
    error_rate_percent: float
    p95_ms: int
    cpu_percent: int
    memory_percent: int
    evaluation_minutes: int


def app_monitoring(spec: Spec, app: str, env: str) -> MonitoringProps:
    """The alarms and dashboard of ``app`` in ``env``: their names' prefix and the app's ``alarms`` thresholds."""
    alarms = spec.apps[app].alarms
    return MonitoringProps(
        name_prefix=naming.dashboard_name(spec.name, app, env),
        error_rate_percent=alarms.error_rate_percent,
        p95_ms=alarms.p95_ms,
        cpu_percent=alarms.cpu_percent,
        memory_percent=alarms.memory_percent,
        evaluation_minutes=alarms.evaluation_minutes,
    )
