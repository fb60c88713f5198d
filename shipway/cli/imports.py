"""`shipway import copilot` and `shipway import heroku`: move in without starting over (docs/import.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..importers.report import ImportFailure, Report
from ..importers.writer import render, write_spec
from . import cli


@cli.group("import")
def import_group() -> None:
    """Write a shipway.yaml from an AWS Copilot workspace or a Heroku app, and report what did not carry over."""


def _output_options(command):
    command = click.option("--force", is_flag=True, help="Overwrite an existing output file.")(command)
    command = click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
                           help="Also write the report as markdown to this file.")(command)
    command = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                           default=Path("shipway.yaml"), show_default=True, help="The spec to write.")(command)
    command = click.option("--account", help="Account of the ARNs the import has to build (secrets, connection).")(
        command)
    command = click.option("--region", help="Region of the ARNs the import has to build (secrets, connection).")(
        command)
    return command


def _finish(spec: dict, comments: dict, report: Report, header: list[str], output: Path, report_file: Path | None,
            force: bool) -> None:
    if output.exists() and not force:
        _fail([f"{output}: already exists; pass --force to overwrite it, or -o another path"])
    problems = write_spec(render(spec, comments, header), output)
    click.echo(report.text())
    if report_file is not None:
        report_file.write_text(report.markdown() + "\n", encoding="utf-8")
        click.echo(f"report: {report_file}")
    if problems:
        _fail([f"{output} is written but does not validate yet:", *(f"  {p}" for p in problems)])
    click.echo(f"wrote {output}: it validates; review it, then `make synth SPEC={output}`")


def _fail(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(1)


@import_group.command("copilot")
@click.argument("workspace", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@_output_options
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, path_type=Path), is_flag=False,
              flag_value=Path("cutover.md"), default=None,
              help="With AWS credentials: read the deployed Copilot stacks and write the cutover plan "
                   "(default cutover.md; docs/migrate-from-copilot.md).")
def import_copilot_command(workspace: Path, output: Path, report_file: Path | None, force: bool,
                           region: str | None, account: str | None, plan_file: Path | None) -> None:
    """Import the Copilot workspace in WORKSPACE (the directory holding copilot/)."""
    from ..importers.copilot import import_copilot

    try:
        result = import_copilot(workspace, region=region, account=account)
    except ImportFailure as exc:
        _fail([f"shipway import copilot: {len(exc.problems)} problem(s):", *(f"  {p}" for p in exc.problems)])
    header = [f"shipway.yaml imported from the Copilot application {result.application!r} by `shipway import "
              "copilot`.", "Every Copilot field it could not carry over is in the report; comments mark values to "
              "check."]
    _finish(result.spec, result.comments, result.report, header, output, report_file, force)
    if plan_file is not None:
        from ..importers.copilot_plan import PlanError, write_plan

        try:
            written = write_plan(result, plan_file, region=region)
        except PlanError as exc:
            _fail([f"shipway import copilot --plan: {exc}"])
        click.echo(f"cutover plan: {plan_file} ({', '.join(str(p) for p in written)})")


@import_group.command("heroku")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@_output_options
@click.option("--name", help="The spec's name (default: app.json's name).")
@click.option("--environment", default="production", show_default=True, help="The environment to create.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="`heroku config --json` saved to a file.")
@click.option("--ps", "ps_file", type=click.Path(dir_okay=False, path_type=Path),
              help="`heroku ps --json` saved to a file.")
@click.option("--host", "hosts", multiple=True, help="A domain routed to the web process (repeatable).")
@click.option("--scheduler", "scheduler_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Heroku Scheduler jobs as JSON (docs/import.md gives the shape).")
def import_heroku_command(directory: Path, output: Path, report_file: Path | None, force: bool, region: str | None,
                          account: str | None, name: str | None, environment: str, config_file: Path | None,
                          ps_file: Path | None, scheduler_file: Path | None, hosts: tuple[str, ...]) -> None:
    """Import the Heroku app whose app.json and Procfile are in DIRECTORY."""
    from ..importers.heroku import import_heroku

    try:
        result = import_heroku(directory, name=name, environment=environment, config=config_file, ps=ps_file,
                               scheduler=scheduler_file, region=region, account=account, hosts=hosts)
    except ImportFailure as exc:
        _fail([f"shipway import heroku: {len(exc.problems)} problem(s):", *(f"  {p}" for p in exc.problems)])
    header = [f"shipway.yaml imported from the Heroku app {result.application!r} by `shipway import heroku`.",
              "Secrets are placeholders: create each one and put its ARN in place before deploying."]
    _finish(result.spec, result.comments, result.report, header, output, report_file, force)
