"""The spec of one environment, as the keyword props of the platform constructs."""

from __future__ import annotations

from typing import TypedDict

from ..spec import Spec


class PlatformImportsProps(TypedDict):
    """The keyword props of ``PlatformImports`` (``platform_imports``)."""

    project: str
    env: str
    max_azs: int


def platform_imports(spec: Spec, env: str) -> PlatformImportsProps:
    """What names ``env``'s SSM parameters, and how many subnets of each kind its VPC has."""
    return PlatformImportsProps(project=spec.name, env=env, max_azs=spec.environments[env].network.max_azs)
