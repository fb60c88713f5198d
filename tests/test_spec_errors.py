"""Bad specs: each gets one clear message naming the file, line, field path, bad value and what is allowed."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from shipway.spec import SpecError, load_spec, parse_spec

BASE = {
    "name": "tiny",
    "environments": {
        "dev": {
            "cluster": {
                "pools": {
                    "big": {"instance_types": ["c6i.large"], "metadata": {"high": "true"}},
                }
            }
        }
    },
    "apps": {
        "hello": {
            "source": {"codecommit": "hello"},
            "processes": {
                "web": {"port": 8080, "hosts": ["hello.example.com"]},
                "worker": {"command": "run-worker"},
            },
        }
    },
}


def problems_for(edit) -> list[str]:
    spec = copy.deepcopy(BASE)
    edit(spec)
    text = yaml.safe_dump(spec, sort_keys=False)
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "shipway.yaml")
    return caught.value.problems


def web(spec):
    return spec["apps"]["hello"]["processes"]["web"]


def hello(spec):
    return spec["apps"]["hello"]


def dev(spec):
    return spec["environments"]["dev"]


CASES = [
    # (id, edit, path, fragment of the message)
    ("unknown top-level key", lambda s: s.update(registy="ecr"), "registy", "unknown key 'registy'; allowed here: name, registry"),
    ("unknown nested key", lambda s: web(s).update(sizee="2x"), "apps.hello.processes.web.sizee", "unknown key 'sizee'"),
    ("size not in the table", lambda s: web(s).update(size="3x"), "apps.hello.processes.web.size", "use one of 1x, 2x, 4x, 8x, 16x or {cpu, memory} (got '3x')"),
    ("memory that does not go with cpu", lambda s: web(s).update(size={"cpu": 256, "memory": 4096}), "apps.hello.processes.web.size", "memory 4096 MiB does not go with cpu 256 on Fargate; allowed: 512, 1024, 2048"),
    ("cpu that Fargate lacks", lambda s: web(s).update(size={"cpu": 300, "memory": 1024}), "apps.hello.processes.web.size", "cpu 300 is not a Fargate CPU value"),
    ("upper-case project name", lambda s: s.update(name="Acme"), "name", "must be lower-case letters, digits and single hyphens"),
    ("environment name with underscore", lambda s: s["environments"].update(my_env={}), "environments.my_env", "the key 'my_env' must be lower-case"),
    ("missing environments", lambda s: s.pop("environments"), "environments", "is required"),
    ("cron with both days given", lambda s: web(s).update(autoscale={"min": 1, "max": 4, "schedules": [{"cron": "cron(0 11 * * FRI *)", "min": 2}]}), "apps.hello.processes.web.autoscale.schedules[0].cron", "exactly one of day-of-month and day-of-week must be '?'"),
    ("cron with five fields", lambda s: hello(s).update(cron={"nightly": {"schedule": "cron(0 18 * * ?)", "command": "x"}}), "apps.hello.cron.nightly.schedule", "a cron expression has 6 fields"),
    ("cron with an hour of 25", lambda s: hello(s).update(cron={"nightly": {"schedule": "cron(0 25 * * ? *)", "command": "x"}}), "apps.hello.cron.nightly.schedule", "the hours field '25' is not valid"),
    ("rate with a plural one", lambda s: hello(s).update(cron={"hourly": {"schedule": "rate(1 hours)", "command": "x"}}), "apps.hello.cron.hourly.schedule", "use the singular unit with 1"),
    ("port out of range", lambda s: web(s).update(port=70000), "apps.hello.processes.web.port", "less than or equal to 65535 (got 70000)"),
    ("negative count", lambda s: web(s).update(count=-1), "apps.hello.processes.web.count", "greater than or equal to 0 (got -1)"),
    ("autoscale min above max", lambda s: web(s).update(count=2, autoscale={"min": 5, "max": 2}), "apps.hello.processes.web.autoscale.min", "min 5 is above max 2"),
    ("count outside autoscale bounds", lambda s: web(s).update(count=10, autoscale={"min": 1, "max": 4}), "apps.hello.processes.web.count", "count 10 is outside autoscale min 1 .. max 4"),
    ("pool that does not exist", lambda s: web(s).update(capacity="pool:nope"), "apps.hello.processes.web.capacity", "pool 'nope' does not exist in environment dev (pools: big)"),
    ("Fargate Spot turned off", lambda s: dev(s)["cluster"].update(fargate_spot=False) or web(s).update(capacity="fargate-spot"), "apps.hello.processes.web.capacity", "environment dev turns fargate-spot off (cluster.fargate_spot: false)"),
    ("capacity not in the vocabulary", lambda s: web(s).update(capacity="ec2"), "apps.hello.processes.web.capacity", "must be fargate, fargate-spot or pool:<name>"),
    ("placement no pool satisfies", lambda s: web(s).update(capacity="pool:big", placement={"high": "false"}), "apps.hello.processes.web.placement", "no instance of pool 'big' in dev has {'high': 'false'}"),
    ("placement on Fargate", lambda s: web(s).update(placement={"high": "true"}), "apps.hello.processes.web.placement", "placement needs EC2 capacity"),
    ("approval before an unknown environment", lambda s: hello(s).update(deploy={"approve_before": "prod"}), "apps.hello.deploy.approve_before", "no environment named 'prod'; environments: dev"),
    ("load test in an unknown environment", lambda s: hello(s).update(loadtest={"locustfile": "l.py", "environment": "stage"}), "apps.hello.loadtest.environment", "no environment named 'stage'"),
    ("host routed to two apps", lambda s: s["apps"].update(other={"source": {"codecommit": "other"}, "processes": {"web": {"port": 80, "hosts": ["hello.example.com"]}}}), "apps.other.processes.web.hosts[0]", "host 'hello.example.com' is already routed to apps.hello.processes.web"),
    ("host routed to two apps in one environment", lambda s: s["apps"].update(other={"source": {"codecommit": "other"}, "processes": {"web": {"port": 80, "hosts": {"dev": ["hello.example.com"]}}}}), "apps.other.processes.web.hosts.dev[0]", "host 'hello.example.com' is already routed to apps.hello.processes.web in environment dev"),
    ("one host list in two environments", lambda s: s["environments"].update(prod={}), "apps.hello.processes.web.hosts", "one list of hosts would be routed by every environment (dev, prod), and a host name leads to one router; give them per environment: hosts: {dev: [...], prod: [...]}"),
    ("a host routed by two environments", lambda s: s["environments"].update(prod={}) or web(s).update(hosts={"dev": ["hello.example.com"], "prod": ["hello.example.com"]}), "apps.hello.processes.web.hosts.prod[0]", "host 'hello.example.com' is already routed to apps.hello.processes.web in environment dev"),
    ("hosts missing an environment", lambda s: s["environments"].update(prod={}) or web(s).update(hosts={"dev": ["dev.example.com"]}), "apps.hello.processes.web.hosts", "no hosts for environment(s) prod"),
    ("hosts for an unknown environment", lambda s: web(s).update(hosts={"dev": ["dev.example.com"], "prd": ["example.com"]}), "apps.hello.processes.web.hosts.prd", "no environment named 'prd'"),
    ("an environment with no hosts", lambda s: web(s).update(hosts={"dev": []}), "apps.hello.processes.web.hosts.dev", "List should have at least 1 item"),
    ("hosts neither list nor mapping", lambda s: web(s).update(hosts="a.example.com"), "apps.hello.processes.web.hosts", "Input should be a valid list"),
    ("an address plan smaller than the VPC", lambda s: dev(s).update(network={"max_azs": 3, "planned_azs": 2}), "environments.dev.network.planned_azs", "the address plan makes room for 2 AZs but max_azs is 3"),
    ("more NAT gateways than AZs", lambda s: dev(s).update(network={"max_azs": 2, "nat_gateways": 3}), "environments.dev.network.nat_gateways", "3 NAT gateways need as many AZs, but max_azs is 2"),
    ("malformed certificate ARN", lambda s: dev(s).update(router={"certificate_arn": "arn:aws:acm:xx:1:cert/abc"}), "environments.dev.router.certificate_arn", "must be an ACM certificate ARN"),
    ("malformed connection ARN", lambda s: hello(s).update(source={"connection_arn": "arn:aws:codeconnections:ap-northeast-1:1:connection/x", "repository": "a/b"}), "apps.hello.source.connection_arn", "must be a CodeConnections connection ARN"),
    ("two kinds of source", lambda s: hello(s).update(source={"codecommit": "x", "connection_arn": "arn:aws:codeconnections:ap-northeast-1:123456789012:connection/00000000-0000-0000-0000-000000000000", "repository": "a/b"}), "apps.hello.source", "give either codecommit"),
    ("CodeCommit name the service rejects", lambda s: hello(s).update(source={"codecommit": "my repo"}), "apps.hello.source.codecommit", "must be a CodeCommit repository name"),
    ("hosts without a port", lambda s: web(s).pop("port"), "apps.hello.processes.web.port", "a process with hosts needs the port it listens on"),
    ("invalid host name", lambda s: web(s).update(hosts=["Not A Host"]), "apps.hello.processes.web.hosts[0]", "'Not A Host' is not a host name"),
    ("config shadows PORT", lambda s: hello(s).update(config={"PORT": "80"}), "apps.hello.config.PORT", "PORT is set by shipway"),
    ("malformed secret ARN", lambda s: hello(s).update(secrets={"API_KEY": "stripe-key"}), "apps.hello.secrets.API_KEY", "must be a Secrets Manager secret or SSM parameter ARN"),
    ("load balancer name over 32 characters", lambda s: s.update(name="averyveryverylongproject", environments={"staging-environment": {}}), "environments.staging-environment", "is longer than 32 characters"),
    ("stack names that collide", lambda s: s["apps"].update({"dev-platform": {"source": {"codecommit": "x"}, "processes": {"worker": {}}}}), "apps.dev-platform", "stack name 'tiny-dev-platform' is already used by environments.dev"),
    ("IAM role name over 64 characters", lambda s: s.update(environments={"staging-eu-west-1": dev(s)}) or s["apps"].update({"a" * 32: {"source": {"codecommit": "x"}, "processes": {"worker": {}}}}), "apps." + "a" * 32, f"the IAM role name 'tiny-{'a' * 32}-staging-eu-west-1-execution' is 65 characters, IAM allows 64"),
    ("IAM role names that collide", lambda s: s["environments"].update({"dev-loadtest-master": {}}) or web(s).update(hosts={"dev": ["hello.example.com"], "dev-loadtest-master": ["m.example.com"]}) or hello(s).update(loadtest={"locustfile": "l.py", "environment": "dev"}), "apps.hello.loadtest", "the IAM role name 'tiny-hello-dev-loadtest-master-task' is also apps.hello's"),
    ("requests per target without hosts", lambda s: s["apps"]["hello"]["processes"]["worker"].update(autoscale={"min": 1, "max": 3, "requests_per_target": 100}), "apps.hello.processes.worker.autoscale.requests_per_target", "requests_per_target needs a process with hosts"),
    ("deploy wait over 45 seconds", lambda s: web(s).update(deregistration_delay=40), "apps.hello.processes.web.deregistration_delay", "is 50 s; keep it at most 45 s"),
    ("availability zones without account and region", lambda s: dev(s).update(availability_zones=["ap-northeast-1a", "ap-northeast-1c"]), "environments.dev.availability_zones", "availability_zones needs account and region"),
    ("availability zone of another region", lambda s: dev(s).update(account="123456789012", region="ap-northeast-1", availability_zones=["us-east-1a", "ap-northeast-1c"]), "environments.dev.availability_zones[0]", "'us-east-1a' is not an Availability Zone of ap-northeast-1"),
    ("canary with no web process", lambda s: s["apps"]["hello"]["processes"].pop("web") and hello(s).update(deploy={"strategy": "canary"}), "apps.hello.deploy.strategy", "canary shifts ALB traffic, so it needs a process with hosts"),
    ("capacity on an asg pool", lambda s: dev(s)["cluster"]["pools"]["big"].update(capacity=3), "environments.dev.cluster.pools.big.capacity", "capacity is for provisioning: spot-fleet"),
    ("on-demand Spot Fleet", lambda s: dev(s)["cluster"]["pools"]["big"].update(provisioning="spot-fleet", spot=False), "environments.dev.cluster.pools.big.spot", "a Spot Fleet pool is always Spot"),
    ("min on a Spot Fleet", lambda s: dev(s)["cluster"]["pools"]["big"].update(provisioning="spot-fleet", min=2), "environments.dev.cluster.pools.big.min", "min is for provisioning: asg; a spot-fleet pool takes capacity"),
    ("unknown pool kind", lambda s: dev(s)["cluster"]["pools"]["big"].update(provisioning="ec2"), "environments.dev.cluster.pools.big.provisioning", "Input should be 'asg' or 'spot-fleet' (got 'ec2')"),
    ("pool kind not a string", lambda s: dev(s)["cluster"]["pools"]["big"].update(provisioning=["asg"]), "environments.dev.cluster.pools.big.provisioning", "Input should be 'asg' or 'spot-fleet' (got ['asg'])"),
    ("unknown key on a Spot Fleet", lambda s: dev(s)["cluster"]["pools"]["big"].update(provisioning="spot-fleet", size=2), "environments.dev.cluster.pools.big.size", "unknown key 'size'; allowed here: provisioning, instance_types, spot, min, max, capacity,"),
    ("a pool given a number", lambda s: dev(s)["cluster"]["pools"].update(big=3), "environments.dev.cluster.pools.big", "must be a mapping, not int 3"),
    ("a mapping given a list", lambda s: hello(s).update(processes=["web"]), "apps.hello.processes", "must be a mapping, not list ['web']"),
    ("unknown registry", lambda s: s.update(registry="gcr"), "registry", "Input should be 'ecr' or 's3' (got 'gcr')"),
    ("buildpacks process with a blank command", lambda s: hello(s).update(build={"buildpacks": "heroku/builder:24"}) or s["apps"]["hello"]["processes"]["worker"].update(command="  "), "apps.hello.processes.worker.command", "process worker of a buildpacks app has an empty command, which the CNB launcher would run as an empty script; leave command out to run the Procfile's worker type"),
    ("buildpacks release with a blank command", lambda s: hello(s).update(build={"buildpacks": "heroku/builder:24"}, release=" "), "apps.hello.release", "the release of a buildpacks app has an empty command"),
    ("buildpacks cron job with a blank command", lambda s: hello(s).update(build={"buildpacks": "heroku/builder:24"}, cron={"nightly": {"schedule": "rate(1 day)", "command": "\t"}}), "apps.hello.cron.nightly.command", "cron job nightly of a buildpacks app has an empty command"),
    ("empty command", lambda s: s["apps"]["hello"]["processes"]["worker"].update(command=""), "apps.hello.processes.worker.command", "at least 1 character"),
    ("app database that is another app's", lambda s: s["apps"].update({"hello-db": {"source": {"codecommit": "x"}, "processes": {"worker": {}}}}) or hello(s).update(database={"name": "hello_db"}), "apps.hello-db", "database 'hello_db' is already apps.hello's; set apps.hello-db.database.name"),
    ("app role that is another app's", lambda s: s["apps"].update({"other": {"source": {"codecommit": "x"}, "processes": {"worker": {}}, "database": {"role": "hello"}}}), "apps.other.database.role", "role 'hello' is already apps.hello's; set apps.other.database.role"),
    ("app named like a reserved database", lambda s: s["apps"].update({"postgres": s["apps"].pop("hello")}), "apps.postgres", "database and role 'postgres' are reserved by PostgreSQL, RDS or shipway; set apps.postgres.database.name and role"),
    ("app role that is the master user", lambda s: hello(s).update(database={"role": "shipway"}), "apps.hello.database.role", "role 'shipway' is reserved"),
    ("app database that is a template", lambda s: hello(s).update(database={"name": "template1"}), "apps.hello.database.name", "database 'template1' is reserved"),
    ("app role in RDS's namespace", lambda s: hello(s).update(database={"role": "rdsadmin"}), "apps.hello.database.role", "role 'rdsadmin' is reserved"),
    ("app database with upper case", lambda s: hello(s).update(database={"name": "Hello"}), "apps.hello.database.name", "must be lower-case letters, digits and _"),
    ("process named like shipway's release task", lambda s: hello(s)["processes"].update(release={"command": "x"}), "apps.hello.processes.release", "a process may not be named 'release'"),
    ("provision role name over 64 characters", lambda s: s["apps"].update({"abcdefghijklmnopqrstuvwxyzabc": s["apps"].pop("hello")}) or s.update(name="abcdefghijklmnopqrst"), "apps.abcdefghijklmnopqrstuvwxyzabc", "'shipway-db-abcdefghijklmnopqrst-abcdefghijklmnopqrstuvwxyzabc-dev' is 65 characters, IAM allows 64"),
    ("config shadows PGHOST", lambda s: hello(s).update(config={"PGHOST": "db"}), "apps.hello.config.PGHOST", "PGHOST is set by shipway"),
]


@pytest.mark.parametrize("edit,path,fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_spec_gets_one_clear_message(edit, path, fragment):
    problems = problems_for(edit)
    assert len(problems) == 1, problems
    (problem,) = problems
    assert re.match(rf"^shipway\.yaml:\d+: {re.escape(path)}: ", problem), problem
    assert fragment in problem


def test_every_problem_is_reported_at_once():
    def edits(spec):
        web(spec).update(size="3x", port=0)
        spec.update(registy="ecr")

    problems = problems_for(edits)
    assert [p.split(": ")[1] for p in problems] == ["apps.hello.processes.web.port", "apps.hello.processes.web.size", "registy"]


def test_message_points_at_the_line_of_the_field(tmp_path):
    path = tmp_path / "shipway.yaml"
    path.write_text("name: tiny\nenvironments:\n  dev: {}\napps:\n  hello:\n    source: {codecommit: hello}\n"
                    "    processes:\n      web:\n        size: 3x\n")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.problems == [
        f"{path}:9: apps.hello.processes.web.size: use one of 1x, 2x, 4x, 8x, 16x or {{cpu, memory}} (got '3x')"
    ]


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(SpecError) as caught:
        parse_spec("name: tiny\nenvironments:\n  dev: {\n", "shipway.yaml")
    assert caught.value.problems[0].startswith("shipway.yaml:4: YAML syntax:")


def test_duplicate_key_is_an_error_not_a_silent_overwrite():
    with pytest.raises(SpecError) as caught:
        parse_spec("name: tiny\nenvironments:\n  dev: {}\n  dev: {}\n", "shipway.yaml")
    assert caught.value.problems == ["shipway.yaml:4: YAML syntax: duplicate key 'dev' (first on line 3)"]


def test_missing_file_names_the_path_and_the_way_out(tmp_path):
    with pytest.raises(SpecError) as caught:
        load_spec(tmp_path / "nope.yaml")
    assert caught.value.problems == [f"{tmp_path / 'nope.yaml'}: no such file; pass another with -c spec=PATH"]


def test_a_document_that_is_not_a_mapping():
    with pytest.raises(SpecError) as caught:
        parse_spec("- just\n- a list\n", "shipway.yaml")
    assert "the spec must be a mapping" in caught.value.problems[0]
