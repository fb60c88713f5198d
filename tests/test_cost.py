"""`shipway cost`: two specs priced by hand from the table, spec changes that move the total by exactly their
lines, unknown Regions and types that are never priced at zero, and the counts the estimate assumes checked
against the synthesized templates."""

from __future__ import annotations

import copy
import json
from decimal import Decimal as D

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings

from shipway.catalog.prices import PRICES, prices_table
from shipway.cli import cli
from shipway.cost import PIPELINES, estimate
from shipway.cost.format import as_json, markdown, table
from shipway.spec import SpecError, load_spec, validate_spec

from .conftest import SHIPPED, SPECS
from .test_fuzz_spec import mutated_examples, valid_specs

H = D(730)  # hours in the estimate's month
PUSHES = D(100)


def _prices(region: str) -> dict:
    return prices_table()["regions"][region]


SPOT = prices_table()["spot"]
EC2_SPOT, FARGATE_SPOT = SPOT["ec2_fraction_of_on_demand"], SPOT["fargate_fraction_of_on_demand"]


def _task_hour(p: dict, cpu: int, memory: int) -> D:
    return D(cpu) / 1024 * p["fargate"]["vcpu_hour"] + D(memory) / 1024 * p["fargate"]["gb_hour"]


def _environment_base(p: dict, *, nat: int, azs: int, log_days: int = 30, access_days: int = 90) -> D:
    """What every environment has: network, router, platform logs, alarm key, database secrets."""
    return (
        nat * H * p["nat_gateway"]["hour"]                      # NAT gateways, always on
        + 100 * p["nat_gateway"]["gb_processed"]                 # 100 GB through them
        + (nat + azs) * H * p["public_ipv4_hour"]                # their Elastic IPs + the ALB's, one per AZ
        + H * p["alb"]["hour"] + H * p["alb"]["lcu_hour"]        # the ALB and 1 LCU
        + 5 * D(access_days) / 30 * p["s3_standard_gb_month"]   # 5 GB of access logs a month, kept access_days
        + 5 * p["logs"]["ingested_gb"] + 5 * D(log_days) / 30 * p["logs"]["stored_gb_month"]  # platform logs
        + 2 * p["kms_key_month"]                                 # the alarm topic's key and the logs key
        + 2 * p["secrets_manager_secret_month"]                  # master and connection secrets
    )


def _database(p: dict, instance: str, storage: int, *, multi_az: bool) -> D:
    deployment = "multi_az" if multi_az else "single_az"
    return (H * p["rds_postgres_hour"][instance][deployment] + storage * p["rds_gp3_gb_month"][deployment]
            + 1 * p["logs"]["ingested_gb"] + 1 * p["logs"]["stored_gb_month"])  # 1 GB of logs kept 30 days


def _app_logs(p: dict, tasks: int) -> D:
    return tasks * p["logs"]["ingested_gb"] + tasks * p["logs"]["stored_gb_month"]  # 1 GB per task, 30 days


def _pipeline(p: dict, *, action_minutes: int, small_minutes: D, compute: str = "medium") -> D:
    return (PUSHES * action_minutes * p["codepipeline_v2_action_minute"]
            + PUSHES * 10 * p["codebuild_linux_minute"][compute]    # 10-minute image builds
            + PUSHES * small_minutes * p["codebuild_linux_minute"]["small"]
            + 100 * D("0.2") * p["ecr_gb_month"]                     # 100 images kept × 0.2 GB
            + p["kms_key_month"])                                     # the artifact key


def test_minimal_spec_by_hand():
    """tests/specs/minimal.yaml in us-east-1 (no region in the spec: the default)."""
    p = _prices("us-east-1")
    dev = (_environment_base(p, nat=1, azs=2)
           + _database(p, "db.t4g.micro", 20, multi_az=False)
           + H * _task_hour(p, 256, 512)                     # web: one 1x task on Fargate
           + _app_logs(p, 1)
           + p["secrets_manager_secret_month"])               # hello's own database secret
    # source 1 + build 10 + record 1 + deploy 5 (rolling: no baking) = 17 action minutes; record 1 small minute
    pipelines = _pipeline(p, action_minutes=17, small_minutes=D(1))
    result = estimate(load_spec(SPECS / "minimal.yaml"))
    assert result.regions == {"dev": "us-east-1"}
    assert result.total(environment="dev").monthly == dev
    assert result.total(environment=PIPELINES).monthly == pipelines
    assert result.total().monthly == dev + pipelines
    # With today's table: $100.810025 + $16.90.
    assert result.heroku_total() == (D(25) + D(20), 0)  # Standard-1X and Essential-2


def test_shipped_spec_by_hand():
    """The shipped shipway.yaml in ap-northeast-1, the Region of its ARNs (the spec leaves region out)."""
    p = _prices("ap-northeast-1")
    ec2 = p["ec2_on_demand_hour"]
    staging = (
        _environment_base(p, nat=1, azs=2)
        + 2 * H * ec2["c6i.large"] * EC2_SPOT + 2 * 30 * p["ebs_gp3_gb_month"]   # loadtest: Spot Fleet of 2
        + 1 * H * ec2["c6i.xlarge"] * EC2_SPOT + 1 * 30 * p["ebs_gp3_gb_month"]  # dedicated: ASG min 1, Spot
        + _database(p, "db.t4g.micro", 20, multi_az=False)
    )
    production = (
        _environment_base(p, nat=3, azs=3)
        + 2 * H * ec2["m6i.large"] * EC2_SPOT + 2 * 30 * p["ebs_gp3_gb_month"]   # shared: ASG min 2, Spot
        + 2 * H * ec2["c6i.xlarge"] + 2 * 30 * p["ebs_gp3_gb_month"]             # dedicated: min 2, on-demand
        + _database(p, "db.m6g.large", 100, multi_az=True)
    )
    one_x = _task_hour(p, 256, 512)
    for_each_environment = (
        2 * H * one_x * FARGATE_SPOT                    # minne worker: 2 × 1x on Fargate Spot (web is on a pool)
        + 30 * D(5) / 60 * one_x                        # nightly-report: 30 runs of 5 minutes
        + PUSHES * 3 / D(60) * one_x                    # release: 100 × 3 minutes
        + _app_logs(p, 4 + 2)                           # minne: 4 web + 2 worker tasks
        + 2 * H * one_x * FARGATE_SPOT                  # blog web: 2 × 1x on Fargate Spot
        + _app_logs(p, 2)
        + 2 * p["secrets_manager_secret_month"]         # minne's and blog's own database secrets
    )
    # the load test in staging: master 2x for 3m + 3 minutes per push; workers on the loadtest pool (no line)
    loadtest = PUSHES * 6 / D(60) * _task_hour(p, 512, 1024)
    # minne: source 1 + build 10 + record 1 + 2 × (release 3 + deploy 5 + canary baking 2 × 5) + load test 6
    minne = _pipeline(p, action_minutes=54, small_minutes=1 + 2 * 3 + D(6))
    # blog: source 1 + build 10 + record 1 + 2 × (deploy 5 + blue-green baking 10)
    blog = _pipeline(p, action_minutes=42, small_minutes=D(1))

    result = estimate(load_spec(SHIPPED), region="ap-northeast-1")
    assert result.total(environment="staging").monthly == staging + for_each_environment + loadtest
    assert result.total(environment="production").monthly == production + for_each_environment
    assert result.total(environment=PIPELINES).monthly == minne + blog
    assert result.total().monthly == staging + production + 2 * for_each_environment + loadtest + minne + blog
    # Spot: what the same Spot lines would cost on-demand
    saving = (
        2 * H * ec2["c6i.large"] * (1 - EC2_SPOT) + 1 * H * ec2["c6i.xlarge"] * (1 - EC2_SPOT)
        + 2 * H * ec2["m6i.large"] * (1 - EC2_SPOT)
        + 2 * 2 * (2 * H * one_x * (1 - FARGATE_SPOT))
    )
    assert result.total().spot_saving == saving
    # Heroku: per environment 4 Standard-2X (minne web at 1 GiB), 2 + 2 Standard-1X; Essential-2 and Premium-2
    dynos = 4 * D(50) + 4 * D(25)
    assert result.heroku_total(environment="staging") == (dynos + 20, 0)
    assert result.heroku_total(environment="production") == (dynos + 350, 0)


# --- a change moves the total by exactly its lines -----------------------------------------------


def _shipped(edit=None):
    data = yaml.safe_load(SHIPPED.read_text())
    if edit:
        edit(data)
    return estimate(validate_spec(data), region="ap-northeast-1")


BASE = _shipped()
P = _prices("ap-northeast-1")


def _delta(edit) -> D:
    return _shipped(edit).total().monthly - BASE.total().monthly


def test_one_more_nat_gateway_costs_its_hours_and_its_elastic_ip():
    def more(data):
        data["environments"]["staging"]["network"]["nat_gateways"] = 2

    assert _delta(more) == H * P["nat_gateway"]["hour"] + H * P["public_ipv4_hour"]


def test_a_bigger_instance_class_costs_the_difference_of_its_hours():
    def bigger(data):
        data["environments"]["staging"]["database"]["instance_type"] = "db.t4g.medium"

    rds = P["rds_postgres_hour"]
    assert _delta(bigger) == H * (rds["db.t4g.medium"]["single_az"] - rds["db.t4g.micro"]["single_az"])


def test_spot_off_costs_what_spot_saved():
    def on_demand(data):
        data["environments"]["production"]["cluster"]["pools"]["shared"]["spot"] = False

    saved = 2 * H * P["ec2_on_demand_hour"]["m6i.large"] * (1 - EC2_SPOT)
    assert _delta(on_demand) == saved
    assert _shipped(on_demand).total().spot_saving == BASE.total().spot_saving - saved


def test_multi_az_doubles_the_database_lines():
    def multi(data):
        data["environments"]["staging"]["database"]["multi_az"] = True

    rds = P["rds_postgres_hour"]["db.t4g.micro"]
    storage = P["rds_gp3_gb_month"]
    assert _delta(multi) == H * (rds["multi_az"] - rds["single_az"]) + 20 * (storage["multi_az"] - storage["single_az"])


def test_autoscaling_and_pools_price_their_maximum_apart():
    result = BASE
    shared = next(line for line in result.lines if line.item == "Pool shared: m6i.large Spot")
    assert shared.quantity == 2 * H and shared.quantity_max == 20 * H
    assert shared.amount_max == 20 * H * P["ec2_on_demand_hour"]["m6i.large"] * EC2_SPOT
    assert result.total().monthly_max > result.total().monthly


# --- never a zero --------------------------------------------------------------------------------


def test_a_region_the_table_does_not_know_prices_nothing_and_says_so():
    result = estimate(load_spec(SPECS / "minimal.yaml"), region="eu-west-3")
    assert all(line.unit_price is None and line.amount is None for line in result.lines)
    assert {line.missing for line in result.lines} == {
        "no prices for eu-west-3 in the table (it has ap-northeast-1, us-east-1); "
        "run `shipway cost --refresh --region eu-west-3`"}
    total = result.total()
    assert total.missing == len(result.lines) and total.monthly == 0
    text = table(result)
    assert "≥ $0.00 (" in text and "NO PRICE: no prices for eu-west-3" in text
    assert "| dev | ≥ $0.00 (" in markdown(result)


def test_an_instance_type_the_price_table_does_not_know_gets_a_line_not_a_zero(tmp_path):
    table_ = json.loads(PRICES.read_text())
    del table_["regions"]["ap-northeast-1"]["ec2_on_demand_hour"]["m6i.large"]
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(table_))
    result = estimate(load_spec(SHIPPED), region="ap-northeast-1", prices=prices)
    [line] = [line for line in result.lines if line.missing]
    assert line.item == "Pool shared: m6i.large Spot"
    assert line.missing == "no price for ec2_on_demand_hour m6i.large in ap-northeast-1 in the table"
    assert result.total(environment="production").missing == 1
    assert result.total(environment="staging").missing == 0


def test_the_spec_region_wins_over_the_option():
    data = copy.deepcopy(yaml.safe_load((SPECS / "minimal.yaml").read_text()))
    data["environments"]["dev"].update(account="123456789012", region="ap-northeast-1")
    result = estimate(validate_spec(data), region="us-east-1")
    assert result.regions == {"dev": "ap-northeast-1"}
    assert result.region_notes == {"dev": "the spec's region"}


# --- the command ---------------------------------------------------------------------------------


def test_the_command_prints_each_format(tmp_path):
    runner = CliRunner()
    spec = str(SPECS / "minimal.yaml")
    text = runner.invoke(cli, ["cost", "--spec", spec])
    assert text.exit_code == 0, text.output
    assert "Per environment, beside Heroku" in text.output and "total  " in text.output
    assert "dev (us-east-1: the spec names no region: --region us-east-1 (the default))" in text.output
    as_md = runner.invoke(cli, ["cost", "--spec", spec, "--format", "markdown"])
    assert as_md.output == markdown(estimate(load_spec(spec))) + "\n"
    as_js = runner.invoke(cli, ["cost", "--spec", spec, "--format", "json", "--region", "ap-northeast-1"])
    data = json.loads(as_js.output)
    assert data == json.loads(json.dumps(as_json(estimate(load_spec(spec), region="ap-northeast-1"))))
    assert D(data["total"]["monthly"]) == estimate(load_spec(spec), region="ap-northeast-1").total().monthly


def test_the_command_names_a_bad_spec_in_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: tiny\nenvironments:\n  dev: {network: {nat_gateways: 9}}\napps: {}\n")
    result = CliRunner().invoke(cli, ["cost", "--spec", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: environments.dev.network.nat_gateways" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_region_is_one_line_on_stderr():
    result = CliRunner().invoke(cli, ["cost", "--spec", str(SPECS / "minimal.yaml"), "--region", "eu-west-3"])
    assert result.exit_code == 0
    assert result.stderr.count("no prices for eu-west-3") == 1


# --- the counts the estimate assumes are the templates' ------------------------------------------


def _count(templates: dict, suffix: str, resource_type: str) -> int:
    return sum(1 for name, t in templates.items() if name.endswith(suffix)
               for r in t["Resources"].values() if r["Type"] == resource_type)


@pytest.mark.parametrize("fixture", ["minimal", "shipped", "s3_registry"])
def test_priced_resources_match_the_synthesized_templates(fixture, request):
    synthesized = request.getfixturevalue(fixture)
    spec = load_spec({"minimal": SPECS / "minimal.yaml", "shipped": SHIPPED,
                      "s3_registry": SPECS / "s3-registry.yaml"}[fixture])
    templates = synthesized.templates()
    result = estimate(spec)

    def quantity(env: str, item: str) -> D:
        return next(line.quantity for line in result.lines if line.environment == env and line.item == item)

    for env_name, env in spec.environments.items():
        platform = f"{spec.name}-{env_name}-platform"
        data = f"{spec.name}-{env_name}-data"
        nat = _count(templates, platform, "AWS::EC2::NatGateway")
        assert quantity(env_name, "NAT gateways") == nat * H
        [alb] = [r for r in templates[platform]["Resources"].values()
                 if r["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"]
        assert alb["Properties"]["Scheme"] == "internet-facing"
        eips = _count(templates, platform, "AWS::EC2::EIP")
        assert quantity(env_name, "Public IPv4 addresses") == (eips + len(alb["Properties"]["Subnets"])) * H
        assert quantity(env_name, "KMS key") == _count(templates, platform, "AWS::KMS::Key")
        [db] = [r["Properties"] for r in templates[data]["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance"]
        assert db["ManageMasterUserPassword"] is True  # RDS creates the master secret: one more than the templates
        secrets = sum(_count(templates, stack, "AWS::SecretsManager::Secret") for stack in (platform, data)) + 1
        assert quantity(env_name, "Secrets Manager secrets") == secrets
        for app_name in spec.apps:  # each app's own database secret lives in its environment stack
            app_secrets = _count(templates, f"{spec.name}-{app_name}-{env_name}", "AWS::SecretsManager::Secret")
            assert sum(line.quantity for line in result.lines if (line.environment, line.app, line.item)
                       == (env_name, app_name, "database secret")) == app_secrets == 1
        where = "Multi-AZ" if db.get("MultiAZ") else "Single-AZ"
        assert quantity(env_name, f"RDS gp3 storage {where}") == D(db["AllocatedStorage"])
        assert any(line.item == f"RDS PostgreSQL {db['DBInstanceClass']} {where}" for line in result.lines)
        for pool_name, pool in env.cluster.pools.items():
            resources = templates[platform]["Resources"]
            if pool.provisioning == "asg":
                [group] = [r["Properties"] for k, r in resources.items()
                           if r["Type"] == "AWS::AutoScaling::AutoScalingGroup" and pool_name.capitalize() in k]
                low, high = int(group["MinSize"]), int(group["MaxSize"])
                first = group["MixedInstancesPolicy"]["LaunchTemplate"]["Overrides"][0]["InstanceType"]
            else:
                [fleet] = [r["Properties"]["SpotFleetRequestConfigData"] for r in resources.values()
                           if r["Type"] == "AWS::EC2::SpotFleet"]
                low = high = fleet["TargetCapacity"]
                first = fleet["LaunchTemplateConfigs"][0]["Overrides"][0]["InstanceType"]
            [line] = [line for line in result.lines
                      if line.environment == env_name and line.item.startswith(f"Pool {pool_name}: {first}")]
            assert line.quantity == low * H and (line.quantity_max or line.quantity) == high * H
    for app_name in spec.apps:
        keys = _count(templates, f"{spec.name}-{app_name}", "AWS::KMS::Key")
        assert next(line.quantity for line in result.lines
                    if line.app == app_name and line.item == "KMS key") == keys


def test_the_price_table_states_source_and_date_per_region_and_how_to_refresh():
    table_ = prices_table()
    assert "--refresh" in table_["refresh"]
    for region in ("us-east-1", "ap-northeast-1"):
        assert table_["regions"][region]["source"] and table_["regions"][region]["taken"]


def test_load_test_workers_without_a_loadtest_pool_run_on_fargate_spot():
    def no_pool(data):
        del data["environments"]["staging"]["cluster"]["pools"]["loadtest"]

    two_x = _task_hour(P, 512, 1024)
    # 4 workers × (3m run + 3 minutes) for each of 100 pushes, at Fargate Spot; minus the pool's two instances
    workers = PUSHES * 4 * 6 / D(60) * two_x * FARGATE_SPOT
    pool = 2 * H * P["ec2_on_demand_hour"]["c6i.large"] * EC2_SPOT + 2 * 30 * P["ebs_gp3_gb_month"]
    assert _delta(no_pool) == workers - pool


@pytest.mark.parametrize(("schedule", "runs"), [
    ("cron(0 18 * * ? *)", D(30)),            # daily
    ("cron(0/15 * * * ? *)", D(30 * 24 * 4)),  # every 15 minutes
    ("cron(0 9 ? * MON-FRI *)", 5 * D("4.35")),
    ("cron(0 8,12 ? * 2-6 *)", 2 * 5 * D("4.35")),
    ("cron(0 9 1 * ? *)", D(1)),
    ("cron(0 0 ? * 6#3 *)", D(1)),            # the third Friday
    ("cron(0 0 1 JAN,JUL ? *)", D(2) / 12),
    ("rate(5 minutes)", D(30 * 24 * 12)),
    ("rate(1 hour)", D(720)),
    ("rate(2 days)", D(15)),
])
def test_runs_a_month_of_a_schedule(schedule, runs):
    from shipway.cost.schedule import runs_per_month

    assert runs_per_month(schedule) == runs


# --- any spec ------------------------------------------------------------------------------------


def _check_estimate(spec) -> None:
    for region in ("us-east-1", "ap-northeast-1", "eu-west-3"):
        result = estimate(spec, region=region)
        for line in result.lines:
            assert (line.unit_price is None) == (line.missing is not None)
            amount, amount_max, on_demand = line.amount, line.amount_max, line.on_demand
            if amount is None:
                assert line.unit_price is None and amount_max is None
                continue
            assert amount_max is not None and on_demand is not None
            assert 0 <= amount <= amount_max
            assert amount <= on_demand
        amounts = [line.amount for line in result.lines if line.amount is not None]
        total = result.total()
        assert total.monthly == sum(amounts, D(0))
        assert total.missing == len(result.lines) - len(amounts)
        assert total.monthly <= total.monthly_max and total.monthly <= total.on_demand
        assert sum((result.total(environment=g).monthly for g in result.groups), D(0)) == total.monthly
        table(result), markdown(result), json.dumps(as_json(result))


@settings(max_examples=60, deadline=None)
@given(valid_specs())
def test_every_valid_spec_is_priced_or_says_why(doc):
    _check_estimate(validate_spec(doc))


@settings(max_examples=60, deadline=None)
@given(mutated_examples())
def test_every_mutated_example_that_validates_is_priced_or_says_why(doc):
    try:
        spec = validate_spec(doc)
    except SpecError:
        return
    _check_estimate(spec)


def test_types_and_classes_nobody_knows_are_named_not_zeroed():
    data = yaml.safe_load((SPECS / "minimal.yaml").read_text())
    data["environments"]["dev"]["cluster"] = {"pools": {"big": {"instance_types": ["x9.large"]}}}
    data["environments"]["dev"]["database"] = {"instance_type": "db.x9.large"}
    result = estimate(validate_spec(data))
    assert {line.item: line.missing for line in result.lines if line.missing} == {
        "Pool big: x9.large Spot": "x9.large is not an instance type shipway.catalog knows",
        "RDS PostgreSQL db.x9.large Single-AZ":
            "no price for rds_postgres_hour db.x9.large single_az in us-east-1 in the table",
    }
    [database] = [h for h in result.heroku if h.app is None]
    assert database.amount is None and database.missing == "shipway.catalog does not know the memory of db.x9.large"
    assert result.heroku_total(environment="dev") == (D(25), 1)
    assert "NO PLAN: shipway.catalog does not know the memory of db.x9.large" in table(result)
    assert result.total().missing == 2
