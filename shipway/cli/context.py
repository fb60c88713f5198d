"""What every verb resolves first: the spec, the app (``-a/--app``), the environment (``-e/--env``), a process.

Heroku's flags: ``-a/--app`` names the app (optional when the spec has one app; ``SHIPWAY_APP`` also works),
``-e/--env`` the environment (``SHIPWAY_ENV``; default: the first one in ``environments:``, the first a push
reaches). ``--spec`` (``SHIPWAY_SPEC``) picks another file than ``./shipway.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from .. import naming
from ..spec import App, Process, Spec, load_spec
from .errors import SPEC, CliError, NotFound

spec_option = click.option(
    "--spec", "spec_path", type=click.Path(dir_okay=False, path_type=Path), default=Path("shipway.yaml"),
    envvar="SHIPWAY_SPEC", show_default=True, help="The spec file.",
)
app_option = click.option("-a", "--app", envvar="SHIPWAY_APP", help="The app (optional when the spec has one).")
env_option = click.option(
    "-e", "--env", envvar="SHIPWAY_ENV", help="The environment (default: the first in environments:)."
)
no_apply_option = click.option(
    "--no-apply", is_flag=True, help="Only edit shipway.yaml; the next cdk deploy applies it."
)


def app_env_options(f: Callable) -> Callable:
    return spec_option(app_option(env_option(f)))


def read_spec(path: Path) -> Spec:
    if not path.exists():
        raise CliError(f"{path}: no such file; pass another with --spec PATH (or set SHIPWAY_SPEC)", SPEC)
    return load_spec(path)


def resolve_app(spec: Spec, app: str | None) -> str:
    if app is None:
        if len(spec.apps) == 1:
            return next(iter(spec.apps))
        if not spec.apps:
            raise NotFound("the spec has no apps; add one with shipway apps:create NAME")
        raise CliError(f"name the app with -a/--app (one of: {', '.join(spec.apps)})", 2)
    if app not in spec.apps:
        raise NotFound(f"unknown app {app!r}; the spec has: {', '.join(spec.apps) or 'no apps'}")
    return app


def resolve_env(spec: Spec, env: str | None) -> str:
    if env is None:
        return next(iter(spec.environments))
    if env not in spec.environments:
        raise NotFound(f"unknown environment {env!r}; the spec has: {', '.join(spec.environments)}")
    return env


@dataclass(frozen=True)
class Target:
    """One app of a spec, optionally in one environment."""

    spec_path: Path
    spec: Spec
    app: str
    env: str

    @classmethod
    def of(cls, spec_path: Path, app: str | None, env: str | None, *, spec: Spec | None = None) -> Target:
        spec = spec or read_spec(spec_path)
        return cls(spec_path, spec, resolve_app(spec, app), resolve_env(spec, env))

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def app_spec(self) -> App:
        return self.spec.apps[self.app]

    @property
    def cluster(self) -> str:
        return naming.cluster_name(self.name, self.env)

    def in_env(self, env: str) -> Target:
        return Target(self.spec_path, self.spec, self.app, env)

    def process(self, name: str) -> Process:
        try:
            return self.app_spec.processes[name]
        except KeyError:
            raise NotFound(
                f"unknown process {name!r} of {self.app}; it has: {', '.join(self.app_spec.processes)}"
            ) from None

    def service(self, process: str) -> str:
        return naming.service_name(self.app, process)

    def family(self, role: str) -> str:
        return naming.task_family(self.name, self.app, self.env, role)
