"""Checks that span fields or sections of a validated spec, each reported at its exact path."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import assert_never

from .. import naming
from ..listener_rules import registry_rules
from .capacity import check_capacity, loadtest_workers
from .capacity_name import CapacityName, Fargate, OnPool
from .model import (
    DEPLOY_START_MINUTES,
    MAX_DEPLOY_MINUTES,
    MAX_MODELED_WAIT,
    App,
    Autoscale,
    CronJob,
    Environment,
    LoadTest,
    Process,
    Spec,
    app_database,
)
from .vocabulary import HOSTNAME

# Variables shipway itself sets in every container; a spec may not shadow them.
RESERVED_VARIABLES = frozenset(
    {"PORT", "MEMORY_MB", "DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"}
)

# Databases and roles an app may not take: PostgreSQL's and RDS's own, PUBLIC, and the master user. Names with
# these prefixes are PostgreSQL's (pg_) and RDS's (rds_superuser, rdsadmin, rdstopmgr, ...).
RESERVED_DATABASE_NAMES = frozenset({"postgres", "template0", "template1", "public", naming.DATABASE_USERNAME})
RESERVED_DATABASE_PREFIXES = ("pg_", "rds")


@dataclass(frozen=True)
class Problem:
    path: tuple[str | int, ...]
    message: str


def listener_priority(app: str, process: str, explicit: int | None) -> int:
    """A listener-rule priority that depends only on the app and process names, so it is stable."""
    if explicit is not None:
        return explicit
    return 1000 + zlib.crc32(f"{app}/{process}".encode()) % 48000


def build_environment(spec: Spec) -> str:
    """registry: s3: the environment whose VPC the image build runs in: the first, which the pipeline deploys
    to first. Its NAT addresses are the build's, so every environment's registry admits them as well."""
    return next(iter(spec.environments))


def registry_sources(spec: Spec, env: str) -> int:
    """How many addresses ``env``'s registry admits: its own NAT addresses, and the build's when they differ."""
    build = build_environment(spec)
    own = spec.environments[env].network.nat_gateways
    return own if env == build else own + spec.environments[build].network.nat_gateways


def registry_priorities(sources: int) -> list[int]:
    """Priorities of the registry's listener rules for ``sources`` allowed addresses, highest number first: the
    rules the platform stack's S3Registry makes (shipway.listener_rules)."""
    return [priority for priority, _ in registry_rules(range(sources))]


def check_references(spec: Spec) -> list[Problem]:
    problems: list[Problem] = []
    add = lambda path, message: problems.append(Problem(tuple(path), message))  # noqa: E731

    for env_name, env in spec.environments.items():
        _check_environment(spec, env_name, env, add)
        _check_registry(spec, env_name, env, add)
    _check_stack_names(spec, add)
    _check_role_names(spec, add)
    _check_one_pipeline_home(spec, add)
    check_capacity(spec, add)
    _check_app_databases(spec, add)

    priorities_seen: dict[int, str] = {}
    hosts_seen: dict[str, tuple[str, str]] = {}
    for app_name, app in spec.apps.items():
        _check_app(spec, app_name, app, add)
        _check_launcher_commands(app_name, app, add)
        for proc_name, proc in app.processes.items():
            base = ("apps", app_name, "processes", proc_name)
            process = f"apps.{app_name}.processes.{proc_name}"
            for where, routed_in, host in _routed_hosts(spec, base, proc):
                owner, owner_env = hosts_seen.setdefault(host, (process, routed_in))
                if (owner, owner_env) != (process, routed_in):
                    add(where, f"host {host!r} is already routed to {owner} in {owner_env}; "
                               "a host name leads to one environment's router and one process")
                for registry_env, env in spec.environments.items():
                    if spec.registry == "s3" and host == env.router.registry_host:
                        add(where, f"host {host!r} is environment {registry_env}'s registry_host")
            if proc.is_web:
                priority = listener_priority(app_name, proc_name, proc.priority)
                for env_name in spec.environments:
                    if spec.registry == "s3" and priority in registry_priorities(registry_sources(spec, env_name)):
                        add(
                            (*base, "priority"),
                            f"listener priority {priority} belongs to the registry in environment {env_name}; "
                            "set priority: to another number",
                        )
                owner = priorities_seen.setdefault(priority, f"apps.{app_name}.processes.{proc_name}")
                if owner != f"apps.{app_name}.processes.{proc_name}":
                    add(
                        (*base, "priority"),
                        f"listener priority {priority} is already taken by {owner}; set priority: to another number",
                    )
    return problems


def _routed_hosts(spec: Spec, base: tuple, proc: Process):
    """(path, where it is routed, host) of every host of the process; a plain list belongs to every
    environment, which _check_hosts reports when there is more than one."""
    if isinstance(proc.hosts, dict):
        for env_name, hosts in proc.hosts.items():
            for i, host in enumerate(hosts):
                yield (*base, "hosts", env_name, i), f"environment {env_name}", host
    else:
        only = next(iter(spec.environments)) if len(spec.environments) == 1 else None
        for i, host in enumerate(proc.hosts):
            yield (*base, "hosts", i), f"environment {only}" if only else "every environment", host


def _check_hosts(spec: Spec, path: tuple, proc: Process, add) -> None:
    environments = list(spec.environments)
    if isinstance(proc.hosts, dict):
        for env_name in proc.hosts:
            if env_name not in spec.environments:
                add((*path, "hosts", env_name), _unknown_env(spec, env_name))
        missing = [env_name for env_name in environments if proc.hosts and env_name not in proc.hosts]
        if missing:
            add((*path, "hosts"), f"no hosts for environment(s) {', '.join(missing)}: a process with hosts is routed "
                                  "in every environment, each by names of its own")
    elif proc.hosts and len(environments) > 1:
        example = ", ".join(f"{env_name}: [...]" for env_name in environments)
        add((*path, "hosts"), f"one list of hosts would be routed by every environment ({', '.join(environments)}), "
                              f"and a host name leads to one router; give them per environment: hosts: {{{example}}}")
    for where, _, host in _routed_hosts(spec, path, proc):
        if not HOSTNAME.match(host):
            add(where, f"{host!r} is not a host name such as app.example.com")
    lists: list[tuple[str | None, list[str]]] = (
        list(proc.hosts.items()) if isinstance(proc.hosts, dict) else [(None, proc.hosts)]
    )
    for listed_in, hosts in lists:
        if len(set(hosts)) != len(hosts):
            add((*path, "hosts", *((listed_in,) if listed_in else ())), "hosts repeat")


def _check_environment(spec: Spec, env_name: str, env: Environment, add) -> None:
    base = ("environments", env_name)
    if (env.account is None) != (env.region is None):
        add((*base, "region" if env.region is None else "account"), "give account and region together, or neither")
    if env.availability_zones is not None:
        if env.account is None or env.region is None:
            add((*base, "availability_zones"), "availability_zones needs account and region")
        else:
            for i, az in enumerate(env.availability_zones):
                if not (az.startswith(env.region) and len(az) == len(env.region) + 1 and az[-1].isalpha()):
                    add((*base, "availability_zones", i), f"{az!r} is not an Availability Zone of {env.region}")
        if len(env.availability_zones) < env.network.max_azs:
            add(
                (*base, "availability_zones"),
                f"{len(env.availability_zones)} zones given but network.max_azs is {env.network.max_azs}",
            )
    if env.network.planned_azs < env.network.max_azs:
        add(
            (*base, "network", "planned_azs"),
            f"the address plan makes room for {env.network.planned_azs} AZs but max_azs is {env.network.max_azs}; "
            "keep planned_azs at least max_azs (changing it moves existing subnets)",
        )
    if env.network.nat_gateways > env.network.max_azs:
        add(
            (*base, "network", "nat_gateways"),
            f"{env.network.nat_gateways} NAT gateways need as many AZs, but max_azs is {env.network.max_azs}",
        )
    alb = naming.load_balancer_name(spec.name, env_name)
    if len(alb) > 32:
        add((*base,), f"the load balancer name {alb!r} is longer than 32 characters; shorten name or the environment")
    db = naming.database_identifier(spec.name, env_name)
    if len(db) > 63:
        add((*base,), f"the database identifier {db!r} is longer than 63 characters")
    for pool_name, pool in env.cluster.pools.items():
        where = (*base, "cluster", "pools", pool_name)
        for key, message in pool.problems():
            add((*where, key), message)
        if naming.POOL_ATTRIBUTE in pool.metadata:
            add(
                (*where, "metadata", naming.POOL_ATTRIBUTE),
                f"{naming.POOL_ATTRIBUTE} is set by shipway to the pool's name; choose another key",
            )
        if len(set(pool.instance_types)) != len(pool.instance_types):
            add((*where, "instance_types"), "instance types repeat")


def _check_registry(spec: Spec, env_name: str, env: Environment, add) -> None:
    path = ("environments", env_name, "router")
    host = env.router.registry_host
    if spec.registry == "ecr":
        if host is not None:
            add((*path, "registry_host"), "registry_host is for registry: s3; with ECR there is no registry to route")
        return
    if host is None:
        add((*path, "registry_host"), "registry: s3 needs the host name of this environment's registry")
    elif not HOSTNAME.match(host) or host.startswith("*."):
        add((*path, "registry_host"), f"{host!r} is not a host name such as registry.example.com")
    if env.router.certificate_arn is None:
        add(
            (*path, "certificate_arn"),
            "registry: s3 needs HTTPS: container runtimes pull only from registries with a trusted certificate",
        )


def _check_stack_names(spec: Spec, add) -> None:
    seen: dict[str, tuple[str, ...]] = {}
    for path, stack in naming.stack_names_with_paths(spec):
        if stack in seen and seen[stack] != path:
            add(path, f"stack name {stack!r} is already used by {'.'.join(seen[stack])}; rename one of them")
        seen.setdefault(stack, path)
        if len(stack) > 128:
            add(path, f"stack name {stack!r} is longer than CloudFormation's 128 characters")


def _check_app_databases(spec: Spec, add) -> None:
    """Each app's database and role are its own: not reserved by PostgreSQL, RDS or shipway, and not another app's.
    (An app whose database is the instance's first database, e.g. an app named like the project, takes it over.)

    A default name (the app's) that fails for both the database and the role is one problem, at the app."""
    owners: dict[tuple[str, str], str] = {}
    for app_name, app in spec.apps.items():
        found: dict[str, tuple[str, str]] = {}  # kind -> (value, why)
        for kind, value in zip(("name", "role"), app_database(app_name, app), strict=True):
            if value in RESERVED_DATABASE_NAMES or value.startswith(RESERVED_DATABASE_PREFIXES):
                found[kind] = value, "is reserved by PostgreSQL, RDS or shipway"
            else:
                owner = owners.setdefault((kind, value), app_name)
                if owner != app_name:
                    found[kind] = value, f"is already apps.{owner}'s"
        defaults = [k for k in found if getattr(app.database, k) is None]
        if len(defaults) == 2 and found["name"] == found["role"]:
            value, why = found["name"]
            add(("apps", app_name), f"database and role {value!r} are{why.removeprefix('is')}; "
                                    f"set apps.{app_name}.database.name and role to other names")
            continue
        for kind, (value, why) in found.items():
            add(("apps", app_name) if kind in defaults else ("apps", app_name, "database", kind),
                f"{'database' if kind == 'name' else 'role'} {value!r} {why}; "
                f"set apps.{app_name}.database.{kind} to another name")


def _check_role_names(spec: Spec, add) -> None:
    """The roles the pipeline passes are named (naming.app_role, naming.loadtest_role): IAM takes at most 64
    characters, and one name per account, whatever its case."""
    seen: dict[str, tuple[str, ...]] = {}
    reported: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    for path, role in naming.role_names_with_paths(spec):
        if len(role) > naming.IAM_ROLE_NAME_MAX and (path, path) not in reported:
            reported.add((path, path))
            add(path, f"the IAM role name {role!r} is {len(role)} characters, IAM allows {naming.IAM_ROLE_NAME_MAX}; "
                      "shorten the project, app or environment name")
        owner = seen.setdefault(role.lower(), path)
        if owner != path and (owner, path) not in reported:
            reported.add((owner, path))
            add(path, f"the IAM role name {role!r} is also {'.'.join(owner)}'s; rename an app or environment")


def _check_one_pipeline_home(spec: Spec, add) -> None:
    """An app's pipeline deploys to every environment from one account and region (no cross-account delivery)."""
    if not spec.apps:
        return
    first_name, first = next(iter(spec.environments.items()))
    for env_name, env in spec.environments.items():
        if (env.account, env.region) != (first.account, first.region):
            where = lambda e: f"{e.account or 'any account'}/{e.region or 'any region'}"  # noqa: E731
            add(
                ("environments", env_name, "account" if env.account != first.account else "region"),
                f"{env_name} is in {where(env)} but {first_name} is in {where(first)}: an app's pipeline deploys "
                "to every environment from one account and region, so give all environments the same ones",
            )


def _check_capacity(spec: Spec, path, runs_on: CapacityName, placement: dict[str, str], add) -> None:
    match runs_on:
        case Fargate() as fargate:
            _check_fargate(spec, path, fargate, placement, add)
        case OnPool(pool=pool_name):
            _check_pool(spec, path, pool_name, placement, add)
        case unknown:
            assert_never(unknown)


def _check_fargate(spec: Spec, path, fargate: Fargate, placement: dict[str, str], add) -> None:
    for env_name, env in spec.environments.items():
        if not fargate.offered_by(env.cluster):
            add((*path, "capacity"),
                f"environment {env_name} turns {fargate.value} off (cluster.{fargate.flag}: false)")
    if placement:
        add((*path, "placement"),
            f"placement needs EC2 capacity ({OnPool.PREFIX}<name>); {fargate.value} has no instance attributes")


def _check_pool(spec: Spec, path, pool_name: str, placement: dict[str, str], add) -> None:
    for env_name, env in spec.environments.items():
        pool = env.cluster.pools.get(pool_name)
        if pool is None:
            known = ", ".join(env.cluster.pools) or "none"
            add((*path, "capacity"), f"pool {pool_name!r} does not exist in environment {env_name} (pools: {known})")
            continue
        unmet = {k: val for k, val in placement.items() if pool.metadata.get(k) != val}
        if unmet:
            add(
                (*path, "placement"),
                f"no instance of pool {pool_name!r} in {env_name} has {unmet}; its metadata is {pool.metadata}",
            )


def _check_launcher_commands(app_name: str, app: App, add) -> None:
    """A buildpacks image runs each command as the CNB launcher's bash script: a blank one would run nothing
    and exit 0, so a release would pass without migrating, a cron job would do nothing and a service would
    restart forever. Leaving a process's command out runs the Procfile type of its name instead."""
    if app.build.buildpacks is None:
        return
    base = ("apps", app_name)
    commands: list[tuple[tuple[str, ...], str | None, str]] = [((*base, "release"), app.release, "the release")]
    commands += [((*base, "processes", name, "command"), p.command, f"process {name}")
                 for name, p in app.processes.items()]
    commands += [((*base, "cron", name, "command"), job.command, f"cron job {name}") for name, job in app.cron.items()]
    for path, command, what in commands:
        if command is not None and not command.strip():
            hint = (f"; leave command out to run the Procfile's {path[-2]} type" if path[-3:-2] == ("processes",)
                    else "")
            add(path, f"{what} of a buildpacks app has an empty command, which the CNB launcher would run as an "
                      f"empty script{hint}")


def _check_app(spec: Spec, app_name: str, app: App, add) -> None:
    base = ("apps", app_name)
    _check_variables(base, app, add)
    for proc_name, proc in app.processes.items():
        _check_process(spec, app_name, proc_name, proc, add)
    for job_name, job in app.cron.items():
        _check_cron_job(spec, app_name, job_name, job, add)
    _check_deploy(spec, base, app, add)
    if app.loadtest is not None:
        _check_loadtest(spec, app_name, app, app.loadtest, add)


def _check_variables(base: tuple, app: App, add) -> None:
    """Config and secrets: none shadows a variable shipway sets, and no key is both."""
    for section in ("config", "secrets"):
        for key in getattr(app, section):
            if key in RESERVED_VARIABLES:
                add((*base, section, key), f"{key} is set by shipway; choose another name")
    for key in set(app.config) & set(app.secrets):
        add((*base, "secrets", key), f"{key} is in both config and secrets; keep one")


def _check_process(spec: Spec, app_name: str, proc_name: str, proc: Process, add) -> None:
    """A process's name, capacity, hosts and health check timings, then its autoscaling."""
    path = ("apps", app_name, "processes", proc_name)
    if proc_name in naming.TASK_ROLES:
        add(path, f"a process may not be named {proc_name!r}: shipway's own task definition family of that "
                  "name would collide with its")
    _check_capacity(spec, path, proc.runs_on, proc.placement, add)
    _check_hosts(spec, path, proc, add)
    if proc.hosts and proc.port is None:
        add((*path, "port"), "a process with hosts needs the port it listens on")
    if proc.health_check_timeout >= proc.health_check_interval:
        add((*path, "health_check_timeout"), "health_check_timeout must be shorter than health_check_interval")
    if proc.modeled_wait > MAX_MODELED_WAIT:
        add(
            (*path, "deregistration_delay"),
            f"health_check_interval x healthy_threshold + deregistration_delay is {proc.modeled_wait} s; "
            f"keep it at most {MAX_MODELED_WAIT} s so deploys stay fast",
        )
    if proc.autoscale is not None:
        _check_autoscale(path, proc, proc.autoscale, add)


def _check_autoscale(path: tuple, proc: Process, scale: Autoscale, add) -> None:
    """Autoscaling bounds hold the count and every schedule, and something drives the scaling."""
    if scale.min > scale.max:
        add((*path, "autoscale", "min"), f"min {scale.min} is above max {scale.max}")
    elif not scale.min <= proc.count <= scale.max:
        add((*path, "count"), f"count {proc.count} is outside autoscale min {scale.min} .. max {scale.max}")
    if scale.requests_per_target is not None and not proc.is_web:
        add((*path, "autoscale", "requests_per_target"), "requests_per_target needs a process with hosts")
    if scale.cpu is None and scale.memory is None and scale.requests_per_target is None and not scale.schedules:
        add((*path, "autoscale"), "autoscale needs cpu, memory, requests_per_target or schedules")
    for i, sched in enumerate(scale.schedules):
        for key in ("min", "max"):
            value = getattr(sched, key)
            if value is not None and not scale.min <= value <= scale.max:
                add(
                    (*path, "autoscale", "schedules", i, key),
                    f"{key} {value} is outside autoscale min {scale.min} .. max {scale.max}",
                )
        if sched.min is not None and sched.max is not None and sched.min > sched.max:
            add((*path, "autoscale", "schedules", i, "min"), f"min {sched.min} is above max {sched.max}")


def _check_cron_job(spec: Spec, app_name: str, job_name: str, job: CronJob, add) -> None:
    """A cron job's capacity, and its schedule's name in every environment."""
    path = ("apps", app_name, "cron", job_name)
    _check_capacity(spec, path, job.runs_on, job.placement, add)
    for env_name in spec.environments:
        schedule = naming.schedule_name(spec.name, app_name, env_name, job_name)
        if len(schedule) > 64:
            add(path, f"the schedule name {schedule!r} is longer than 64 characters")


def _check_deploy(spec: Spec, base: tuple, app: App, add) -> None:
    """The approval names an environment, the strategy's baking fits the pipeline's wait, and traffic shifts
    have a process with hosts to shift."""
    deploy = app.deploy
    if deploy.approve_before is not None and deploy.approve_before not in spec.environments:
        add((*base, "deploy", "approve_before"), _unknown_env(spec, deploy.approve_before))
    if deploy.strategy == "linear" and deploy.percent < 3:
        add((*base, "deploy", "percent"), "a linear deploy shifts at least 3 percent per step")
    elif deploy.baking_minutes > MAX_DEPLOY_MINUTES - DEPLOY_START_MINUTES:
        add(
            (*base, "deploy", "bake_minutes"),
            f"a {deploy.strategy} deploy with these settings bakes {deploy.baking_minutes} minutes, but the pipeline's "
            f"ECS deploy action waits at most {MAX_DEPLOY_MINUTES} minutes for the whole deploy; keep baking within "
            f"{MAX_DEPLOY_MINUTES - DEPLOY_START_MINUTES} minutes (lower bake_minutes, or raise percent)",
        )
    if deploy.strategy != "rolling" and not app.web_processes:
        add((*base, "deploy", "strategy"), f"{deploy.strategy} shifts ALB traffic, so it needs a process with hosts")


def _check_loadtest(spec: Spec, app_name: str, app: App, test: LoadTest, add) -> None:
    """The load test names an environment whose cluster runs its master and workers, a host to test, and
    leaves its task names and results bucket room."""
    base = ("apps", app_name)
    if test.environment not in spec.environments:
        add((*base, "loadtest", "environment"), _unknown_env(spec, test.environment))
    if test.host is None and not app.web_processes:
        add((*base, "loadtest", "host"), "give host: the app has no process with hosts to test")
    for role in (naming.LOADTEST_MASTER, naming.LOADTEST_WORKER):
        if role in app.processes:
            add((*base, "processes", role), f"{role!r} is the load test's; name the process otherwise")
    target = spec.environments.get(test.environment)
    if target is not None:
        _check_loadtest_capacity(base, f"environments.{test.environment}.cluster", target, add)
    bucket = naming.loadtest_results_bucket_prefix(spec.name, app_name, test.environment)
    if len(bucket) > naming.LOADTEST_BUCKET_PREFIX_MAX:
        add(
            (*base, "loadtest"),
            f"the results bucket name {bucket}-<account>-<region> is too long for S3 (63 characters); "
            "shorten the project, app or environment name",
        )


def _check_loadtest_capacity(base: tuple, where: str, target: Environment, add) -> None:
    """The load test's environment offers its master FARGATE, and its workers their capacity (``loadtest_workers``:
    a load-test pool, or FARGATE_SPOT)."""
    master = Fargate.ON_DEMAND
    if not master.offered_by(target.cluster):
        add((*base, "loadtest", "environment"),
            f"the Locust master runs on {master.provider}, which {where}.{master.flag} turns off")
    key, value = naming.LOADTEST_POOL_METADATA
    workers = loadtest_workers(target.cluster)
    if isinstance(workers, Fargate) and not workers.offered_by(target.cluster):
        add(
            (*base, "loadtest", "environment"),
            f"the Locust workers need a pool with metadata {key}: {value!r} or {workers.provider}; "
            f"{where} has neither",
        )


def _unknown_env(spec: Spec, name: str) -> str:
    return f"no environment named {name!r}; environments: {', '.join(spec.environments)}"
