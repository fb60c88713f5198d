"""Which stacks a synth builds: all of them, or some apps' stacks with or without the platform and data stacks.

Kept apart from :mod:`shipway.app` so the review can name the selected stacks without importing aws-cdk-lib
(which starts Node).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from . import naming
from .spec import Spec


class SelectionError(ValueError):
    """A selection names an app the spec does not have."""


@dataclass(frozen=True)
class Selection:
    """Which stacks to build: the stacks of ``apps`` (``None``: every app), and the platform and data stacks of
    every environment when ``platform``.

    App stacks read their platform through SSM parameters and name no other stack's resources, so any subset
    synthesizes to the same templates as the full app; only the deploy-order dependencies on absent stacks
    are left out. Reviewing one app (``shipway diff -a APP``, ``make review APP=...``) thus costs the same in a
    fleet of 50 apps as in a fleet of one. As CDK context: ``-c apps=web,api -c platform=false``.
    """

    apps: tuple[str, ...] | None = None
    platform: bool = True

    @classmethod
    def from_context(cls, node: Any) -> Selection:
        """From the CDK context of ``node`` (an App's): ``apps`` and ``platform``."""
        apps = node.try_get_context("apps")
        platform = node.try_get_context("platform")
        if isinstance(apps, str):
            apps = [name.strip() for name in apps.split(",") if name.strip()]
        return cls(
            apps=None if apps is None else tuple(apps),
            platform=platform is None or str(platform).lower() not in ("false", "0", "no"),
        )

    def check(self, spec: Spec) -> None:
        unknown = [name for name in self.apps or () if name not in spec.apps]
        if unknown:
            raise SelectionError(f"no app named {', '.join(unknown)} in {spec.name}'s spec "
                                 f"(its apps: {', '.join(spec.apps) or 'none'})")

    def app_names(self, spec: Spec) -> list[str]:
        return list(spec.apps) if self.apps is None else [name for name in spec.apps if name in self.apps]

    def stack_names(self, spec: Spec) -> Iterator[str]:
        """The names of the stacks this selection builds from ``spec``."""
        if self.platform:
            for env in spec.environments:
                yield naming.platform_stack(spec.name, env)
                yield naming.data_stack(spec.name, env)
        for app_name in self.app_names(spec):
            yield naming.app_stack(spec.name, app_name)
            for env in spec.environments:
                yield naming.app_env_stack(spec.name, app_name, env)

    @classmethod
    def of(cls, apps: Iterable[str], *, platform: bool) -> Selection:
        """``apps`` as given on a command line: names, each possibly comma-separated."""
        return cls(apps=tuple(name for arg in apps for name in arg.split(",") if name), platform=platform)

    def context_args(self) -> list[str]:
        """The ``cdk synth`` arguments that make app.py build this selection."""
        args = [] if self.apps is None else ["-c", f"apps={','.join(self.apps)}"]
        return args if self.platform else [*args, "-c", "platform=false"]


EVERYTHING = Selection()
"""Every stack of the spec: what ``cdk synth`` builds without ``apps`` or ``platform`` context."""
