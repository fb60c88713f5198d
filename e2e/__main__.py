"""``python -m e2e [--spec shipway.yaml]`` (``make e2e SPEC=...``): the emulated deploy of a spec, one line per
service after each step (environment, service, desired/expected tasks, image tag); exit 1 on any mismatch."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from shipway.spec import SpecError, load_spec

from .flow import emulated_deploy
from .pipeline import ActionFailed
from .stacks import DeployFailed


@click.command()
@click.option("--spec", "spec_path", default="shipway.yaml", show_default=True, type=click.Path(dir_okay=False))
def main(spec_path: str) -> None:
    try:
        spec = load_spec(spec_path)
    except SpecError as error:
        raise click.ClickException(str(error)) from None
    with tempfile.TemporaryDirectory(prefix="shipway-e2e-") as outdir:
        try:
            checks = emulated_deploy(spec, Path(outdir))
        except (DeployFailed, ActionFailed) as error:
            raise click.ClickException(str(error)) from None
    problems = []
    for check in checks:
        click.echo(f"# {check.step}")
        for service in check.services:
            click.echo(service.line())
        problems += check.problems
    for problem in problems:
        click.echo(f"e2e: {problem}", err=True)
    sys.exit(1 if problems else 0)


main()
