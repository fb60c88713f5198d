"""Every physical name and SSM parameter path shipway derives, in one place.

The platform writes SSM parameters under ``parameter_prefix``; app stacks read the same paths. Keeping
both sides on these functions is what lets an app stack be added or removed without touching the platform.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .spec.model import Spec


def platform_stack(name: str, env: str) -> str:
    return f"{name}-{env}-platform"


def data_stack(name: str, env: str) -> str:
    return f"{name}-{env}-data"


def app_stack(name: str, app: str) -> str:
    return f"{name}-{app}"


def app_env_stack(name: str, app: str, env: str) -> str:
    return f"{name}-{app}-{env}"


def stack_names_with_paths(spec: Spec) -> Iterator[tuple[tuple[str, ...], str]]:
    """Each stack the spec yields, with the spec path that gives rise to it."""
    for env in spec.environments:
        yield ("environments", env), platform_stack(spec.name, env)
        yield ("environments", env), data_stack(spec.name, env)
    for app in spec.apps:
        yield ("apps", app), app_stack(spec.name, app)
        for env in spec.environments:
            yield ("apps", app), app_env_stack(spec.name, app, env)


def load_balancer_name(name: str, env: str) -> str:
    return f"{name}-{env}"


def database_identifier(name: str, env: str) -> str:
    return f"{name}-{env}"


def cluster_name(name: str, env: str) -> str:
    return f"{name}-{env}"


def capacity_provider_name(name: str, env: str, pool: str) -> str:
    return f"{name}-{env}-{pool}"


def parameter_prefix(name: str, env: str) -> str:
    """SSM path under which the platform and data stacks publish what apps read."""
    return f"/shipway/{name}/{env}"


def parameter(name: str, env: str, key: str) -> str:
    return f"{parameter_prefix(name, env)}/{key}"


class Param:
    """Keys of the SSM parameters under ``parameter_prefix``: the platform's published interface."""

    VPC_ID = "vpc/id"
    PRIVATE_SUBNETS = "vpc/private-subnets"
    ISOLATED_SUBNETS = "vpc/isolated-subnets"
    APP_SECURITY_GROUP = "apps/security-group-id"


def image_repository(name: str, app: str) -> str:
    return f"{name}/{app}"


def log_group(name: str, app: str, env: str) -> str:
    return f"/shipway/{name}/{app}/{env}"
