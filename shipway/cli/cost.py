"""`shipway cost`: what the spec costs a month, line by line, and `--refresh` of the price table."""

from __future__ import annotations

import json
from pathlib import Path

import click

from . import cli


@cli.command()
@click.option("--spec", "spec_path", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              default=Path("shipway.yaml"),
              show_default=True, help="The spec to price.")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json"]), default="table",
              show_default=True)
@click.option("--region", default=None, metavar="REGION",
              help="Prices for environments without a region in the spec (default: us-east-1).")
@click.option("--refresh", is_flag=True,
              help="First rebuild the price table from the AWS Price List API: every Region it has, and "
                   "--region's (needs credentials allowed pricing:GetProducts).")
def cost(spec_path: Path, fmt: str, region: str | None, refresh: bool) -> None:
    """The monthly cost of the spec on AWS per environment and per app, Spot savings, and Heroku beside it."""
    from ..cost import DEFAULT_REGION, estimate
    from ..cost.format import as_json, markdown, table
    from ..spec import SpecError, load_spec

    if refresh:
        _refresh(region)
    try:
        spec = load_spec(spec_path)
    except SpecError as exc:
        raise click.ClickException("\n".join(exc.problems)) from None
    result = estimate(spec, region=region or DEFAULT_REGION)
    if fmt == "json":
        click.echo(json.dumps(as_json(result), indent=1))
    else:
        click.echo(markdown(result) if fmt == "markdown" else table(result))
    for missing in dict.fromkeys(line.missing for line in result.lines if line.missing):
        click.echo(f"shipway cost: {missing}", err=True)


def _refresh(region: str | None) -> None:
    from ..catalog.refresh import RefreshError, refresh

    try:
        report = refresh(extra_region=region)
    except RefreshError as exc:
        raise click.ClickException(str(exc)) from None
    for note in report:
        click.echo(f"shipway cost --refresh: {note}", err=True)
