"""The monthly cost of a spec, line by line, from the price table in :mod:`shipway.catalog.prices`.

Per environment: the platform (NAT gateways and their Elastic IPs, the ALB, EC2 pools, logs, the alarm key),
the database, and each app's processes, cron jobs, release and load-test tasks and logs there. Per app
(:data:`~shipway.cost.model.PIPELINES`): its pipeline (CodePipeline V2 action minutes, CodeBuild minutes),
its image storage and its artifact key. What the spec does not say is assumed in :mod:`.assumptions`, and
each line repeats the assumption it rests on.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import assert_never

from ..catalog import instance_type
from ..catalog.prices import PRICES, heroku, known_regions, region_prices, spot_assumption
from ..naming import LOADTEST_POOL_METADATA
from ..spec import Spec
from ..spec.capacity import loadtest_workers
from ..spec.capacity_name import CapacityName, Fargate, OnPool
from ..spec.model import App, Environment, Process, app_database
from . import assumptions as a
from .model import PIPELINES, Estimate, HerokuLine, Line
from .schedule import DAYS, WEEKS, runs_per_month

DEFAULT_REGION = "us-east-1"
"""The Region whose prices an environment-agnostic environment (no ``region`` in the spec) is estimated with."""

Priced = tuple[Decimal | None, str | None]
"""A unit price, or None and the reason the table has none."""

MIB_PER_GB = Decimal(1024)
MINUTES_PER_HOUR = Decimal(60)


class _Pricer:
    """One Region's prices, answering a missing one with the line that says so."""

    def __init__(self, region: str, path: Path):
        self.region = region
        self.table = region_prices(region, path)
        self.known = known_regions(path)

    def __call__(self, *keys: str) -> Priced:
        if self.table is None:
            return None, (f"no prices for {self.region} in the table (it has {', '.join(self.known)}); "
                          f"run `shipway cost --refresh --region {self.region}`")
        price = self.table.price(*keys)
        if price is None:
            return None, f"no price for {' '.join(keys)} in {self.region} in the table"
        return price, None

    def task_hour(self, cpu: int, memory: int) -> Priced:
        """A Fargate task of ``cpu`` units and ``memory`` MiB for an hour: its vCPU-hours plus its GB-hours."""
        vcpu, missing = self("fargate", "vcpu_hour")
        gb, missing_gb = self("fargate", "gb_hour")
        if vcpu is None or gb is None:
            return None, missing or missing_gb
        return Decimal(cpu) / 1024 * vcpu + Decimal(memory) / MIB_PER_GB * gb, None


def _line(environment: str, app: str | None, item: str, unit: str, quantity: Decimal, priced: Priced,
          assumption: str, *, quantity_max: Decimal | None = None, spot: Decimal | None = None) -> Line:
    """A line; with ``spot`` (the fraction of on-demand) the price is Spot's and on-demand is kept beside it."""
    price, missing = priced
    on_demand = None
    if spot is not None and price is not None:
        on_demand, price = price, price * spot
    return Line(environment=environment, app=app, item=item, unit=unit, quantity=Decimal(quantity),
                unit_price=price, assumption=assumption,
                quantity_max=None if quantity_max is None or quantity_max == quantity else Decimal(quantity_max),
                on_demand_price=on_demand, missing=missing)


def _counts(process: Process) -> tuple[int, int]:
    """Tasks a process runs at its baseline (the desired count within the autoscaling bounds) and at most."""
    scale = process.autoscale
    if scale is None:
        return process.count, process.count
    return min(max(process.count, scale.min), scale.max), scale.max


def _retained_months(days: int) -> Decimal:
    return min(Decimal(days) / 30, a.RETAINED_MONTHS_CAP)


def estimate(spec: Spec, *, region: str = DEFAULT_REGION, prices: Path = PRICES) -> Estimate:
    """The monthly cost of ``spec``; environments without ``region`` are priced in ``region``."""
    spot = spot_assumption(prices)
    ec2_spot = spot["ec2_fraction_of_on_demand"]
    fargate_spot = spot["fargate_fraction_of_on_demand"]
    regions, notes, sources, lines, equivalents = {}, {}, {}, [], []
    for env_name, env in spec.environments.items():
        regions[env_name] = env.region or region
        notes[env_name] = ("the spec's region" if env.region else
                           f"the spec names no region: --region {region}"
                           + (" (the default)" if region == DEFAULT_REGION else ""))
        pricer = _Pricer(regions[env_name], prices)
        if pricer.table is not None:
            sources[pricer.region] = f"{pricer.table.source}; taken {pricer.table.taken}"
        lines += _platform(spec, env_name, env, pricer, ec2_spot)
        lines += _database(env_name, env, pricer)
        equivalents.append(_heroku_database(env_name, env))
        for app_name, app in spec.apps.items():
            lines += _app_in_environment(env_name, env, app_name, app, pricer, fargate_spot)
            equivalents += _heroku_processes(env_name, app_name, app)
    first = next(iter(spec.environments))
    pipeline_pricer = _Pricer(regions[first], prices)
    for app_name, app in spec.apps.items():
        lines += _pipeline(spec, app_name, app, pipeline_pricer)
    return Estimate(
        spec_name=spec.name, regions=regions, region_notes=notes, sources=sources,
        assumptions=[
            f"A month is {a.HOURS_PER_MONTH} hours; cron schedules count {DAYS} days and {WEEKS} weeks.",
            "Baseline: each process at its desired count within its autoscaling bounds, each pool at its "
            "minimum (a Spot Fleet at its capacity); 'at max' at the autoscaling and pool maxima.",
            f"EC2 pools are priced at the first instance type they list. {spot['assumption']}",
            f"{a.PUSHES} pushes a month per app, each running the whole pipeline; the pipeline's lines use "
            f"the first environment's Region ({regions[first]}).",
            a.NOT_PRICED,
            "Heroku: Common Runtime dynos at the baseline counts and one Heroku Postgres plan per environment "
            "(the mapping is in docs/cost.md); fixed egress IPs would need a Private Space, not priced.",
        ],
        lines=lines, heroku=equivalents,
    )


# --- per environment -----------------------------------------------------------------------------


def _platform(spec: Spec, env_name: str, env: Environment, price: _Pricer, ec2_spot: Decimal) -> list[Line]:
    hours = a.HOURS_PER_MONTH
    nat = env.network.nat_gateways
    azs = env.network.max_azs
    retained = _retained_months(env.log_retention_days)
    access_logs = _retained_months(env.router.access_log_days)
    out = [
        _line(env_name, None, "NAT gateways", "hour", nat * hours, price("nat_gateway", "hour"),
              f"{nat} NAT gateway(s), always on"),
        _line(env_name, None, "NAT data processed", "GB", a.NAT_GB, price("nat_gateway", "gb_processed"),
              f"{a.NAT_GB} GB a month leaves through the NAT gateways"),
        _line(env_name, None, "Public IPv4 addresses", "hour", (nat + azs) * hours, price("public_ipv4_hour"),
              f"{nat} Elastic IP(s) of the NAT gateways and {azs} of the internet-facing ALB, one per AZ"),
        _line(env_name, None, "Application Load Balancer", "hour", hours, price("alb", "hour"),
              "one ALB shared by the environment's apps"),
        _line(env_name, None, "ALB capacity units", "LCU-hour", a.ALB_LCU * hours, price("alb", "lcu_hour"),
              f"{a.ALB_LCU} LCU on average every hour"),
        _line(env_name, None, "ALB access logs (S3)", "GB-month", a.ACCESS_LOG_GB * access_logs,
              price("s3_standard_gb_month"),
              f"{a.ACCESS_LOG_GB} GB a month kept {env.router.access_log_days} days"),
        _line(env_name, None, "Platform logs ingested", "GB", a.PLATFORM_LOG_GB, price("logs", "ingested_gb"),
              f"{a.PLATFORM_LOG_GB} GB a month of VPC flow logs and ECS Exec sessions"),
        _line(env_name, None, "Platform logs stored", "GB-month", a.PLATFORM_LOG_GB * retained,
              price("logs", "stored_gb_month"), f"kept {env.log_retention_days} days"),
        _line(env_name, None, "KMS key", "key-month", Decimal(2), price("kms_key_month"),
              "the alarm topic's key and the environment's logs key"),
    ]
    for pool_name, pool in env.cluster.pools.items():
        low, high = pool.fewest_instances, pool.most_instances
        first = pool.instance_types[0]
        is_spot = pool.buys_spot
        how = pool.DESCRIPTION
        out.append(_line(
            env_name, None, f"Pool {pool_name}: {first}{' Spot' if is_spot else ''}", "instance-hour",
            low * hours, _instance_price(price, first),
            f"{how}, {low}" + (f" to {high}" if high != low else "") + " instance(s)"
            + _holding(spec, env_name, pool_name),
            quantity_max=high * hours, spot=ec2_spot if is_spot else None,
        ))
        out.append(_line(
            env_name, None, f"Pool {pool_name}: root volumes", "GB-month", Decimal(low * pool.root_volume_gb),
            price("ebs_gp3_gb_month"), f"{pool.root_volume_gb} GB gp3 per instance",
            quantity_max=Decimal(high * pool.root_volume_gb),
        ))
    if spec.registry == "s3":
        tasks = a.REGISTRY_TASKS
        out.append(_line(
            env_name, None, "Registry tasks (Fargate)", "task-hour", tasks * hours,
            price.task_hour(a.REGISTRY_CPU, a.REGISTRY_MEMORY),
            f"{tasks} registry:2 tasks of {a.REGISTRY_CPU} CPU units and {a.REGISTRY_MEMORY} MiB",
        ))
        kept = sum((app.build.keep_images for app in spec.apps.values()), 0) * a.IMAGE_GB
        out.append(_line(env_name, None, "Registry storage (S3)", "GB-month", kept, price("s3_standard_gb_month"),
                         f"{a.IMAGE_GB} GB of own layers per image kept (keep_images of every app)"))
    secrets = 2 + 2 * (spec.registry == "s3")
    out.append(_line(env_name, None, "Secrets Manager secrets", "secret-month", Decimal(secrets),
                     price("secrets_manager_secret_month"),
                     "the database's RDS-managed master secret and its connection secret"
                     + (", the registry's HTTP secret and its credentials" if spec.registry == "s3" else "")))
    return out


def _holding(spec: Spec, env_name: str, pool_name: str) -> str:
    """What runs on a pool, for its line: the processes (priced by the pool) and the load-test workers."""
    held = [f"{app_name} {name}" for app_name, app in spec.apps.items()
            for name, runs_on in [*((n, p.runs_on) for n, p in app.processes.items()),
                                  *((n, j.runs_on) for n, j in app.cron.items())]
            if runs_on == OnPool(pool_name)]
    held += [f"{app_name} load-test workers" for app_name, app in spec.apps.items()
             if app.loadtest and app.loadtest.environment == env_name
             and loadtest_workers(spec.environments[env_name].cluster) == OnPool(pool_name)]
    return f"; holds {', '.join(held)}" if held else ""


def _instance_price(price: _Pricer, name: str) -> Priced:
    priced = price("ec2_on_demand_hour", name)
    if priced[0] is None and instance_type(name) is None:
        return None, f"{name} is not an instance type shipway.catalog knows"
    return priced


def _database(env_name: str, env: Environment, price: _Pricer) -> list[Line]:
    db = env.database
    deployment = "multi_az" if db.multi_az else "single_az"
    where = "Multi-AZ" if db.multi_az else "Single-AZ"
    retained = _retained_months(db.log_retention_days)
    return [
        _line(env_name, None, f"RDS PostgreSQL {db.instance_type} {where}", "hour", a.HOURS_PER_MONTH,
              price("rds_postgres_hour", db.instance_type, deployment), "always on"),
        _line(env_name, None, f"RDS gp3 storage {where}", "GB-month", Decimal(db.storage_gb),
              price("rds_gp3_gb_month", deployment), f"{db.storage_gb} GB allocated"),
        _line(env_name, None, "Database logs ingested", "GB", a.DATABASE_LOG_GB, price("logs", "ingested_gb"),
              f"{a.DATABASE_LOG_GB} GB a month of PostgreSQL logs"),
        _line(env_name, None, "Database logs stored", "GB-month", a.DATABASE_LOG_GB * retained,
              price("logs", "stored_gb_month"), f"kept {db.log_retention_days} days"),
    ]


def _priced_per_task(runs_on: CapacityName) -> Fargate | None:
    """The Fargate capacity a process, cron job or load test's workers are priced on by the task; None on a pool,
    whose instances are the pool's line."""
    match runs_on:
        case Fargate():
            return runs_on
        case OnPool():
            return None
        case unknown:
            assert_never(unknown)


def _app_in_environment(env_name: str, env: Environment, app_name: str, app: App, price: _Pricer,
                        fargate_spot: Decimal) -> list[Line]:
    """The app's tasks in the environment (processes, cron jobs, release task, load test), its database secret
    and its logs."""
    return [
        *_processes(env_name, app_name, app, price, fargate_spot),
        *_cron_jobs(env_name, app_name, app, price, fargate_spot),
        *_release_task(env_name, app_name, app, price),
        *_loadtest(env_name, env, app_name, app, price, fargate_spot),
        _database_secret(env_name, env, app_name, app, price),
        *_app_logs(env_name, app_name, app, price),
    ]


def _processes(env_name: str, app_name: str, app: App, price: _Pricer, fargate_spot: Decimal) -> list[Line]:
    """Each process on Fargate, by the task-hour, from its baseline count (and up to its maximum)."""
    out = []
    for name, process in app.processes.items():
        on = _priced_per_task(process.runs_on)
        if on is None:
            continue
        low, high = _counts(process)
        out.append(_line(
            env_name, app_name, f"{name}: {process.size.cpu}/{process.size.memory} on {on.label}", "task-hour",
            low * a.HOURS_PER_MONTH, price.task_hour(process.size.cpu, process.size.memory),
            f"{low}" + (f" to {high}" if high != low else "") + " task(s) always on",
            quantity_max=high * a.HOURS_PER_MONTH, spot=fargate_spot if on.spot else None,
        ))
    return out


def _cron_jobs(env_name: str, app_name: str, app: App, price: _Pricer, fargate_spot: Decimal) -> list[Line]:
    out = []
    for name, job in app.cron.items():
        on = _priced_per_task(job.runs_on)
        if on is None:
            continue
        runs = runs_per_month(job.schedule)
        out.append(_line(
            env_name, app_name, f"cron {name}: {job.size.cpu}/{job.size.memory}", "task-hour",
            runs * a.CRON_MINUTES / MINUTES_PER_HOUR, price.task_hour(job.size.cpu, job.size.memory),
            f"{runs.normalize():f} runs a month ({job.schedule}) of {a.CRON_MINUTES} minutes",
            spot=fargate_spot if on.spot else None,
        ))
    return out


def _release_task(env_name: str, app_name: str, app: App, price: _Pricer) -> list[Line]:
    if not app.release:
        return []
    return [_line(
        env_name, app_name, f"release task: {app.release_size.cpu}/{app.release_size.memory}", "task-hour",
        a.PUSHES * a.RELEASE_MINUTES / MINUTES_PER_HOUR,
        price.task_hour(app.release_size.cpu, app.release_size.memory),
        f"{a.PUSHES} releases a month of {a.RELEASE_MINUTES} minutes",
    )]


def _loadtest(env_name: str, env: Environment, app_name: str, app: App, price: _Pricer,
              fargate_spot: Decimal) -> list[Line]:
    """The load test's master each push, in the environment it runs in, and its workers when Fargate runs them."""
    test = app.loadtest
    if test is None or test.environment != env_name:
        return []
    minutes = Decimal(test.run_seconds) / 60 + a.LOADTEST_SETUP_MINUTES
    task = price.task_hour(test.size.cpu, test.size.memory)
    out = [_line(env_name, app_name, f"load-test master: {test.size.cpu}/{test.size.memory}", "task-hour",
                 a.PUSHES * minutes / MINUTES_PER_HOUR, task,
                 f"{a.PUSHES} runs a month of {test.run_time} plus {a.LOADTEST_SETUP_MINUTES} minutes")]
    workers = _priced_per_task(loadtest_workers(env.cluster))
    if workers is not None:
        out.append(_line(
            env_name, app_name, f"load-test workers: {test.size.cpu}/{test.size.memory} on {workers.label}",
            "task-hour", a.PUSHES * test.workers * minutes / MINUTES_PER_HOUR, task,
            f"{test.workers} workers for each of the {a.PUSHES} runs (no pool offers "
            f"{': '.join(LOADTEST_POOL_METADATA)})", spot=fargate_spot if workers.spot else None,
        ))
    return out


def _database_secret(env_name: str, env: Environment, app_name: str, app: App, price: _Pricer) -> Line:
    database, role = app_database(app_name, app)
    return _line(env_name, app_name, "database secret", "secret-month", Decimal(1),
                 price("secrets_manager_secret_month"),
                 f"role {role}'s login to database {database}, rotated every {env.database.rotation_days} days")


def _app_logs(env_name: str, app_name: str, app: App, price: _Pricer) -> list[Line]:
    """The logs of the app's running tasks (every process at its baseline count, on Fargate or a pool)."""
    running = sum(_counts(process)[0] for process in app.processes.values())
    retained = _retained_months(app.log_retention_days)
    return [
        _line(env_name, app_name, "logs ingested", "GB", running * a.TASK_LOG_GB, price("logs", "ingested_gb"),
              f"{a.TASK_LOG_GB} GB a month from each of {running} running task(s)"),
        _line(env_name, app_name, "logs stored", "GB-month", running * a.TASK_LOG_GB * retained,
              price("logs", "stored_gb_month"), f"kept {app.log_retention_days} days"),
    ]


# --- per app -------------------------------------------------------------------------------------


def _pipeline(spec: Spec, app_name: str, app: App, price: _Pricer) -> list[Line]:
    per_env = a.DEPLOY_MINUTES + app.deploy.baking_minutes + (a.RELEASE_MINUTES if app.release else 0)
    environments = len(spec.environments)
    test = app.loadtest
    test_minutes = Decimal(test.run_seconds) / 60 + a.LOADTEST_SETUP_MINUTES if test else Decimal(0)
    action_minutes = a.SOURCE_MINUTES + a.BUILD_MINUTES + a.RECORD_MINUTES + environments * per_env + test_minutes
    small_minutes = a.RECORD_MINUTES + (environments * a.RELEASE_MINUTES if app.release else 0) + test_minutes
    compute = app.build.compute
    return [
        _line(PIPELINES, app_name, "CodePipeline V2 action minutes", "minute", a.PUSHES * action_minutes,
              price("codepipeline_v2_action_minute"),
              f"{a.PUSHES} pushes × {action_minutes.normalize():f} minutes: source {a.SOURCE_MINUTES}, build "
              f"{a.BUILD_MINUTES}, record {a.RECORD_MINUTES}, per environment "
              f"{'release ' + str(a.RELEASE_MINUTES) + ', ' if app.release else ''}deploy {a.DEPLOY_MINUTES} "
              f"+ baking {app.deploy.baking_minutes}" + (f", load test {test_minutes.normalize():f}" if test else "")
              + "; approvals not counted"),
        _line(PIPELINES, app_name, f"CodeBuild {compute} (image build)", "minute", a.PUSHES * a.BUILD_MINUTES,
              price("codebuild_linux_minute", compute), f"{a.PUSHES} builds of {a.BUILD_MINUTES} minutes"),
        _line(PIPELINES, app_name, "CodeBuild small (record, release, load-test gate)", "minute",
              a.PUSHES * small_minutes, price("codebuild_linux_minute", "small"),
              f"{a.PUSHES} pushes × {small_minutes.normalize():f} minutes"),
        _line(PIPELINES, app_name, "ECR storage", "GB-month", app.build.keep_images * a.IMAGE_GB,
              price("ecr_gb_month"), f"{app.build.keep_images} images kept × {a.IMAGE_GB} GB of own layers"),
        _line(PIPELINES, app_name, "KMS key", "key-month", Decimal(1), price("kms_key_month"),
              "the pipeline's artifact key"),
    ]


# --- Heroku --------------------------------------------------------------------------------------


def _heroku_processes(env_name: str, app_name: str, app: App) -> list[HerokuLine]:
    dynos = heroku()["dynos"]
    out = []
    for name, process in app.processes.items():
        low, _ = _counts(process)
        memory = process.size.memory
        dyno = next((d for d in dynos if d.memory_mib >= memory), None)
        out.append(HerokuLine(
            environment=env_name, app=app_name, item=f"{name}: {process.size.cpu}/{memory}",
            plan=dyno.name if dyno else None, count=low, month=dyno.month if dyno else None,
            assumption=f"the smallest dyno with at least {memory} MiB",
            missing=None if dyno else f"no dyno has {memory} MiB",
        ))
    return out


ESSENTIAL_MAX_MIB = 2048
"""Databases this small (db.*.micro, db.*.small) compare with Heroku's Essential plans, without a RAM figure."""


def _heroku_database(env_name: str, env: Environment) -> HerokuLine:
    db = env.database
    facts = instance_type(db.instance_type.removeprefix("db."))
    item = f"PostgreSQL {db.instance_type}{' Multi-AZ' if db.multi_az else ''}, {db.storage_gb} GB"
    if facts is None:
        return HerokuLine(env_name, None, item, None, 1, None, "by the instance class's memory",
                          missing=f"shipway.catalog does not know the memory of {db.instance_type}")
    tier = "premium" if db.multi_az else "essential" if facts.memory_mib <= ESSENTIAL_MAX_MIB else "standard"
    plans = [p for p in heroku()["postgres"] if p.tier == tier]
    if tier == "essential":
        plans += [p for p in heroku()["postgres"] if p.tier == "standard"]
    plan = next((p for p in plans if (p.ram_gib is None or p.ram_gib * 1024 >= facts.memory_mib)
                 and p.storage_gb >= db.storage_gb), None)
    return HerokuLine(
        env_name, None, item, plan.name if plan else None, 1, plan.month if plan else None,
        f"{tier.capitalize()} tier, the smallest plan with {facts.memory_mib / 1024:g} GiB of RAM (if it states "
        f"any) and {db.storage_gb} GB",
        missing=None if plan else f"no {tier} plan holds {facts.memory_mib} MiB and {db.storage_gb} GB",
    )
