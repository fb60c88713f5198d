"""The spec of one environment, as the keyword props of the platform constructs."""

from __future__ import annotations

from typing import TypedDict

from aws_cdk import aws_logs as logs

from .. import naming
from ..constructs.retention import retention
from ..spec import Spec


class PlatformImportsProps(TypedDict):
    """The keyword props of ``PlatformImports`` (``platform_imports``)."""

    project: str
    env: str
    max_azs: int


def platform_imports(spec: Spec, env: str) -> PlatformImportsProps:
    """What names ``env``'s SSM parameters, and how many subnets of each kind its VPC has."""
    return PlatformImportsProps(project=spec.name, env=env, max_azs=spec.environments[env].network.max_azs)


def holds_ecr_settings(spec: Spec, env: str) -> bool:
    """Whether ``env``'s platform stack holds ECR's account-wide settings (``EcrScanOnPush``): only when the spec
    opts in (``ecr_registry_scanning``), and then the first environment of its account and Region does
    (environment-agnostic environments count as one account and Region)."""
    def where(name: str) -> tuple[str | None, str | None]:
        return spec.environments[name].account, spec.environments[name].region

    home = next(name for name in spec.environments if where(name) == where(env))
    return spec.registry == "ecr" and spec.ecr_registry_scanning and home == env


class RouterProps(TypedDict):
    """The keyword props of ``Router`` that the spec decides (``router``)."""

    load_balancer_name: str
    certificate_arn: str | None
    idle_timeout: int
    access_log_days: int


def router(spec: Spec, env: str) -> RouterProps:
    """``env``'s shared ALB: its name and the environment's ``router`` settings."""
    settings = spec.environments[env].router
    return RouterProps(
        load_balancer_name=naming.load_balancer_name(spec.name, env),
        certificate_arn=settings.certificate_arn,
        idle_timeout=settings.idle_timeout,
        access_log_days=settings.access_log_days,
    )


class NetworkProps(TypedDict):
    """The keyword props of ``Network`` (``network``)."""

    max_azs: int
    nat_gateways: int
    planned_azs: int
    flow_log_retention: logs.RetentionDays


def network(spec: Spec, env: str) -> NetworkProps:
    """``env``'s VPC: its ``network`` settings, flow logs kept as long as the environment's logs."""
    environment = spec.environments[env]
    return NetworkProps(
        max_azs=environment.network.max_azs,
        nat_gateways=environment.network.nat_gateways,
        planned_azs=environment.network.planned_azs,
        flow_log_retention=retention(environment.log_retention_days),
    )


class ClusterProps(TypedDict):
    """The keyword props of ``Cluster`` that the spec decides (``cluster``)."""

    cluster_name: str
    fargate: bool
    fargate_spot: bool
    log_retention: logs.RetentionDays


def cluster(spec: Spec, env: str) -> ClusterProps:
    """``env``'s ECS cluster: its fixed name and its Fargate capacity providers."""
    environment = spec.environments[env]
    return ClusterProps(
        cluster_name=naming.cluster_name(spec.name, env),
        fargate=environment.cluster.fargate,
        fargate_spot=environment.cluster.fargate_spot,
        log_retention=retention(environment.log_retention_days),
    )
