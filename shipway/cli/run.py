"""``run -- COMMAND`` (a one-off task, attached) and ``exec`` (ECS Exec into a running task).

``run`` starts the latest revision of the one-off family ``<name>-<app>-<env>-release``: the image the
pipeline last released there, the app's task and execution roles, its config and secrets. With ``-p web`` it
starts the process's own task definition instead (its size and capacity). The command runs as
``/bin/sh -c '<command>'``, as the processes' commands do, in the environment's private subnets with the app
security group (the platform's SSM parameters). Its output streams from the task's log stream, and ``run``
exits with the container's exit code.

``exec`` opens an ECS Exec session into a running task of a process (every service has ECS Exec on) through
AWS's session-manager-plugin, as ``aws ecs execute-command`` does.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import click

from .. import naming
from ..spec.capacity_name import Fargate
from ..spec.vocabulary import SIZES
from . import aws, cli, logs, runtime
from .context import Target, app_env_options
from .errors import FAILED, CliError, NotFound
from .progress import Progress

POLL_SECONDS = 3

ONE_OFF_CAPACITY = Fargate.ON_DEMAND
"""Where the one-off task definition runs without ``-p``: it has no process, so no capacity of its own."""


def shell_command(command: str) -> list[str]:
    """As ``app_task.shell_command`` builds a process's command (not imported: the CLI never loads the CDK)."""
    return ["/bin/sh", "-c", command]


@cli.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@app_env_options
@click.option("-p", "--process", help="Run with this process's task definition (default: the one-off one).")
@click.option("-s", "--size", type=click.Choice(list(SIZES)), help="Task size (default: the definition's).")
@click.option("-d", "--detach", is_flag=True, help="Start the task and print its ID; do not wait.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(spec_path: Path, app: str | None, env: str | None, process: str | None, size: str | None, detach: bool,
        command: tuple[str, ...]) -> None:
    """Run COMMAND in a one-off task with the app's image, roles, config and secrets: shipway run -- rake db:seed"""
    target = Target.of(spec_path, app, env)
    if target.app_spec.build.buildpacks:
        # The image's entry point is /cnb/process/<type>, which takes extra arguments as arguments to that process;
        # a command needs the CNB launcher as the entry point, and RunTask overrides cannot change an entry point.
        raise CliError(f"{target.app} is built with buildpacks: its one-off task definition would need the CNB "
                       "launcher as entry point to run a command, which shipway's stacks do not set yet", FAILED)
    progress = Progress()
    line = command[0] if len(command) == 1 else shlex.join(command)
    task_definition, prefix, placement = _task_definition(target, process)
    subnets = runtime.platform_parameter(target, naming.Param.PRIVATE_SUBNETS)
    group = runtime.platform_parameter(target, naming.Param.APP_SECURITY_GROUP)
    if subnets is None or group is None:
        raise NotFound(f"{naming.platform_stack(target.name, target.env)} is not deployed (its SSM parameters under "
                       f"{naming.parameter_prefix(target.name, target.env)} are missing)")
    override: dict[str, Any] = {"name": naming.CONTAINER_NAME, "command": shell_command(line)}
    overrides: dict = {"containerOverrides": [override]}
    if size:
        cpu, memory = SIZES[size]
        overrides.update(cpu=str(cpu), memory=str(memory))
        override["environment"] = [{"name": "MEMORY_MB", "value": str(memory)}]
    client = runtime.ecs(target)
    progress.step(f"starting {runtime.short(task_definition)} in {target.cluster}")
    answer = client.run_task(
        cluster=target.cluster, taskDefinition=task_definition, overrides=overrides, enableExecuteCommand=True,
        startedBy="shipway-run", networkConfiguration={"awsvpcConfiguration": {
            "subnets": subnets.split(","), "securityGroups": [group], "assignPublicIp": "DISABLED"}},
        **placement,
    )
    if not answer["tasks"]:
        reasons = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')}".strip() for f in answer.get("failures", []))
        raise CliError(f"the task did not start: {reasons or 'no reason given'}", FAILED)
    task = answer["tasks"][0]["taskArn"]
    task_id = task.rsplit("/", 1)[-1]
    if detach:
        progress.done(f"Started {task_id} running {line!r} in {target.env}; follow it with shipway logs -p "
                      f"{process or logs.ONE_OFF} --tail")
        return
    code = _attach(target, task, f"{prefix}/{naming.CONTAINER_NAME}/{task_id}", progress)
    if code is None:
        raise CliError(f"task {task_id} stopped without an exit code: {_stopped_reason(target, task)}", FAILED)
    progress.done(f"{line!r} exited {code} (task {task_id} in {target.env})")
    raise click.exceptions.Exit(code)


def _task_definition(target: Target, process: str | None) -> tuple[str, str, dict]:
    """The task definition to run, its log stream prefix, and where it may be placed."""
    if process is None:
        arn = runtime.latest_task_definition(target, target.family("release"))
        if arn is None:
            raise NotFound(f"no task definition {target.family('release')}: "
                           f"{naming.app_env_stack(target.name, target.app, target.env)} is not deployed")
        if not ONE_OFF_CAPACITY.offered_by(target.spec.environments[target.env].cluster):
            raise CliError(f"{target.env}'s cluster has no {ONE_OFF_CAPACITY.provider} capacity for the one-off "
                           "task: run it on a process's capacity with -p PROCESS", 2)
        strategy = [{"capacityProvider": ONE_OFF_CAPACITY.provider, "weight": 1}]
        return arn, logs.ONE_OFF, {"capacityProviderStrategy": strategy}
    target.process(process)
    service = runtime.services(target, [process])[process]
    if service is None:
        raise NotFound(f"no service {target.service(process)} in {target.cluster}")
    d = service.description
    placement: dict = {}
    if d.get("capacityProviderStrategy"):
        placement["capacityProviderStrategy"] = [
            {"capacityProvider": s["capacityProvider"], "weight": s.get("weight", 1)}
            for s in d["capacityProviderStrategy"]]
    elif d.get("launchType"):
        placement["launchType"] = d["launchType"]
    if d.get("placementConstraints"):
        placement["placementConstraints"] = d["placementConstraints"]
    return service.task_definition, target.service(process), placement


def _attach(target: Target, task: str, stream: str, progress: Progress) -> int | None:
    """Stream the task's log lines until it stops; the app container's exit code."""
    client = runtime.ecs(target)
    log_client = aws.client(target.spec, target.env, "logs")
    group = naming.log_group(target.name, target.app, target.env)
    token = None
    while True:
        described = client.describe_tasks(cluster=target.cluster, tasks=[task])["tasks"][0]
        status = described.get("lastStatus", "PENDING")
        token = _drain(log_client, group, stream, token, progress)
        if status == "STOPPED":
            _drain(log_client, group, stream, token, progress)
            container: dict[str, Any] = next(
                (c for c in described.get("containers", []) if c["name"] == naming.CONTAINER_NAME), {})
            return container.get("exitCode")
        if status != "RUNNING":
            progress.step(f"waiting for task {task.rsplit('/', 1)[-1][:8]} to start ({status})")
        sleep(POLL_SECONDS)


def _drain(client, group: str, stream: str, token: str | None, progress: Progress) -> str | None:
    """Print the stream's lines after ``token``; the token to continue from."""
    while True:
        request = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if token:
            request["nextToken"] = token
        try:
            page = client.get_log_events(**request)
        except client.exceptions.ResourceNotFoundException:
            return token  # the task has not written yet
        for event in page["events"]:
            progress.output(event["message"].rstrip("\n"))
        if page.get("nextForwardToken") in (None, token):
            return token
        token = page["nextForwardToken"]
        if not page["events"]:
            return token


def _stopped_reason(target: Target, task: str) -> str:
    described = runtime.ecs(target).describe_tasks(cluster=target.cluster, tasks=[task])["tasks"][0]
    return described.get("stoppedReason") or "no reason given"


def sleep(seconds: float) -> None:
    """The poll interval (the tests play the task here: its output and its exit)."""
    time.sleep(seconds)


@cli.command("exec", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@app_env_options
@click.option("-p", "--process", default="web", show_default=True, help="The process whose task to enter.")
@click.option("--task", "task_id", help="This task (ID) instead of the process's first running one.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def exec_(spec_path, app, env, process, task_id, command):
    """Open a shell (or run COMMAND) in a running task of a process with ECS Exec: shipway exec -p web -- bash"""
    target = Target.of(spec_path, app, env)
    target.process(process)
    client = runtime.ecs(target)
    if task_id is None:
        arns = client.list_tasks(cluster=target.cluster, serviceName=target.service(process),
                                 desiredStatus="RUNNING")["taskArns"]
        if not arns:
            raise NotFound(f"no running task of {target.service(process)} in {target.cluster}")
        task_id = min(arns).rsplit("/", 1)[-1]
    plugin = shutil.which("session-manager-plugin")
    if plugin is None:
        raise CliError("ECS Exec needs AWS's session-manager-plugin on PATH: https://docs.aws.amazon.com/"
                       "systems-manager/latest/userguide/session-manager-working-with-install-plugin.html", FAILED)
    line = shlex.join(command) if command else "/bin/sh"
    answer = client.execute_command(cluster=target.cluster, task=task_id, container=naming.CONTAINER_NAME,
                                    interactive=True, command=line)
    # The session's target, as `aws ecs execute-command` names it: cluster, task and the container's runtime ID.
    described = client.describe_tasks(cluster=target.cluster, tasks=[task_id])["tasks"][0]
    runtime_id = next(c.get("runtimeId", "") for c in described["containers"] if c["name"] == naming.CONTAINER_NAME)
    region = client.meta.region_name
    target_id = f"ecs:{target.cluster}_{task_id}_{runtime_id}"
    code = subprocess.run([plugin, json.dumps(answer["session"]), region, "StartSession", "",
                           json.dumps({"Target": target_id}), client.meta.endpoint_url], check=False).returncode
    raise click.exceptions.Exit(code)
