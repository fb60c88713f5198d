"""`shipway`: the command line for day two, in Heroku's words (docs/cli.md).

The root group lives here; each family of verbs lives in a module of its own beside this one and adds its
commands to :data:`cli` in :func:`_register`. The CDK app never imports this package.
"""

from __future__ import annotations

import click

from .errors import ShipwayGroup


@click.group(
    cls=ShipwayGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit codes: 0 done, 1 failed, 2 usage, 3 spec, 4 credentials or region, 5 not found, 130 interrupted; "
    "run exits with its command's code (docs/cli.md).",
)
@click.version_option(package_name="shipway", prog_name="shipway")
def cli() -> None:
    """shipway: one shipway.yaml in, a git-push PaaS on AWS out."""


def _register() -> None:
    """Import every verb module; each adds its commands to ``cli``."""
    from . import apps, cdk, config, cost, imports, logs, preflight, ps, releases, run  # noqa: F401


_register()


def main() -> None:
    cli(prog_name="shipway")
