"""How long what shipway generates takes to create, deploy and scale in AWS, modeled from the templates.

We cannot deploy, so every figure here is arithmetic on values read from the synthesized templates
(CloudFormation's own defaults where a property is absent) and on the assumptions in ``ASSUMED``, each
written with its reason. The figures it is compared with are in ``PUBLISHED``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from shipway import naming
from shipway.spec import Spec

from .budgets import stack_templates

# CloudFormation / ELB defaults when a target group leaves the property out.
ELB_DEFAULTS = {"interval": 30, "threshold": 5, "deregistration": 300}
ECS_DEFAULT_PERCENTS = (100, 200)  # a rolling ECS service's minimumHealthyPercent / maximumPercent

# Resources that take minutes to create (each typically 2-15 min): none may sit on an app's create path.
SLOW_TO_CREATE = {
    "AWS::EC2::VPC": "VPC",
    "AWS::EC2::NatGateway": "NAT gateway",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "load balancer",
    "AWS::ElasticLoadBalancing::LoadBalancer": "classic load balancer",
    "AWS::RDS::DBInstance": "RDS instance",
    "AWS::RDS::DBCluster": "RDS cluster",
    "AWS::ElastiCache::CacheCluster": "ElastiCache cluster",
    "AWS::ElastiCache::ReplicationGroup": "ElastiCache replication group",
    "AWS::CloudFront::Distribution": "CloudFront distribution",
    "AWS::EKS::Cluster": "EKS cluster",
    "AWS::OpenSearchService::Domain": "OpenSearch domain",
    "AWS::EC2::TransitGateway": "transit gateway",
    "AWS::AutoScaling::AutoScalingGroup": "Auto Scaling group (waits for instances)",
    "AWS::EC2::SpotFleet": "Spot Fleet",
}

# Every assumption of the model: seconds, and why.
ASSUMED = {
    "trigger": (10, "push to pipeline start: EventBridge rule on the repository or the CodeConnections webhook"),
    "build": (
        120,
        "CodeBuild with a warm registry cache: ~40 s to provision the build container, ~10 s source, "
        "~50 s docker build where only the app layer misses the cache, ~20 s push",
    ),
    "release": (75, "one-off Fargate task: ~45 s to place, pull and start, ~25 s migration, ~5 s to stop"),
    "launch": (45, "a Fargate task placed, image pulled (no image cache on Fargate) and started"),
    "boot": (10, "the app process listens after start (puma/gunicorn; longer for a cold JVM)"),
    "stop": (5, "an old task exits on SIGTERM after draining"),
    "stage": (5, "CodePipeline moving from one action to the next"),
    "alarm": (180, "target tracking's scale-out alarm: 3 one-minute datapoints above target"),
    "metric_delay": (60, "ECS/ALB metrics reach CloudWatch about a minute late"),
    "stack": (30, "CloudFormation's own work for a stack of fast resources (roles, rules, groups, alarms)"),
}

PUBLISHED = [
    ("Herogate", "create an app", "~5 min", 300),
    ("Herogate", "deploy", "~10 min", 600),
    ("minne (before)", "deploy", "25 min", 1500),
    ("minne (before)", "scale out by one instance", "10 min", 600),
    ("Kubernetes (as reported)", "roll out 20 replicas", "10 min", 600),
    ("Kubernetes (as reported)", "scale out 1 -> 20", "4 min", 240),
    ("ELB defaults", "one rolling step (30 s x 5 + 300 s)", "450 s", 450),
]

TASKS = 20


def seconds(key: str) -> int:
    return ASSUMED[key][0]


@dataclass(frozen=True)
class TargetGroup:
    stack: str
    logical_id: str
    interval: int
    threshold: int
    deregistration: int

    @property
    def wait(self) -> int:
        """Seconds one rolling step waits on the ALB: new target healthy, then old target drained."""
        return self.interval * self.threshold + self.deregistration


@dataclass(frozen=True)
class Service:
    stack: str
    logical_id: str
    minimum_healthy: int
    maximum: int
    target_group: TargetGroup | None
    strategy: str = "ROLLING"  # ECS-native DeploymentConfiguration.Strategy
    shift_minutes: float = 0  # traffic held on part of the new tasks before all of it moves (canary, linear)
    bake_minutes: float = 0  # old tasks kept after the shift, for rollback: after going live, not before

    def batches(self, tasks: int = TASKS) -> int:
        """Rolling steps to replace ``tasks`` tasks: each may start up to maximum% and must keep minimum%."""
        running = math.floor(tasks * self.maximum / 100)
        healthy = math.ceil(tasks * self.minimum_healthy / 100)
        step = running - healthy
        return math.ceil(tasks / step) if step > 0 else 0

    def step_seconds(self) -> int:
        tg = self.target_group
        health = tg.interval * tg.threshold if tg else 0
        drain = tg.deregistration if tg else 0
        return seconds("launch") + seconds("boot") + health + drain + seconds("stop")


def _load(outdir: Path) -> dict[str, dict]:
    return {name: json.loads(path.read_text()) for name, path in stack_templates(outdir).items()}


def _int(value, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number: the model cannot read an intrinsic function") from None


def target_groups(templates: dict[str, dict]) -> list[TargetGroup]:
    found = []
    for stack, template in templates.items():
        for logical_id, resource in template.get("Resources", {}).items():
            if resource["Type"] != "AWS::ElasticLoadBalancingV2::TargetGroup":
                continue
            props = resource.get("Properties", {})
            attributes = {a["Key"]: a["Value"] for a in props.get("TargetGroupAttributes", [])}
            found.append(
                TargetGroup(
                    stack,
                    logical_id,
                    _int(props.get("HealthCheckIntervalSeconds"), ELB_DEFAULTS["interval"]),
                    _int(props.get("HealthyThresholdCount"), ELB_DEFAULTS["threshold"]),
                    _int(attributes.get("deregistration_delay.timeout_seconds"), ELB_DEFAULTS["deregistration"]),
                )
            )
    return found


def services(templates: dict[str, dict], groups: list[TargetGroup]) -> list[Service]:
    by_id = {(g.stack, g.logical_id): g for g in groups}
    found = []
    for stack, template in templates.items():
        for logical_id, resource in template.get("Resources", {}).items():
            if resource["Type"] != "AWS::ECS::Service":
                continue
            props = resource.get("Properties", {})
            config = props.get("DeploymentConfiguration", {})
            group = None
            for balancer in props.get("LoadBalancers", []):
                ref = balancer.get("TargetGroupArn", {})
                if isinstance(ref, dict) and "Ref" in ref:
                    group = by_id.get((stack, ref["Ref"]))
            found.append(
                Service(
                    stack,
                    logical_id,
                    _int(config.get("MinimumHealthyPercent"), ECS_DEFAULT_PERCENTS[0]),
                    _int(config.get("MaximumPercent"), ECS_DEFAULT_PERCENTS[1]),
                    group,
                    config.get("Strategy", "ROLLING"),
                    _shift_minutes(config),
                    _int(config.get("BakeTimeInMinutes"), 0),
                )
            )
    return found


def _shift_minutes(config: dict) -> float:
    """Minutes before all traffic reaches the new tasks: a canary's bake, or every linear step's but the last."""
    canary = config.get("CanaryConfiguration")
    if config.get("Strategy") == "CANARY" and canary:
        return _int(canary.get("CanaryBakeTimeInMinutes"), 0)
    linear = config.get("LinearConfiguration")
    if config.get("Strategy") == "LINEAR" and linear:
        steps = math.ceil(100 / _int(linear.get("StepPercent"), 100))
        return (steps - 1) * _int(linear.get("StepBakeTimeInMinutes"), 0)
    return 0


def slow_on_create(spec: Spec, templates: dict[str, dict]) -> dict[str, list[str]]:
    """App -> the slow-to-create resources in its own stacks (pipeline and one per environment)."""
    result = {}
    for app in spec.apps:
        stacks = [naming.app_stack(spec.name, app)] + [
            naming.app_env_stack(spec.name, app, env) for env in spec.environments
        ]
        result[app] = sorted(
            f"{stack}/{logical_id} ({SLOW_TO_CREATE[r['Type']]})"
            for stack in stacks
            for logical_id, r in templates.get(stack, {}).get("Resources", {}).items()
            if r["Type"] in SLOW_TO_CREATE
        )
    return result


def slow_in(templates: dict[str, dict], stack: str) -> list[str]:
    return sorted({SLOW_TO_CREATE[r["Type"]] for r in templates[stack].get("Resources", {}).values()
                   if r["Type"] in SLOW_TO_CREATE})


@dataclass(frozen=True)
class Model:
    templates: dict[str, dict]
    groups: list[TargetGroup]
    services: list[Service]
    slow: dict[str, list[str]]


def model(spec: Spec, outdir: Path) -> Model:
    templates = _load(outdir)
    groups = target_groups(templates)
    return Model(templates, groups, services(templates, groups), slow_on_create(spec, templates))


def push_to_live(service: Service) -> list[tuple[str, int, str]]:
    """The critical path of one push to a rolling deploy of ``TASKS`` tasks: (step, seconds, how)."""
    steps = [
        ("trigger", seconds("trigger"), ASSUMED["trigger"][1]),
        ("build (warm cache)", seconds("build"), ASSUMED["build"][1]),
        ("release", seconds("release"), ASSUMED["release"][1]),
        ("pipeline transitions", 3 * seconds("stage"), "3 transitions x " + ASSUMED["stage"][1]),
    ]
    tg = service.target_group
    health = f"{tg.interval} s x {tg.threshold}" if tg else "no target group"
    drain = f"{tg.deregistration} s" if tg else "0 s"
    steps.append(
        (
            "deploy",
            service.batches() * service.step_seconds(),
            f"{service.batches()} batch(es) of {TASKS} tasks at {service.minimum_healthy}%/{service.maximum}% "
            f"x ({seconds('launch')} s launch + {seconds('boot')} s boot + health {health} + drain {drain} "
            f"+ {seconds('stop')} s stop)",
        )
    )
    return steps


def scale_out_seconds(service: Service, scheduled: bool) -> tuple[int, str]:
    """1 -> 20 tasks in one step (target tracking jumps proportionally; a schedule raises the minimum)."""
    tg = service.target_group
    health = tg.interval * tg.threshold if tg else 0
    start = seconds("launch") + seconds("boot") + health
    if scheduled:
        return start, f"scheduled minimum: {seconds('launch')} s launch + {seconds('boot')} s boot + {health} s health"
    reaction = seconds("metric_delay") + seconds("alarm")
    return reaction + start, (
        f"{seconds('metric_delay')} s metric delay + {seconds('alarm')} s alarm + {seconds('launch')} s launch "
        f"+ {seconds('boot')} s boot + {health} s health (Fargate; an EC2 pool short of room adds an instance boot)"
    )


def app_create_seconds(service: Service | None) -> tuple[int, str]:
    """Creating an app's runtime stack: CloudFormation's work, then the service's first tasks healthy."""
    if service is None:
        return seconds("stack"), f"{seconds('stack')} s CloudFormation, no load-balanced service"
    _, how = scale_out_seconds(service, scheduled=True)
    start, _ = scale_out_seconds(service, scheduled=True)
    return seconds("stack") + start, f"{seconds('stack')} s CloudFormation + first tasks ({how.split(': ', 1)[1]})"


def own_strategy_seconds(service: Service) -> tuple[int, str]:
    """Deploy step to all traffic on the new tasks with the service's own ECS strategy."""
    if service.strategy == "ROLLING":
        return service.batches() * service.step_seconds(), f"rolling, {service.batches()} batch(es)"
    tg = service.target_group
    health = tg.interval * tg.threshold if tg else 0
    green = seconds("launch") + seconds("boot") + health
    shift = round(service.shift_minutes * 60)
    return green + shift, (
        f"{service.strategy.lower()}: all new tasks at once ({green} s to healthy), then {shift} s of "
        f"{'canary' if service.strategy == 'CANARY' else 'linear steps' if service.strategy == 'LINEAR' else 'no'} "
        f"bake before all traffic moves; old tasks then kept {service.bake_minutes} min for rollback (off the path)"
    )
