"""`shipway preflight`: what the account lacks for a spec, each with the command that creates it."""

from __future__ import annotations

import sys

import click

from . import cli


@cli.command()
@click.option("--spec", "spec_path", default="shipway.yaml", show_default=True, type=click.Path(dir_okay=False),
              help="The spec whose prerequisites to check.")
def preflight(spec_path: str) -> None:
    """Read the account with your credentials and name every missing prerequisite.

    Exit 0 when nothing is missing, 1 when something is, 2 when the spec or the account cannot be read.
    """
    from ..preflight import PreflightError
    from ..preflight import preflight as run
    from ..spec import SpecError, load_spec

    try:
        spec = load_spec(spec_path)
    except SpecError as error:
        click.echo("\n".join(error.problems), err=True)
        sys.exit(2)
    try:
        findings = run(spec)
    except PreflightError as error:
        click.echo(f"preflight: {error}", err=True)
        sys.exit(2)
    for finding in findings:
        click.echo(finding.line())
    missing = sum(1 for f in findings if f.missing)
    if missing:
        click.echo(f"preflight: {missing} prerequisite(s) missing for {spec_path}")
        sys.exit(1)
    click.echo(f"preflight: every prerequisite of {spec_path} that can be read is in place")
