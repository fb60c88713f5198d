"""The pydantic model of ``shipway.yaml``.

This module is the one home of every default: constructs and stacks read values from here and invent
none of their own. Checks that involve a single field live on the field; checks across fields and
sections live in ``references.py`` so that each problem is reported at its exact path.
"""

from __future__ import annotations

import typing
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from .. import defaults
from . import capacity_name
from . import vocabulary as v


def _matches(pattern: str, what: str):
    import re

    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(f"must be {what}")
        return value

    return AfterValidator(check)


Name = Annotated[str, Field(min_length=1, max_length=32), _matches(v.NAME, v.NAME_HELP)]
EnvVarName = Annotated[str, _matches(v.ENV_VAR, "an environment variable name (letters, digits, _)")]
Schedule = Annotated[str, AfterValidator(lambda s: _raise_if(v.schedule_error(s), s))]


def _raise_if(problem: str | None, value):
    if problem:
        raise ValueError(problem)
    return value


class Model(BaseModel):
    """Unknown keys are typos: every section forbids them."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


LogRetention = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]


# --- platform ------------------------------------------------------------------------------------


class Network(Model):
    max_azs: int = Field(
        2, ge=2, le=6,
        description="Availability Zones the VPC spans; at least 2, which the load balancer and the database's "
        "subnet group need.",
    )
    nat_gateways: int = Field(
        1, ge=1, le=6, description="NAT gateways, each with an Elastic IP: the fixed egress addresses."
    )
    planned_azs: int = Field(
        6, ge=2, le=6,
        description="Availability Zones the address plan makes room for: every subnet's CIDR is laid out for this "
        "many, so raising max_azs up to it (or adding NAT gateways or pools) never renumbers an existing subnet.",
    )


class Router(Model):
    certificate_arn: Annotated[str, _matches(v.CERTIFICATE_ARN, "an ACM certificate ARN")] | None = Field(
        None, description="With it, HTTPS on 443 and HTTP redirecting to HTTPS; without it, HTTP only."
    )
    idle_timeout: int = Field(60, ge=1, le=4000, description="ALB idle timeout in seconds.")
    registry_host: str | None = Field(
        None,
        description="registry: s3 only: the host name of this environment's registry; point it at the ALB and "
        "let certificate_arn cover it.",
    )
    access_log_days: int = Field(90, ge=1, le=3650, description="Days the ALB access logs are kept in their bucket.")


Provisioning = Literal["asg", "spot-fleet"]
"""The pool kinds' names, as ``provisioning`` takes them; each names one class of the ``Pool`` union below."""


class PoolKind(Model, ABC):
    """What every pool kind has, and what each kind answers about itself: the spec's side of a pool kind.

    A kind owns its arithmetic (``fewest_instances``, ``most_instances``, ``buys_spot``) and its own checks
    (``problems``); its CDK side is ``shipway.constructs.pools`` (translated by ``shipway.props.pools``).
    """

    provisioning: Provisioning = Field(
        "asg", description="asg: an Auto Scaling group as a capacity provider; spot-fleet: AWS::EC2::SpotFleet."
    )
    instance_types: list[Annotated[str, _matches(v.INSTANCE_TYPE, "an EC2 instance type such as c6i.large")]] = (
        Field(min_length=1, max_length=20)
    )
    spot: bool = Field(True, description="Spot capacity (a Spot Fleet is always Spot).")
    min: int = Field(1, ge=0, le=1000, description="asg: the group's minimum size.")
    max: int = Field(2, ge=1, le=1000, description="asg: the group's maximum size.")
    capacity: int = Field(1, ge=1, le=1000, description="spot-fleet: the target capacity in instances.")
    metadata: dict[
        Annotated[str, _matches(v.ATTRIBUTE_NAME, "an ECS attribute name (letters, digits, _ . / -)")],
        Annotated[str, _matches(v.ATTRIBUTE_VALUE, "an ECS attribute value (letters, digits, _ . @ / : - space)")],
    ] = Field(
        default_factory=dict,
        max_length=9,
        description="Fleet metadata: ECS instance attributes (ECS allows 10 per instance; shipway adds shipway.pool).",
    )
    root_volume_gb: int = Field(30, ge=30, le=16384, description="Encrypted gp3 root volume size.")
    stop_timeout: int = Field(
        110, ge=30, le=119, description="ECS_CONTAINER_STOP_TIMEOUT seconds; under the 2-minute Spot notice."
    )

    SIZE_KEY: ClassVar[str]
    """The key that sets how many instances the pool may run: what a capacity shortfall asks to raise."""
    DESCRIPTION: ClassVar[str]
    """The kind in words, for the cost estimate's lines."""

    @property
    @abstractmethod
    def fewest_instances(self) -> int:
        """Instances the pool runs at its least."""

    @property
    @abstractmethod
    def most_instances(self) -> int:
        """Instances the pool runs at its most: what the capacity check counts on."""

    @property
    @abstractmethod
    def buys_spot(self) -> bool:
        """Its instances are Spot Instances."""

    @abstractmethod
    def problems(self) -> Iterator[tuple[str, str]]:
        """(key, message) for each setting this kind refuses; ``references.py`` reports each at its key."""


class AsgPool(PoolKind):
    """``provisioning: asg`` (the default): an Auto Scaling group of ``min`` to ``max`` instances, an ECS
    capacity provider, on Spot or on demand."""

    SIZE_KEY = "max"
    DESCRIPTION = "Auto Scaling group"

    @property
    def fewest_instances(self) -> int:
        return self.min

    @property
    def most_instances(self) -> int:
        return self.max

    @property
    def buys_spot(self) -> bool:
        return self.spot

    def problems(self) -> Iterator[tuple[str, str]]:
        if "capacity" in self.model_fields_set:
            yield "capacity", "capacity is for provisioning: spot-fleet; an asg pool takes min and max"
        if self.min > self.max:
            yield "min", f"min {self.min} is above max {self.max}"


class SpotFleetPool(PoolKind):
    """``provisioning: spot-fleet``: an ``AWS::EC2::SpotFleet`` held at ``capacity`` Spot Instances; no capacity
    provider."""

    SIZE_KEY = "capacity"
    DESCRIPTION = "Spot Fleet"

    @property
    def fewest_instances(self) -> int:
        return self.capacity

    @property
    def most_instances(self) -> int:
        return self.capacity

    @property
    def buys_spot(self) -> bool:
        return True

    def problems(self) -> Iterator[tuple[str, str]]:
        for key in ("min", "max"):
            if key in self.model_fields_set:
                yield key, f"{key} is for provisioning: asg; a spot-fleet pool takes capacity"
        if not self.spot:
            yield "spot", "a Spot Fleet pool is always Spot; use provisioning: asg for on-demand"


def _pool_kind(value: Any) -> str:
    """The tag of a pool's kind: its ``provisioning``, ``asg`` when it gives none. A value that is no kind goes to
    the default kind, whose ``provisioning`` field then names the kinds there are, at that key."""
    given = value.get("provisioning", "asg") if isinstance(value, dict) else getattr(value, "provisioning", "asg")
    return f"[{given}]" if given in typing.get_args(Provisioning) else "[asg]"


# The registration of the pool kinds: one member per ``Provisioning`` name. The tags are bracketed so that the
# loader leaves them out of the paths it prints.
Pool = Annotated[
    Annotated[AsgPool, Tag("[asg]")] | Annotated[SpotFleetPool, Tag("[spot-fleet]")],
    Discriminator(_pool_kind),
]


class Cluster(Model):
    fargate: bool = Field(True, description="Register the FARGATE capacity provider.")
    fargate_spot: bool = Field(True, description="Register the FARGATE_SPOT capacity provider.")
    pools: dict[Name, Pool] = Field(
        default_factory=dict, description="EC2 capacity; instances join through cloud-init."
    )
    awsvpc_trunking: bool = Field(
        False,
        description="The account has ECS's awsvpcTrunking setting on (aws ecs put-account-setting-default --name "
        "awsvpcTrunking --value enabled): the capacity check counts each pool instance's branch interfaces, "
        "not its ENIs minus the primary.",
    )


class Database(Model):
    engine: Literal["postgres"] = Field("postgres", description="RDS engine; PostgreSQL only.")
    version: Literal["13", "14", "15", "16", "17", "18"] = Field(
        defaults.DATABASE_VERSION, description="PostgreSQL major version."
    )
    instance_type: Annotated[str, _matches(v.DB_INSTANCE_TYPE, "an RDS instance class such as db.t4g.micro")] = (
        defaults.DATABASE_INSTANCE_TYPE
    )
    storage_gb: int = Field(defaults.DATABASE_STORAGE_GB, ge=20, le=65536, description="Allocated gp3 storage.")
    multi_az: bool = Field(defaults.DATABASE_MULTI_AZ, description="A standby in a second AZ.")
    backup_retention_days: int = Field(
        defaults.DATABASE_BACKUP_RETENTION_DAYS, ge=1, le=35, description="Automated backup retention."
    )
    log_retention_days: LogRetention = Field(
        defaults.DATABASE_LOG_RETENTION_DAYS, description="Retention of the exported PostgreSQL logs."
    )
    rotation_days: int = Field(
        defaults.DATABASE_ROTATION_DAYS, ge=1, le=365,
        description="Days between rotations of each app's own database password (RDS rotates the master's itself).",
    )


class Environment(Model):
    account: Annotated[str, _matches(v.ACCOUNT, "a 12-digit AWS account ID")] | None = Field(
        None, description="With region: an environment-bound stack; without both, environment-agnostic."
    )
    region: Annotated[str, _matches(v.REGION, "an AWS region such as ap-northeast-1")] | None = Field(
        None, description="With account."
    )
    availability_zones: list[str] | None = Field(
        None, min_length=1, max_length=6,
        description="Only with account and region; otherwise the AZs are looked up by CloudFormation.",
    )
    network: Network = Field(default_factory=Network)
    router: Router = Field(default_factory=Router)
    cluster: Cluster = Field(default_factory=Cluster)
    database: Database = Field(default_factory=Database)
    log_retention_days: LogRetention = Field(
        30, description="Retention of the platform's log groups: VPC flow logs and ECS Exec sessions."
    )


# --- apps ----------------------------------------------------------------------------------------


class Source(Model):
    codecommit: Annotated[str, _matches(v.CODECOMMIT_REPOSITORY, "a CodeCommit repository name")] | None = None
    connection_arn: Annotated[str, _matches(v.CONNECTION_ARN, "a CodeConnections connection ARN")] | None = None
    repository: Annotated[str, _matches(v.THIRD_PARTY_REPOSITORY, "owner/name")] | None = None
    branch: str = Field(
        "main", min_length=1, max_length=255, pattern=r"^[^\s~^:?*\[\\]+$", description="Pushes to it deploy."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        if (self.codecommit is None) == (self.connection_arn is None):
            raise ValueError(
                "give either codecommit: <repository> or connection_arn: <arn> with repository: <owner/name>"
            )
        if self.connection_arn is not None and self.repository is None:
            raise ValueError("connection_arn needs repository: <owner/name>")
        if self.codecommit is not None and self.repository is not None:
            raise ValueError(
                "repository goes with connection_arn; a CodeCommit source names its repository in codecommit"
            )
        return self


class Build(Model):
    dockerfile: str | None = Field(None, min_length=1, description="Path of the Dockerfile; the default build.")
    buildpacks: str | None = Field(None, min_length=1, description="Cloud Native Buildpacks builder image.")
    compute: Literal["small", "medium", "large", "xlarge", "2xlarge"] = Field(
        "medium", description="CodeBuild compute size of the image build (BUILD_GENERAL1_<SIZE>)."
    )
    keep_images: int = Field(
        100, ge=1, le=10000,
        description="Images the app repository keeps, newest first. Keep more than any environment lags behind: "
        "an expired image can no longer be scaled out or rolled back to.",
    )
    untagged_days: int = Field(
        1, ge=1, le=365, description="Days before untagged images (replaced cache manifests, failed pushes) expire."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Build:
        if self.dockerfile is not None and self.buildpacks is not None:
            raise ValueError("give either dockerfile or buildpacks, not both")
        if self.dockerfile is None and self.buildpacks is None:
            self.dockerfile = "Dockerfile"
        return self


class Size(Model):
    cpu: int
    memory: int

    @model_validator(mode="after")
    def _fargate_pair(self) -> Size:
        return _raise_if(v.fargate_pair_error(self.cpu, self.memory), self)


def _size(value):
    if isinstance(value, str):
        if value not in v.SIZES:
            raise ValueError(f"use one of {', '.join(v.SIZES)} or {{cpu, memory}}")
        cpu, memory = v.SIZES[value]
        return {"cpu": cpu, "memory": memory}
    return value


SizeField = Annotated[Size, BeforeValidator(_size)]
# An ALB rule holds at most five condition values.
HostList = Annotated[list[str], Field(min_length=1, max_length=5)]
# A mapping of environment to its hosts, or one list for a spec with one environment. The tags name the two
# forms in pydantic's error locations; the loader leaves bracketed parts out of the paths it prints.
Hosts = Annotated[
    Annotated[Annotated[list[str], Field(max_length=5)], Tag("[list]")] | Annotated[dict[Name, HostList], Tag("[map]")],
    Discriminator(lambda value: "[map]" if isinstance(value, dict) else "[list]"),
]
Capacity = Annotated[str, _matches(capacity_name.PATTERN, capacity_name.HELP)]
"""A capacity name; ``capacity_name.parse`` says what it means (a process's or cron job's ``runs_on``)."""


def _slow_start(seconds: int) -> int:
    return _raise_if("0 (off) or 30 to 900 seconds, the range the ALB accepts" if 0 < seconds < 30 else None, seconds)


class ScheduledScaling(Model):
    cron: Schedule = Field(description="cron(...) or rate(...), in UTC.")
    min: int | None = Field(None, ge=0, le=1000, description="New minimum from then on.")
    max: int | None = Field(None, ge=1, le=1000, description="New maximum from then on.")

    @model_validator(mode="after")
    def _bound(self) -> ScheduledScaling:
        if self.min is None and self.max is None:
            raise ValueError("a schedule sets min, max or both")
        return self


class Autoscale(Model):
    min: int = Field(1, ge=0, le=1000, description="Fewest tasks.")
    max: int = Field(ge=1, le=1000, description="Most tasks.")
    cpu: int | None = Field(60, ge=1, le=100, description="Target CPU utilization percent.")
    memory: int | None = Field(None, ge=1, le=100, description="Target memory utilization percent.")
    requests_per_target: int | None = Field(None, ge=1, le=1_000_000, description="ALB requests per target per minute.")
    schedules: list[ScheduledScaling] = Field(default_factory=list, max_length=50)
    scale_in_cooldown: int = Field(300, ge=0, le=3600)
    scale_out_cooldown: int = Field(30, ge=0, le=3600)


ROLLING_MAX_PERCENT = 200
"""A rolling deploy starts new tasks up to this percent of the desired count before stopping old ones."""


class Process(Model):
    command: str | None = Field(None, min_length=1, description="Defaults to the image's command.")
    port: int | None = Field(None, ge=1, le=65535)
    size: SizeField = Field("1x", description="Task CPU and memory.")  # type: ignore[assignment]
    count: int = Field(1, ge=0, le=1000, description="Desired tasks (heroku ps:scale).")
    capacity: Capacity = Field(capacity_name.Fargate.ON_DEMAND.value, description=f"{capacity_name.HELP}.")
    placement: dict[str, str] = Field(default_factory=dict, description="memberOf constraints on pool metadata.")
    health_check: str = Field("/", pattern=r"^/[\x21-\x7e]{0,1023}$", description="ALB health check path.")
    hosts: Hosts = Field(
        default_factory=list,
        description="Host names routed to it, per environment ({staging: [a.staging.example.com], production: "
        "[a.example.com]}); makes it web-like. A plain list serves a spec with one environment: no host is routed "
        "by two environments.",
    )
    priority: int | None = Field(
        None, ge=1, le=50000, description="Listener rule priority; derived from app and process names when absent."
    )
    autoscale: Autoscale | None = None
    deregistration_delay: int = Field(30, ge=0, le=110, description="Seconds a draining target keeps its connections.")
    health_check_interval: int = Field(5, ge=5, le=300, description="ALB health check interval seconds.")
    healthy_threshold: int = Field(2, ge=2, le=10, description="Passing checks before a target takes traffic.")
    health_check_timeout: int = Field(4, ge=2, le=120, description="Seconds; shorter than the interval.")
    health_check_grace: int = Field(30, ge=0, le=600, description="Seconds ECS ignores failing health checks at start.")
    slow_start: Annotated[int, AfterValidator(_slow_start)] = Field(
        30, ge=0, le=900, description="ALB slow start seconds, for warm-up; 0 turns it off."
    )

    @property
    def is_web(self) -> bool:
        return bool(self.hosts)

    def hosts_in(self, environment: str) -> list[str]:
        """The host names routed to the process in ``environment``."""
        if isinstance(self.hosts, dict):
            return list(self.hosts.get(environment, []))
        return list(self.hosts)

    @property
    def runs_on(self) -> capacity_name.CapacityName:
        """What ``capacity`` names."""
        return capacity_name.parse(self.capacity)

    @property
    def pool(self) -> str | None:
        """The pool the process runs on; None on Fargate."""
        runs_on = self.runs_on
        return runs_on.pool if isinstance(runs_on, capacity_name.OnPool) else None

    @property
    def stop_timeout(self) -> int:
        """At least the deregistration delay, under the two-minute Spot notice."""
        return min(max(self.deregistration_delay, 30), 110)

    @property
    def modeled_wait(self) -> int:
        """Seconds a rolling step waits on the ALB: to become healthy, then to drain."""
        return self.health_check_interval * self.healthy_threshold + self.deregistration_delay


MAX_MODELED_WAIT = 45


class CronJob(Model):
    schedule: Schedule = Field(description="EventBridge cron(...) or rate(...).")
    command: str = Field(min_length=1, description="Run with the one-off task definition.")
    size: SizeField = "1x"  # type: ignore[assignment]
    capacity: Capacity = capacity_name.Fargate.ON_DEMAND.value
    placement: dict[str, str] = Field(default_factory=dict)
    retry_attempts: int = Field(
        2, ge=0, le=185, description="EventBridge Scheduler retries before the dead-letter queue."
    )
    max_event_age: int = Field(3600, ge=60, le=86400, description="Seconds Scheduler keeps retrying a run.")

    @property
    def runs_on(self) -> capacity_name.CapacityName:
        """What ``capacity`` names."""
        return capacity_name.parse(self.capacity)


class Deploy(Model):
    strategy: Literal["rolling", "canary", "linear", "blue-green"] = Field(
        "rolling", description="How web processes take a new release."
    )
    percent: int = Field(10, ge=1, le=99, description="canary: traffic share while baking; linear: each step.")
    bake_minutes: int = Field(5, ge=0, le=1440, description="Minutes to watch alarms before finishing.")
    approve_before: Name | None = Field(None, description="A manual approval before this environment's deploy.")

    @property
    def baking_minutes(self) -> int:
        """Minutes a web service's deployment stays open once its new tasks run: each shift's bake, then the last."""
        if self.strategy == "rolling":
            return 0
        if self.strategy == "canary":
            return 2 * self.bake_minutes
        if self.strategy == "linear":
            return -(-100 // self.percent) * self.bake_minutes
        return self.bake_minutes


MAX_DEPLOY_MINUTES = 60
"""CodePipeline's ECS deploy action waits at most this long for a service's deployment to finish."""
DEPLOY_START_MINUTES = 10
"""What a deploy needs besides baking, at most: new tasks start, pass health checks, old ones drain."""


class LoadTest(Model):
    locustfile: str = Field(min_length=1, pattern=r"^[^\s]+\.py$", description="Path in the app's repository.")
    environment: Name = Field(description="The environment whose deploy the test gates.")
    host: Annotated[str, _matches(r"^https?://[^\s/]+(?:/[^\s]*)?$", "an http(s):// URL")] | None = Field(
        None, description="Defaults to https:// (or http://) plus the first host of the first web process in the gated "
        "environment: its own router, never another environment's."
    )
    workers: int = Field(2, ge=1, le=100, description="Locust worker tasks.")
    users: int = Field(100, ge=1, le=1_000_000, description="Concurrent simulated users (-u).")
    spawn_rate: float = Field(10, gt=0, le=10_000, description="Users started per second (-r).")
    run_time: Annotated[str, _matches(v.RUN_TIME, "a duration such as 3m, 90s or 1h30m")] = "1m"
    p95_ms: int = Field(500, ge=1, le=600_000, description="The gate fails above this p95 latency.")
    failure_ratio: float = Field(0.01, ge=0, le=1, description="The gate fails above this share of failed requests.")
    size: SizeField = Field(  # type: ignore[assignment]
        "2x", description="CPU and memory of the Locust master task and of each worker task."
    )

    @property
    def run_seconds(self) -> int:
        return v.run_time_seconds(self.run_time)


class Alarms(Model):
    """Thresholds of an app's CloudWatch alarms; each alarm notifies the environment's SNS topic."""

    error_rate_percent: float = Field(
        5, gt=0, le=100,
        description="Target 5xx responses, and the router's own 502/503/504, as a percent of requests, per web "
        "process.",
    )
    p95_ms: int = Field(1000, ge=1, le=600_000, description="p95 target response time, per web process.")
    cpu_percent: int = Field(90, ge=1, le=100, description="Service CPU utilization, per process.")
    memory_percent: int = Field(90, ge=1, le=100, description="Service memory utilization, per process.")
    evaluation_minutes: int = Field(3, ge=1, le=60, description="Consecutive breaching minutes before an alarm fires.")


# A PostgreSQL identifier shipway writes without quoting trouble: lower case, digits and _, at most 63 bytes.
DatabaseIdentifier = Annotated[
    str, Field(max_length=63),
    _matches(v.DB_IDENTIFIER, "lower-case letters, digits and _, starting with a letter or _"),
]


class AppDatabase(Model):
    name: DatabaseIdentifier | None = Field(
        None, description="The app's own database in each environment's PostgreSQL. Default: the app's name, - as _."
    )
    role: DatabaseIdentifier | None = Field(
        None, description="The app's own login role, which owns its database. Default: the app's name, - as _."
    )


def app_database(app_name: str, app: App) -> tuple[str, str]:
    """The app's database and login role: the spec's, or the app's name as a PostgreSQL identifier."""
    default = app_name.replace("-", "_")
    return app.database.name or default, app.database.role or default


class App(Model):
    source: Source
    build: Build = Field(default_factory=Build)
    release: str | None = Field(None, min_length=1, description="A one-off command run before every deploy.")
    release_timeout: int = Field(
        30, ge=10, le=480, description="Minutes the release command may run before its stage fails."
    )
    config: dict[EnvVarName, str] = Field(default_factory=dict, description="Config vars: environment variables.")
    secrets: dict[
        EnvVarName, Annotated[str, _matches(v.SECRET_ARN, "a Secrets Manager secret or SSM parameter ARN")]
    ] = (
        Field(default_factory=dict)
    )
    processes: dict[Name, Process] = Field(min_length=1, description="One ECS service per process.")
    cron: dict[Name, CronJob] = Field(default_factory=dict, description="Scheduled one-off commands.")
    deploy: Deploy = Field(default_factory=Deploy)
    loadtest: LoadTest | None = None
    log_retention_days: LogRetention = Field(
        defaults.APP_LOG_RETENTION_DAYS, description="Days the app's logs are kept."
    )
    release_size: SizeField = Field(  # type: ignore[assignment]
        "1x", description="Size of the one-off task definition (release, run-task); cron jobs override it with theirs."
    )
    alarms: Alarms = Field(default_factory=Alarms, description="Thresholds of the app's CloudWatch alarms.")
    database: AppDatabase = Field(
        default_factory=AppDatabase, description="The app's own database and login role in every environment."
    )

    @property
    def web_processes(self) -> dict[str, Process]:
        return {name: p for name, p in self.processes.items() if p.is_web}

    @property
    def shifting_processes(self) -> list[str]:
        """The web processes whose deploys ECS shifts between two target groups (canary, linear, blue/green)."""
        return sorted(self.web_processes) if self.deploy.strategy != "rolling" else []


class Spec(Model):
    name: Name = Field(description="Prefix of every stack and physical name.")
    registry: Literal["ecr", "s3"] = Field("ecr", description="ecr, or s3: a distribution registry with S3 storage.")
    ecr_registry_scanning: bool = Field(
        False,
        description="Opt in to ECR's account-wide scanning setting: BASIC scan on push for every repository of the "
        "account and Region, ours or not. It replaces Inspector's enhanced scanning where that is on, another "
        "project's platform stack would fight over it, and deleting the stack resets it. Off: each shipway "
        "repository scans on push by itself.",
    )
    environments: dict[Name, Environment] = Field(min_length=1, description="Deployed in this order by every pipeline.")
    apps: dict[Name, App] = Field(default_factory=dict, description="Each deploys to every environment.")
