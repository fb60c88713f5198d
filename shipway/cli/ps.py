"""``ps``, ``ps:scale``, ``ps:autoscale``, ``ps:wait``: the app's processes as ECS services.

``ps:scale web=6 worker=2x web=3:2x`` writes ``count`` and ``size`` into the spec; unless ``--no-apply``, a
count becomes the services' desired count and a size a new task definition revision (task CPU and memory,
and ``MEMORY_MB``), in every environment where the app runs an image. ``ps:autoscale web --min 2 --max 10``
writes ``autoscale`` and moves the scalable target's bounds (and the CPU target) the same way. The next
``cdk deploy`` sets the same values: the template's desired count is ``count`` (none at all with autoscale),
its scalable target ``min``..``max``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import click

from .. import naming
from ..spec.vocabulary import SIZES
from . import aws, cli, runtime
from .context import Target, app_env_options, app_option, no_apply_option, spec_option
from .errors import FAILED, CliError, NotFound
from .progress import Progress
from .spec_edit import SpecDocument


def wait_options(f):
    f = click.option("--timeout", type=click.IntRange(1), default=600, show_default=True,
                     help="Seconds --wait waits.")(f)
    return click.option("--wait", is_flag=True, help="Wait until the services run their desired counts.")(f)


_SCALE = re.compile(r"^([a-z][a-z0-9-]*)=(?:(\d+)(?::(\d+x))?|(\d+x))$")
POLL_SECONDS = 5


def size_name(cpu: str | int | None, memory: str | int | None) -> str:
    for name, (c, m) in SIZES.items():
        if str(c) == str(cpu) and str(m) == str(memory):
            return name
    return f"{cpu} CPU/{memory} MiB"


def capacity_of(service: dict) -> str:
    strategy = service.get("capacityProviderStrategy") or []
    if strategy:
        return "+".join(s["capacityProvider"] for s in strategy)
    return service.get("launchType") or "-"


@cli.command("ps")
@app_env_options
def ps(spec_path, app, env):
    """Services and tasks of the app in one environment: counts, revision, image tag, size, placement."""
    target = Target.of(spec_path, app, env)
    found = runtime.services(target)
    tag = runtime.image_tag(target)
    click.echo(f"=== {target.app} in {target.env} (cluster {target.cluster}, image tag {_short_tag(tag)})")
    if not any(found.values()):
        raise NotFound(f"{naming.app_env_stack(target.name, target.app, target.env)} is not deployed "
                       f"(no service of {target.app} in cluster {target.cluster})")
    client = runtime.ecs(target)
    for process, service in found.items():
        if service is None:
            click.echo(f"{process}: no service {target.service(process)} (deploy the stack)")
            continue
        d = service.description
        definition, _ = runtime.describe(target, service.task_definition)
        image = runtime.app_container(definition)["image"]
        scaling = _autoscale_bounds(target, process)
        click.echo(
            f"{process}: {d['runningCount']}/{d['desiredCount']} running, {d['pendingCount']} pending"
            f"  {runtime.short(service.task_definition)}  {size_name(definition.get('cpu'), definition.get('memory'))}"
            f"  {capacity_of(d)}  image {_short_tag(image.rsplit(':', 1)[-1])}"
            + (f"  autoscale {scaling[0]}..{scaling[1]}" if scaling else "")
        )
        constraints = [c.get("expression") for c in d.get("placementConstraints", []) if c.get("expression")]
        if constraints:
            click.echo(f"  placement: {' and '.join(constraints)}")
        arns = client.list_tasks(cluster=target.cluster, serviceName=service.name)["taskArns"]
        tasks = client.describe_tasks(cluster=target.cluster, tasks=arns)["tasks"] if arns else []
        for task in sorted(tasks, key=lambda t: t["taskArn"]):
            started = task.get("startedAt") or task.get("createdAt")
            when = started.strftime("%Y-%m-%d %H:%M:%S") if started else "-"
            click.echo(f"  {task['taskArn'].rsplit('/', 1)[-1][:12]}  {task.get('lastStatus', '?')}  "
                       f"{runtime.short(task['taskDefinitionArn'])}  since {when}")


def _short_tag(tag: str | None) -> str:
    if tag is None:
        return "unknown"
    return tag[:12] if re.fullmatch(r"[0-9a-f]{40}", tag) else tag


def _autoscale_bounds(target: Target, process: str) -> tuple[int, int] | None:
    scaling = aws.client(target.spec, target.env, "application-autoscaling")
    found = scaling.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[_resource_id(target, process)]
    )["ScalableTargets"]
    return (found[0]["MinCapacity"], found[0]["MaxCapacity"]) if found else None


def _record_first_counts(target: Target, changes: dict[str, dict]) -> bool:
    """Before an environment's first image, the pipeline's GoLive step starts each service at the counts the runtime
    stack published (``naming.service_counts_parameter``): keep that record in step with the edited spec, as the
    next ``cdk deploy`` would write it. False when the runtime stack has not published it yet."""
    ssm = aws.client(target.spec, target.env, "ssm")
    name = naming.service_counts_parameter(target.name, target.app, target.env)
    try:
        records = json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return False
    for record in records:
        for process, change in changes.items():
            if record["service"] == target.service(process):
                record.update(change)
    ssm.put_parameter(Name=name, Value=json.dumps(records, separators=(",", ":")), Type="String", Overwrite=True)
    return True


def _resource_id(target: Target, process: str) -> str:
    return f"service/{target.cluster}/{target.service(process)}"


def _running_image(target: Target) -> bool:
    tag = runtime.image_tag(target)
    return tag is not None and tag != naming.NO_IMAGE_TAG


@cli.command("ps:scale")
@click.argument("changes", nargs=-1, required=True, metavar="PROCESS=COUNT|SIZE|COUNT:SIZE...")
@app_option
@spec_option
@no_apply_option
@wait_options
def ps_scale(changes: tuple[str, ...], app: str | None, spec_path: Path, no_apply: bool, wait: bool,
             timeout: int) -> None:
    """Set process counts and sizes: ps:scale web=6 worker=2x web=3:2x (sizes: 1x 2x 4x 8x 16x)."""
    progress = Progress()
    document = SpecDocument(spec_path)
    target = Target.of(spec_path, app, None, spec=document.spec)
    counts, sizes = _parse_scale(changes, target)
    path = ("apps", target.app, "processes")
    for process, count in counts.items():
        document.set((*path, process), "count", count)
    for process, size in sizes.items():
        document.set((*path, process), "size", size)
    spec = document.save()
    summary = ", ".join(f"{p}={counts.get(p, '')}{':' if p in counts and p in sizes else ''}"
                        f"{sizes.get(p, '')}" for p in dict.fromkeys([*counts, *sizes]))
    if no_apply:
        progress.done(f"Scaled {summary} in {spec_path} (not applied: the next cdk deploy applies it)")
        return
    target = Target(spec_path, spec, target.app, target.env)
    applied = _apply_sizes(target, sizes, progress)
    if counts:
        applied |= _apply_counts(target, counts, progress)
    if wait:
        for env in [e for e in spec.environments if e in applied]:
            wait_for_services(target.in_env(env), list(dict.fromkeys([*counts, *sizes])), progress, timeout)
    where = ", ".join(e for e in spec.environments if e in applied) or "no environment (none runs an image)"
    progress.done(f"Scaled {summary} of {target.app} in {where}")


def _parse_scale(changes: tuple[str, ...], target: Target) -> tuple[dict[str, int], dict[str, str]]:
    """The counts and the sizes that ``changes`` set, by process; a usage error for a malformed change, and an
    error for a count of a process that autoscales (its bounds are ps:autoscale's)."""
    counts: dict[str, int] = {}
    sizes: dict[str, str] = {}
    for change in changes:
        match = _SCALE.match(change)
        if match is None:
            raise click.UsageError(f"{change!r}: expected PROCESS=COUNT, PROCESS=SIZE or PROCESS=COUNT:SIZE "
                                   f"(sizes: {', '.join(SIZES)})")
        process, count, count_size, size = match.groups()
        spec_process = target.process(process)
        if count is not None:
            if spec_process.autoscale is not None:
                raise CliError(f"{process} autoscales ({spec_process.autoscale.min}..{spec_process.autoscale.max}): "
                               f"set its bounds with shipway ps:autoscale {process} --min N --max N", 2)
            counts[process] = int(count)
        if count_size or size:
            sizes[process] = count_size or size
    return counts, sizes


def _apply_sizes(target: Target, sizes: dict[str, str], progress: Progress) -> set[str]:
    """Rolls each resized process out on a new task definition revision with the size's CPU and memory (and
    MEMORY_MB to match); the environments where it rolled."""
    applied: set[str] = set()
    for process, size in sizes.items():
        cpu, memory = SIZES[size]

        def resize(request: dict, cpu: int = cpu, memory: int = memory) -> None:
            request["cpu"], request["memory"] = str(cpu), str(memory)
            container = runtime.app_container(request)
            container["environment"] = [e for e in container.get("environment", []) if e["name"] != "MEMORY_MB"]
            container["environment"].append({"name": "MEMORY_MB", "value": str(memory)})

        applied.update(runtime.roll_out(target, resize, progress, processes=[process], one_off=False))
    return applied


def _apply_counts(target: Target, counts: dict[str, int], progress: Progress) -> set[str]:
    """Sets each service's desired count in every environment that runs an image; before the first image, the
    counts the first push starts with. The environments whose services were set."""
    applied = set()
    for env in target.spec.environments:
        here = target.in_env(env)
        if not _running_image(here):
            if _record_first_counts(here, {p: {"count": c} for p, c in counts.items()}):
                progress.note(f"  {env}: no image deployed yet; the first push starts the services at these counts")
            else:
                progress.note(f"  {env}: no image deployed yet; the services stay at 0 until the first deploy")
            continue
        found = runtime.services(here, list(counts))
        for process, count in counts.items():
            if found[process] is None:
                progress.note(f"  {env}: no service {here.service(process)}; its first cdk deploy brings it")
                continue
            progress.step(f"{env}: setting {here.service(process)} to {count} tasks")
            runtime.ecs(here).update_service(cluster=here.cluster, service=here.service(process), desiredCount=count)
            applied.add(env)
    return applied


def wait_for_services(target: Target, processes: list[str], progress: Progress, timeout: int) -> None:
    """Until each service runs its desired count on one deployment; ``timeout`` seconds at most."""
    deadline = time.monotonic() + timeout
    while True:
        found = {p: s for p, s in runtime.services(target, processes).items() if s is not None}
        desired = sum(s.description["desiredCount"] for s in found.values())
        running = sum(s.description["runningCount"] for s in found.values())
        rolling = sum(len(s.description.get("deployments", [])) > 1 for s in found.values())
        if running == desired and not rolling:
            return
        message = f"{target.env}: waiting for {desired - running} of {desired} tasks to be running"
        if rolling:
            message += f" ({rolling} deployment(s) in progress)"
        progress.step(message)
        if time.monotonic() > deadline:
            raise CliError(f"{target.env}: {running} of {desired} tasks running after {timeout}s; see shipway ps "
                           f"-e {target.env}", FAILED)
        sleep(POLL_SECONDS)


def sleep(seconds: float) -> None:
    """The poll interval (the tests play ECS here, since the emulator starts no tasks)."""
    time.sleep(seconds)


@cli.command("ps:wait")
@app_env_options
@click.option("-p", "--process", "processes", multiple=True, help="Only this process (repeatable).")
@click.option("--timeout", type=click.IntRange(1), default=600, show_default=True, help="Seconds to wait at most.")
def ps_wait(spec_path, app, env, processes, timeout):
    """Wait until every service of the app runs its desired count on its latest deployment."""
    progress = Progress()
    target = Target.of(spec_path, app, env)
    for process in processes:
        target.process(process)
    wanted = list(processes) or list(target.app_spec.processes)
    wait_for_services(target, wanted, progress, timeout)
    progress.done(f"{target.app} in {target.env}: every task of {', '.join(wanted)} is running")


@cli.command("ps:autoscale")
@click.argument("process")
@click.option("--min", "minimum", type=click.IntRange(0, 1000), required=True, help="Fewest tasks.")
@click.option("--max", "maximum", type=click.IntRange(1, 1000), required=True, help="Most tasks.")
@click.option("--cpu", type=click.IntRange(1, 100), help="Target CPU utilization percent.")
@app_option
@spec_option
@no_apply_option
def ps_autoscale(process, minimum, maximum, cpu, app, spec_path, no_apply):
    """Autoscale a process between --min and --max tasks (target tracking on CPU, --cpu percent)."""
    progress = Progress()
    document = SpecDocument(spec_path)
    target = Target.of(spec_path, app, None, spec=document.spec)
    spec_process = target.process(process)
    path = ("apps", target.app, "processes", process)
    new = spec_process.autoscale is None
    document.set((*path, "autoscale"), "min", minimum)
    document.set((*path, "autoscale"), "max", maximum)
    if cpu is not None:
        document.set((*path, "autoscale"), "cpu", cpu)
    if "count" in document.get(*path) and not minimum <= spec_process.count <= maximum:
        # the spec keeps count within the bounds; with autoscale the template sets no desired count
        document.set(path, "count", min(max(spec_process.count, minimum), maximum))
    spec = document.save()
    if no_apply:
        progress.done(f"Autoscale {process} {minimum}..{maximum} in {spec_path} (not applied)")
        return
    target = Target(spec_path, spec, target.app, target.env)
    if new:
        stacks = " ".join(naming.app_env_stack(target.name, target.app, e) for e in spec.environments)
        progress.done(f"Autoscale {process} {minimum}..{maximum} written to {spec_path}; a new scalable target and "
                      f"its policies are CloudFormation's to create: run cdk deploy {stacks}")
        return
    applied = []
    for env in spec.environments:
        here = target.in_env(env)
        if not _running_image(here) or runtime.services(here, [process])[process] is None:
            bounds = {"count": max(minimum, min(spec_process.count, maximum)), "min": minimum, "max": maximum}
            _record_first_counts(here, {process: bounds})
            progress.note(f"  {env}: not running an image yet; the bounds apply from its first deploy")
            continue
        scaling = aws.client(spec, env, "application-autoscaling")
        resource = _resource_id(here, process)
        progress.step(f"{env}: {resource} between {minimum} and {maximum}")
        scaling.register_scalable_target(
            ServiceNamespace="ecs", ResourceId=resource, ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=minimum, MaxCapacity=maximum,
        )
        if cpu is not None:
            _retarget_cpu(scaling, resource, cpu)
        applied.append(env)
    progress.done(f"Autoscale {process} of {target.app} {minimum}..{maximum} in "
                  f"{', '.join(applied) or 'no environment (none runs an image)'}")


def _retarget_cpu(scaling, resource: str, cpu: int) -> None:
    """Move the CPU policy's target, keeping its name and the rest of its configuration."""
    policies = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"]
    for policy in policies:
        config = policy.get("TargetTrackingScalingPolicyConfiguration", {})
        metric = config.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
        if metric != "ECSServiceAverageCPUUtilization":
            continue
        config["TargetValue"] = float(cpu)
        scaling.put_scaling_policy(
            PolicyName=policy["PolicyName"], ServiceNamespace="ecs", ResourceId=resource,
            ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=config,
        )
