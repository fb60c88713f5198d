"""``releases``, ``deploy``, ``rollback [RELEASE]``: the app's pipeline, ``<name>-<app>``.

A release is a pipeline execution: the commit it built, when, and how it ended. ``deploy`` starts the pipeline
on the branch's newest commit. ``rollback`` starts it on an older commit (CodePipeline V2's source revision
override), so the previous image goes the way every deploy goes: the build finds the commit's image and reuses
it (tags are immutable), then release command, approvals, each environment's deploy with its strategy and
alarms, the recorded image tag and the load-test gate, in the spec's order.
"""

from __future__ import annotations

import time
from typing import Any

import click

from .. import naming
from . import aws, cli
from .context import Target, app_option, spec_option
from .errors import FAILED, CliError, NotFound
from .progress import Progress

SOURCE_ACTION = "Source"  # the pipeline's source action (shipway/constructs/pipeline.py)
POLL_SECONDS = 10


def pipeline_client(target: Target):
    return aws.client(target.spec, next(iter(target.spec.environments)), "codepipeline")


def executions(target: Target, limit: int = 100) -> list[dict]:
    client = pipeline_client(target)
    name = naming.pipeline_name(target.name, target.app)
    try:
        found = []
        for page in client.get_paginator("list_pipeline_executions").paginate(pipelineName=name):
            found.extend(page["pipelineExecutionSummaries"])
            if len(found) >= limit:
                break
        return found[:limit]
    except client.exceptions.PipelineNotFoundException:
        raise NotFound(f"no pipeline {name}: deploy the stack {naming.app_stack(target.name, target.app)}") from None


def commit_of(execution: dict) -> str | None:
    for revision in execution.get("sourceRevisions", []):
        if revision.get("actionName") == SOURCE_ACTION:
            return revision.get("revisionId")
    return None


@cli.command("releases")
@app_option
@spec_option
@click.option("-n", "--num", type=click.IntRange(1, 100), default=15, show_default=True, help="How many.")
def releases(app, spec_path, num):
    """The app's pipeline executions, newest first: execution, status, start, commit, summary."""
    target = Target.of(spec_path, app, None)
    found = executions(target, num)
    click.echo(f"=== {target.app} releases (pipeline {naming.pipeline_name(target.name, target.app)})")
    if not found:
        click.echo("(none yet: push to the app's branch, or shipway deploy)")
        return
    for execution in found:
        revision = next((r for r in execution.get("sourceRevisions", []) if r.get("actionName") == SOURCE_ACTION), {})
        started = execution["startTime"].strftime("%Y-%m-%d %H:%M:%S")
        summary = (revision.get("revisionSummary") or "").splitlines()[0:1]
        click.echo(f"{execution['pipelineExecutionId'][:8]}  {execution['status']:<10}  {started}  "
                   f"{(revision.get('revisionId') or '-')[:7]:<7}  {summary[0] if summary else ''}".rstrip())


@cli.command("deploy")
@app_option
@spec_option
@click.option("--wait", is_flag=True, help="Follow the execution until it ends; fail if it fails.")
def deploy(app, spec_path, wait):
    """Start the app's pipeline on its branch's newest commit."""
    target = Target.of(spec_path, app, None)
    progress = Progress()
    name = naming.pipeline_name(target.name, target.app)
    execution = _start(target, name, None)
    _finish(target, name, execution, wait, progress, f"Started {name} execution {execution}")


@cli.command("rollback")
@click.argument("release", required=False)
@app_option
@spec_option
@click.option("--wait", is_flag=True, help="Follow the execution until it ends; fail if it fails.")
def rollback(release, app, spec_path, wait):
    """Deploy an earlier release's commit through the pipeline (default: the one before the last success).

    RELEASE is an execution ID (or its first characters, as `shipway releases` prints it) or a commit.
    """
    target = Target.of(spec_path, app, None)
    progress = Progress()
    name = naming.pipeline_name(target.name, target.app)
    history = executions(target)
    if release is None:
        succeeded = [e for e in history if e["status"] == "Succeeded" and commit_of(e)]
        current = commit_of(succeeded[0]) if succeeded else None
        earlier = next((e for e in succeeded if commit_of(e) != current), None)
        if earlier is None:
            raise NotFound(f"{name} has no earlier successful release with another commit to roll back to")
        chosen = earlier
    else:
        matches = [e for e in history if e["pipelineExecutionId"].startswith(release)
                   or (commit_of(e) or "").startswith(release)]
        if not matches:
            raise NotFound(f"no release {release!r} among {name}'s last {len(history)} executions")
        chosen = matches[0]
    commit = commit_of(chosen)
    if commit is None:
        raise NotFound(f"release {chosen['pipelineExecutionId'][:8]} records no source commit")
    execution = _start(target, name, commit)
    _finish(target, name, execution, wait, progress,
            f"Rolling back {target.app} to {commit[:7]} (release {chosen['pipelineExecutionId'][:8]}): "
            f"{name} execution {execution}")


def _start(target: Target, name: str, commit: str | None) -> str:
    client = pipeline_client(target)
    request: dict[str, Any] = {"name": name}
    if commit is not None:
        request["sourceRevisions"] = [{"actionName": SOURCE_ACTION, "revisionType": "COMMIT_ID",
                                       "revisionValue": commit}]
    try:
        return client.start_pipeline_execution(**request)["pipelineExecutionId"]
    except client.exceptions.PipelineNotFoundException:
        raise NotFound(f"no pipeline {name}: deploy the stack {naming.app_stack(target.name, target.app)}") from None


def _finish(target: Target, name: str, execution: str, wait: bool, progress: Progress, started: str) -> None:
    if not wait:
        progress.done(started)
        return
    client = pipeline_client(target)
    while True:
        status = client.get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution)[
            "pipelineExecution"]["status"]
        if status not in ("InProgress", "Stopping"):
            break
        progress.step(f"{name} execution {execution[:8]}: {status}")
        sleep(POLL_SECONDS)
    if status != "Succeeded":
        raise CliError(f"{name} execution {execution} ended {status}; see shipway releases", FAILED)
    progress.done(f"{started}: Succeeded")


def sleep(seconds: float) -> None:
    time.sleep(seconds)
