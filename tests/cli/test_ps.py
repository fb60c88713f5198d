"""`shipway ps`, `ps:scale`, `ps:autoscale`, `ps:wait` against moto's server on 127.0.0.1."""

from __future__ import annotations

import json

from shipway import naming
from shipway.cli import ps as ps_module
from tests import emulator
from tests.cli.conftest import synth_templates, template_environment, template_task_definition

ENVS = ("staging", "production")


def resource(template: dict, kind: str, **where) -> dict:
    return next(r["Properties"] for r in template["Resources"].values() if r["Type"] == kind
                and all(r["Properties"].get(k) == v for k, v in where.items()))


def test_ps_shows_each_service_with_counts_revision_size_capacity_and_image(shop):
    emulator.set_running(shop.spec, "store", "staging", "worker", 1)
    result = shop.run("ps", "-e", "staging")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "=== store in staging (cluster shop-staging, image tag 0a1b2c3d4e5f)"
    assert lines[1] == ("web: 2/2 running, 0 pending  shop-store-staging-web:1  1x  FARGATE  image 0a1b2c3d4e5f"
                        "  autoscale 2..6")
    assert lines[2] == ("worker: 1/2 running, 1 pending  shop-store-staging-worker:1  1x  FARGATE_SPOT"
                        "  image 0a1b2c3d4e5f")


def test_ps_scale_counts_and_sizes_agree_with_the_next_synth(shop, tmp_path):
    result = shop.run("ps:scale", "worker=3:2x")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Scaled worker=3:2x of store in staging, production in ")
    worker = shop.edited().apps["store"].processes["worker"]
    assert (worker.count, worker.size.cpu, worker.size.memory) == (3, 512, 1024)
    templates = synth_templates(shop.spec_path, tmp_path)
    for env in ENVS:
        template = templates[naming.app_env_stack("shop", "store", env)]
        service = emulator.service(shop.spec, "store", env, "worker")
        desired = resource(template, "AWS::ECS::Service", ServiceName="store-worker")["DesiredCount"]
        assert desired == {"Fn::If": ["ImageBuilt", 3, 0]} and service["desiredCount"] == 3
        applied = emulator.running_task_definition(shop.spec, "store", env, "worker")
        family = naming.task_family("shop", "store", env, "worker")
        synthesized = template_task_definition(template, family)
        assert (applied["cpu"], applied["memory"]) == (synthesized["Cpu"], synthesized["Memory"]) == ("512", "1024")
        environment = {e["name"]: e["value"] for e in emulator.container_of(applied)["environment"]}
        assert environment == template_environment(template, family)


def test_ps_scale_refuses_a_count_for_an_autoscaled_process_and_an_unknown_one(shop):
    before = shop.spec_path.read_text()
    autoscaled = shop.run("ps:scale", "web=5")
    assert autoscaled.exit_code == 2
    assert autoscaled.stderr == ("shipway: web autoscales (2..6): set its bounds with shipway ps:autoscale web "
                                 "--min N --max N\n")
    unknown = shop.run("ps:scale", "wrker=2")
    assert unknown.exit_code == 5
    assert unknown.stderr == "shipway: unknown process 'wrker' of store; it has: web, worker\n"
    bad = shop.run("ps:scale", "web=3y")
    assert bad.exit_code == 2 and "expected PROCESS=COUNT" in bad.stderr
    assert shop.spec_path.read_text() == before


def test_ps_scale_before_the_first_image_edits_the_spec_and_scales_nothing(shop, tmp_path):
    emulator.client("ssm").put_parameter(Name=naming.image_tag_parameter("shop", "store", "production"),
                                         Value=naming.NO_IMAGE_TAG, Overwrite=True, Type="String")
    result = shop.run("ps:scale", "worker=4")
    assert result.exit_code == 0, result.output
    assert "production: no image deployed yet; the first push starts the services at these counts" in result.stderr
    assert emulator.service(shop.spec, "store", "production", "worker")["desiredCount"] == 2
    assert emulator.service(shop.spec, "store", "staging", "worker")["desiredCount"] == 4
    # the counts GoLive starts production at with its first image are the ones the next cdk deploy publishes
    counts = naming.service_counts_parameter("shop", "store", "production")
    recorded = emulator.client("ssm").get_parameter(Name=counts)["Parameter"]["Value"]
    synthesized = synth_templates(shop.spec_path, tmp_path)["shop-store-production"]
    published = [r for r in synthesized["Resources"].values()
                 if r["Type"] == "AWS::SSM::Parameter" and r["Properties"]["Name"] == counts]
    assert [r["Properties"]["Value"] for r in published] == [recorded]
    assert {"service": naming.service_name("store", "worker"), "count": 4} in json.loads(recorded)


def test_ps_autoscale_moves_the_bounds_and_the_cpu_target(shop, tmp_path):
    result = shop.run("ps:autoscale", "web", "--min", "3", "--max", "9", "--cpu", "50")
    assert result.exit_code == 0, result.output
    autoscale = shop.edited().apps["store"].processes["web"].autoscale
    assert (autoscale.min, autoscale.max, autoscale.cpu) == (3, 9, 50)
    assert shop.edited().apps["store"].processes["web"].count == 3  # kept within the bounds
    templates = synth_templates(shop.spec_path, tmp_path)
    for env in ENVS:
        template = templates[naming.app_env_stack("shop", "store", env)]
        synthesized = resource(template, "AWS::ApplicationAutoScaling::ScalableTarget")
        assert synthesized["MinCapacity"] == {"Fn::If": ["ImageBuilt", 3, 0]} and synthesized["MaxCapacity"] == 9
        target = emulator.scalable_target(shop.spec, "store", env, "web")
        assert (target["MinCapacity"], target["MaxCapacity"]) == (3, 9)
        policies = emulator.client("application-autoscaling").describe_scaling_policies(
            ServiceNamespace="ecs", ResourceId=target["ResourceId"])["ScalingPolicies"]
        cpu = resource(template, "AWS::ApplicationAutoScaling::ScalingPolicy",
                       PolicyName=policies[0]["PolicyName"])
        assert policies[0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 50
        assert cpu["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 50


def test_ps_autoscale_of_a_process_without_autoscale_leaves_its_creation_to_cloudformation(shop):
    result = shop.run("ps:autoscale", "worker", "--min", "1", "--max", "4")
    assert result.exit_code == 0, result.output
    assert "run cdk deploy shop-store-staging shop-store-production" in result.stdout
    assert shop.edited().apps["store"].processes["worker"].autoscale.max == 4
    found = emulator.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=["service/shop-staging/store-worker"])["ScalableTargets"]
    assert found == []


def test_ps_wait_reports_progress_until_the_tasks_run(shop, monkeypatch):
    emulator.set_running(shop.spec, "store", "staging", "worker", 0)
    polls = []

    def one_more_task(seconds):  # each poll interval, ECS (played here) starts one more task
        polls.append(seconds)
        emulator.set_running(shop.spec, "store", "staging", "worker", len(polls))

    monkeypatch.setattr(ps_module, "sleep", one_more_task)
    result = shop.run("ps:wait", "-e", "staging", "-p", "worker")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["  staging: waiting for 2 of 2 tasks to be running",
                                          "  staging: waiting for 1 of 2 tasks to be running"]
    assert result.stdout.startswith("store in staging: every task of worker is running in ")
    assert len(polls) == 2


def test_ctrl_c_while_waiting_is_one_line_and_exit_130(shop, monkeypatch):
    emulator.set_running(shop.spec, "store", "staging", "worker", 0)

    def ctrl_c(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(ps_module, "sleep", ctrl_c)
    result = shop.run("ps:wait", "-e", "staging")
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == "shipway: interrupted"
