"""``logs [--tail] [-p PROCESS]``: the app's CloudWatch Logs, ``/shipway/<name>/<app>/<env>``.

Each process writes under the stream prefix ``<app>-<process>`` (its service name), one-off tasks and cron
under ``one-off`` (``-p one-off``); a stream is ``<prefix>/app/<task id>``. Lines print as
``<time> <process>[<task>]: <message>``. ``--tail`` keeps polling for new events until Ctrl-C.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click

from .. import naming
from . import aws, cli
from .context import Target, app_env_options
from .errors import NotFound

ONE_OFF = "one-off"  # the one-off task definition's stream prefix (shipway/constructs/one_off.py)
POLL_SECONDS = 2


def stream_prefix(target: Target, process: str | None) -> str | None:
    if process is None:
        return None
    if process == ONE_OFF:
        return f"{ONE_OFF}/"
    target.process(process)
    return f"{target.service(process)}/"  # the slash: web's streams, not web-admin's


def format_event(event: dict) -> str:
    when = datetime.fromtimestamp(event["timestamp"] / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stream = event.get("logStreamName", "")
    prefix, _, task = stream.partition("/app/")
    who = prefix or stream
    return f"{when[:23]}Z {who}[{task[:8] if task else '-'}]: {event['message'].rstrip()}"


@cli.command("logs")
@app_env_options
@click.option("-p", "--process", help="Only this process (or one-off for one-off tasks and cron).")
@click.option("-n", "--num", type=click.IntRange(1, 10000), default=100, show_default=True,
              help="How many recent lines.")
@click.option("--since", type=click.IntRange(1), default=60, show_default=True, help="Look back this many minutes.")
@click.option("-t", "--tail", is_flag=True, help="Keep printing new lines until Ctrl-C.")
def logs(spec_path, app, env, process, num, since, tail):
    """Show the app's recent log lines, optionally of one process, and follow them with --tail."""
    target = Target.of(spec_path, app, env)
    prefix = stream_prefix(target, process)
    group = naming.log_group(target.name, target.app, target.env)
    client = aws.client(target.spec, target.env, "logs")
    start = int((time.time() - since * 60) * 1000)
    try:
        events = fetch(client, group, prefix, start)
    except client.exceptions.ResourceNotFoundException:
        raise NotFound(f"no log group {group}: {naming.app_env_stack(target.name, target.app, target.env)} "
                       "is not deployed") from None
    for event in events[-num:]:
        click.echo(format_event(event))
    if not tail:
        return
    seen = {e["eventId"] for e in events}
    newest = max((e["timestamp"] for e in events), default=start)
    try:
        while True:
            sleep(POLL_SECONDS)
            for event in fetch(client, group, prefix, newest):
                if event["eventId"] in seen:
                    continue
                seen.add(event["eventId"])
                newest = max(newest, event["timestamp"])
                click.echo(format_event(event))
    except KeyboardInterrupt:
        return


def fetch(client, group: str, prefix: str | None, start: int) -> list[dict]:
    """Every event of the group (of the streams under ``prefix``) from ``start`` on, oldest first."""
    request = {"logGroupName": group, "startTime": start}
    if prefix is not None:
        request["logStreamNamePrefix"] = prefix
    events = []
    for page in client.get_paginator("filter_log_events").paginate(**request):
        events.extend(page["events"])
    return sorted(events, key=lambda e: (e["timestamp"], e["eventId"]))


def sleep(seconds: float) -> None:
    """The poll interval of --tail (the tests write new lines here, as a running task would)."""
    time.sleep(seconds)
