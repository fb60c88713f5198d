"""The reading verbs against moto's server on 127.0.0.1: `apps`, `info`, `open`, `logs`, `releases`."""

from __future__ import annotations

import time

from shipway import naming
from shipway.cli import logs as logs_module
from tests import emulator


def test_apps_lists_each_environment_with_stack_status_and_image_tag(shop):
    result = shop.run("apps")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "=== shop apps",
        "APP    ENV         STACK                  STATUS           IMAGE TAG",
        "store  staging     shop-store-staging     CREATE_COMPLETE  0a1b2c3d4e5f",
        "store  production  shop-store-production  CREATE_COMPLETE  0a1b2c3d4e5f",
    ]


def test_info_names_stacks_hosts_router_egress_ips_and_the_image(shop):
    result = shop.run("info", "-e", "production")
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines()[1:])
    ec2 = emulator.client("ec2")
    vpc = emulator.client("ssm").get_parameter(Name="/shipway/shop/production/vpc/id")["Parameter"]["Value"]
    gateway = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NatGateways"][0]
    assert lines["Egress IPs"].strip() == gateway["NatGatewayAddresses"][0]["PublicIp"]
    assert lines["Web URLs"].strip() == "http://store.example.com"
    assert lines["Image"].strip() == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/store:{emulator.IMAGE_TAG}"
    assert "shop-production-platform (CREATE_COMPLETE)" in lines["Stacks"]
    assert lines["Deployed"].strip() == "staging 0a1b2c3d4e5f, production 0a1b2c3d4e5f"
    assert lines["Processes"].strip() == "web (1x, autoscale 2..6, fargate), worker (1x, x2, fargate-spot)"


def test_open_prints_the_first_host(shop):
    result = shop.run("open", "--print-url")  # the first environment's, staging
    assert result.stdout == "http://store.staging.example.com\n"
    assert shop.run("open", "--print-url", "-e", "production").stdout == "http://store.example.com\n"


def test_logs_prints_recent_lines_of_one_process_and_tails_new_ones(shop, monkeypatch):
    group = naming.log_group("shop", "store", "staging")
    now = int(time.time() * 1000)
    emulator.put_logs(group, "store-web/app/1111aaaa2222", ["GET / 200", "GET /healthz 200"], now - 2000)
    emulator.put_logs(group, "store-worker/app/3333bbbb4444", ["job done"], now - 1000)
    result = shop.run("logs", "-p", "web")
    assert result.exit_code == 0, result.output
    assert [line.split(" ", 1)[1] for line in result.stdout.splitlines()] == [
        "store-web[1111aaaa]: GET / 200", "store-web[1111aaaa]: GET /healthz 200"]
    polls = []

    def a_new_request_then_ctrl_c(seconds):  # the running task writes a line; the user presses Ctrl-C
        polls.append(seconds)
        if len(polls) == 1:
            emulator.put_logs(group, "store-web/app/1111aaaa2222", ["POST /cart 201"], now + 500)
            return
        raise KeyboardInterrupt

    monkeypatch.setattr(logs_module, "sleep", a_new_request_then_ctrl_c)
    tailed = shop.run("logs", "-p", "web", "-n", "1", "--tail")
    assert tailed.exit_code == 0, tailed.output
    assert [line.split(" ", 1)[1] for line in tailed.stdout.splitlines()] == [
        "store-web[1111aaaa]: GET /healthz 200", "store-web[1111aaaa]: POST /cart 201"]


def test_releases_lists_executions_newest_first(shop):
    ids = emulator.pipeline_history(shop.spec, "store", [("a" * 40, "Succeeded"), ("b" * 40, "Failed")])
    result = shop.run("releases")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "=== store releases (pipeline shop-store)"
    assert lines[1].startswith(f"{ids[1][:8]}  Failed    ") and lines[1].endswith("bbbbbbb  Change number 2")
    assert lines[2].startswith(f"{ids[0][:8]}  Succeeded ") and lines[2].endswith("aaaaaaa  Change number 1")
