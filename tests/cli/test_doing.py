"""The doing verbs against moto's server on 127.0.0.1: `run`, `exec`, `deploy`, `rollback`.

moto starts no container and runs no pipeline: the tests play the task (its output in its log stream, its
exit) and the pipeline's history, and read back what the verbs asked for (the task's overrides and network,
the pipeline start's source revision through moto's request recorder).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request

from moto.ecs.models import ecs_backends

from shipway import naming
from shipway.cli import run as run_module
from tests import emulator


def _the_task(cluster: str):
    tasks = list(ecs_backends[emulator.ACCOUNT][emulator.REGION].tasks[cluster].values())
    assert len(tasks) == 1
    return tasks[0]


def test_run_starts_the_one_off_task_streams_its_output_and_exits_with_its_code(shop, monkeypatch):
    group = naming.log_group("shop", "store", "production")
    steps = []

    def play_the_task(seconds):  # first poll: the task prints two lines; second: it exits 3
        steps.append(seconds)
        task = _the_task("shop-production")
        if len(steps) == 1:
            task.last_status = "RUNNING"
            emulator.put_logs(group, f"one-off/app/{task.id}", ["migrating...", "done: 3 pending"],
                              int(time.time() * 1000))
        else:
            task.last_status = task.desired_status = "STOPPED"
            for container in task.containers:
                container.exitCode = 3  # what describe_tasks answers as containers[].exitCode

    monkeypatch.setattr(run_module, "sleep", play_the_task)
    result = shop.run("run", "-e", "production", "--size", "2x", "--", "bin/rails", "db:migrate", "--trace")
    assert result.exit_code == 3, result.output
    assert result.stdout.splitlines()[:2] == ["migrating...", "done: 3 pending"]
    assert result.stdout.splitlines()[2].startswith("'bin/rails db:migrate --trace' exited 3 (task ")
    task = emulator.client("ecs").describe_tasks(
        cluster="shop-production", tasks=[_the_task("shop-production").task_arn])["tasks"][0]
    release = emulator.latest_task_definition(shop.spec, "store", "production", "release")
    assert task["taskDefinitionArn"] == release["taskDefinitionArn"]
    assert task["overrides"]["containerOverrides"][0]["command"] == ["/bin/sh", "-c", "bin/rails db:migrate --trace"]
    assert (task["overrides"]["cpu"], task["overrides"]["memory"]) == ("512", "1024")
    assert task["startedBy"] == "shipway-run"  # (moto keeps no enableExecuteCommand of a RunTask)
    subnets = emulator.client("ssm").get_parameter(Name="/shipway/shop/production/vpc/private-subnets")
    attachment = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    assert attachment["subnetId"] in subnets["Parameter"]["Value"].split(",")
    # the one-off task definition carries the app's config, secrets and roles: what the stack gave it
    assert {e["name"] for e in emulator.container_of(release)["environment"]} >= {"LANG", "FEATURE_X"}
    assert release["executionRoleArn"] and release["taskRoleArn"]


def test_run_with_a_process_uses_its_task_definition(shop, monkeypatch):
    def stop(seconds):
        task = _the_task("shop-staging")
        task.last_status = "STOPPED"
        task.stopped_reason = "Essential container in task exited"
        for container in task.containers:
            container.exitCode = 0

    monkeypatch.setattr(run_module, "sleep", stop)
    result = shop.run("run", "-p", "worker", "--", "bin/worker --once")
    assert result.exit_code == 0, result.output
    task = emulator.client("ecs").describe_tasks(
        cluster="shop-staging", tasks=[_the_task("shop-staging").task_arn])["tasks"][0]
    assert task["taskDefinitionArn"] == emulator.service(shop.spec, "store", "staging", "worker")["taskDefinition"]


def test_run_of_an_unknown_process_or_app_is_one_line(shop):
    result = shop.run("run", "-p", "wrker", "--", "true")
    assert (result.exit_code, result.stderr) == (5, "shipway: unknown process 'wrker' of store; it has: web, worker\n")
    result = shop.run("run", "-a", "shopp", "--", "true")
    assert (result.exit_code, result.stderr) == (5, "shipway: unknown app 'shopp'; the spec has: store\n")


def test_run_places_the_one_off_task_on_fargate_and_refuses_a_cluster_without_it(shop):
    result = shop.run("run", "-e", "production", "-d", "--", "true")
    assert result.exit_code == 0, result.output
    assert _the_task("shop-production").capacity_provider_name == "FARGATE"
    # Fargate off in production: every process moves to Fargate Spot, and the one-off task has nowhere to run.
    text = shop.spec_path.read_text()
    text = text.replace("  production: {}\n", "  production: {cluster: {fargate: false}}\n")
    text = text.replace("        size: 1x\n", "        size: 1x\n        capacity: fargate-spot\n")
    shop.spec_path.write_text(text)
    result = shop.run("run", "-e", "production", "--", "true")
    assert (result.exit_code, result.stderr) == (
        2, "shipway: production's cluster has no FARGATE capacity for the one-off task: run it on a process's "
           "capacity with -p PROCESS\n")


def test_exec_finds_a_running_task_and_says_what_it_needs(shop, monkeypatch):
    # moto has no ECS Exec (and no session to attach to); what runs here: the task lookup and the plugin check
    monkeypatch.setenv("PATH", "/nonexistent")
    empty = shop.run("exec", "-p", "worker")
    assert (empty.exit_code, empty.stderr) == (5, "shipway: no running task of store-worker in shop-staging\n")
    emulator.client("ecs").run_task(cluster="shop-staging", taskDefinition="shop-store-staging-worker",
                                    startedBy="ecs-svc/store-worker", launchType="FARGATE",
                                    networkConfiguration=emulator.service(
                                        shop.spec, "store", "staging", "worker")["networkConfiguration"])
    result = shop.run("exec", "-p", "worker")
    assert result.exit_code == 1
    assert result.stderr.startswith("shipway: ECS Exec needs AWS's session-manager-plugin on PATH")


def _recording(endpoint: str, action: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/recorder/{action}", method="POST")).close()


def _recorded_pipeline_starts(endpoint: str) -> list[dict]:
    text = urllib.request.urlopen(f"{endpoint}/moto-api/recorder/download-recording").read().decode()
    starts = []
    for line in filter(None, text.splitlines()):
        entry = json.loads(line)
        if entry.get("headers", {}).get("X-Amz-Target", "").endswith("StartPipelineExecution"):
            body = entry["body"]
            starts.append(json.loads(base64.b64decode(body) if entry.get("body_encoded") else body))
    return starts


def test_deploy_starts_the_pipeline(shop):
    result = shop.run("deploy")
    assert result.exit_code == 0, result.output
    executions = emulator.client("codepipeline").list_pipeline_executions(pipelineName="shop-store")
    execution = executions["pipelineExecutionSummaries"][0]["pipelineExecutionId"]
    assert result.stdout.startswith(f"Started shop-store execution {execution} in ")


def test_rollback_runs_the_previous_commit_through_the_pipeline(shop):
    ids = emulator.pipeline_history(shop.spec, "store", [
        ("1" * 40, "Succeeded"), ("2" * 40, "Succeeded"), ("3" * 40, "Failed"), ("4" * 40, "Succeeded")])
    _recording(shop.endpoint, "reset-recording")
    _recording(shop.endpoint, "start-recording")
    try:
        result = shop.run("rollback")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"Rolling back store to 2222222 (release {ids[1][:8]}): shop-store execution ")
        chosen = shop.run("rollback", ids[0][:8])
        assert chosen.exit_code == 0, chosen.output
        starts = _recorded_pipeline_starts(shop.endpoint)
    finally:
        _recording(shop.endpoint, "stop-recording")
    assert [s["sourceRevisions"] for s in starts] == [
        [{"actionName": "Source", "revisionType": "COMMIT_ID", "revisionValue": "2" * 40}],
        [{"actionName": "Source", "revisionType": "COMMIT_ID", "revisionValue": "1" * 40}],
    ]
    unknown = shop.run("rollback", "deadbeef")
    assert unknown.exit_code == 5 and unknown.stderr.startswith("shipway: no release 'deadbeef' among shop-store's")


def test_deploy_wait_follows_the_execution_to_its_end(shop):
    result = shop.run("deploy", "--wait")  # moto's executions succeed as soon as they start
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("s") and ": Succeeded in " in result.stdout


def test_run_refuses_a_buildpacks_app_in_one_line(shop):
    text = shop.spec_path.read_text().replace(
        "    source: {codecommit: store}\n",
        "    source: {codecommit: store}\n    build: {buildpacks: 'heroku/builder:24'}\n")
    shop.spec_path.write_text(text)
    result = shop.run("run", "--", "true")
    assert result.exit_code == 1
    assert result.stderr.startswith("shipway: store is built with buildpacks: its one-off task definition would need")
