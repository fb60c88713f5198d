"""``apps``, ``info``, ``open``, ``apps:create``, ``apps:destroy``: the apps of a spec and where they run.

``apps:create`` writes a new app into the spec; its stacks are CloudFormation's to create, so unless
``--no-apply`` it runs ``cdk deploy`` of exactly them. ``apps:destroy`` first asks the review guard
(shipway.review) what removing the app does to stateful resources, prints what is kept, refuses when anything
would be destroyed, then removes the app from the spec and (unless ``--no-apply``) deletes its stacks, runtime
stacks first: the retained resources (repositories, log groups, buckets, keys) stay in the account.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import click

from .. import naming
from ..spec.vocabulary import SIZES
from . import aws, cli, runtime
from .context import Target, app_env_options, no_apply_option, read_spec, spec_option
from .errors import FAILED, CliError, NotFound
from .progress import Progress
from .spec_edit import SpecDocument


def stack_status(spec, env: str, stack: str) -> str:
    cloudformation = aws.client(spec, env, "cloudformation")
    try:
        return cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except cloudformation.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            return "NOT_DEPLOYED"
        raise


@cli.command("apps")
@spec_option
def apps(spec_path):
    """The spec's apps, with each environment's stack status and deployed image tag."""
    spec = read_spec(spec_path)
    click.echo(f"=== {spec.name} apps")
    if not spec.apps:
        click.echo("(none: add one with shipway apps:create NAME)")
        return
    rows = [("APP", "ENV", "STACK", "STATUS", "IMAGE TAG")]
    for app in spec.apps:
        for env in spec.environments:
            target = Target(spec_path, spec, app, env)
            stack = naming.app_env_stack(spec.name, app, env)
            tag = runtime.image_tag(target)
            rows.append((app, env, stack, stack_status(spec, env, stack), _short(tag) if tag else "-"))
    _table(rows)


def _short(tag: str) -> str:
    return tag[:12] if len(tag) == 40 else tag


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@cli.command("info")
@app_env_options
def info(spec_path, app, env):
    """The app in one environment: stacks, hosts, router, egress IPs, image, processes, pipeline, logs."""
    target = Target.of(spec_path, app, env)
    spec = target.spec
    stacks = [naming.platform_stack(spec.name, target.env), naming.data_stack(spec.name, target.env),
              naming.app_stack(spec.name, target.app), naming.app_env_stack(spec.name, target.app, target.env)]
    tag = runtime.image_tag(target)
    lines = [("Stacks", ", ".join(f"{s} ({stack_status(spec, target.env, s)})" for s in stacks)),
             ("Web URLs", ", ".join(web_urls(target)) or "-"),
             ("Router", runtime.platform_parameter(target, naming.Param.ROUTER_DNS_NAME) or "-"),
             ("Egress IPs", ", ".join(egress_ips(target)) or "-"),
             ("Image", f"{_repository_uri(target)}:{tag}" if tag and tag != naming.NO_IMAGE_TAG else "none yet"),
             ("Deployed", ", ".join(f"{e} {_short(runtime.image_tag(target.in_env(e)) or '-')}"
                                    for e in spec.environments)),
             ("Processes", ", ".join(_describe_process(n, p) for n, p in target.app_spec.processes.items())),
             ("Pipeline", naming.pipeline_name(spec.name, target.app)),
             ("Logs", naming.log_group(spec.name, target.app, target.env))]
    click.echo(f"=== {target.app} in {target.env}")
    width = max(len(k) for k, _ in lines) + 1
    for key, value in lines:
        click.echo(f"{key + ':':<{width}} {value}")


def _describe_process(name: str, process) -> str:
    size = next((k for k, v in SIZES.items() if v == (process.size.cpu, process.size.memory)), "custom")
    scale = (f"autoscale {process.autoscale.min}..{process.autoscale.max}" if process.autoscale
             else f"x{process.count}")
    return f"{name} ({size}, {scale}, {process.capacity})"


def _hosts(values: tuple[str, ...], environments: list[str]) -> list[str] | dict[str, list[str]]:
    """``--host`` values as the spec takes them: one list for a one-environment spec, else per environment."""
    per_env: dict[str, list[str]] = {}
    for value in values:
        env, _, host = value.rpartition("=")
        if not env and len(environments) == 1:
            env = environments[0]
        if env not in environments:
            raise click.UsageError(f"--host {value}: give ENV=HOST with ENV one of {', '.join(environments)}: a host "
                                   "name leads to one environment's router")
        per_env.setdefault(env, []).append(host)
    if len(environments) == 1:
        return per_env[environments[0]]
    return {env: per_env[env] for env in environments if env in per_env}


def web_urls(target: Target) -> list[str]:
    scheme = "https" if target.spec.environments[target.env].router.certificate_arn else "http"
    return [f"{scheme}://{host}" for p in target.app_spec.web_processes.values() for host in p.hosts_in(target.env)]


def egress_ips(target: Target) -> list[str]:
    """The Elastic IPs of the environment's NAT gateways: the addresses the app's requests leave from."""
    vpc = runtime.platform_parameter(target, naming.Param.VPC_ID)
    if vpc is None:
        return []
    ec2 = aws.client(target.spec, target.env, "ec2")
    gateways = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                  {"Name": "state", "Values": ["available", "pending"]}])
    return sorted(a["PublicIp"] for g in gateways["NatGateways"] for a in g.get("NatGatewayAddresses", [])
                  if a.get("PublicIp"))


def _repository_uri(target: Target) -> str:
    account = aws.client(target.spec, target.env, "sts").get_caller_identity()["Account"]
    region = aws.client(target.spec, target.env, "ecr").meta.region_name
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{naming.image_repository(target.name, target.app)}"


@cli.command("open")
@app_env_options
@click.option("--print-url", is_flag=True, help="Print the URL instead of opening a browser.")
def open_(spec_path, app, env, print_url):
    """Open the app's first host (or the environment's router) in a browser."""
    target = Target.of(spec_path, app, env)
    urls = web_urls(target)
    if urls:
        url = urls[0]
    else:
        router = runtime.platform_parameter(target, naming.Param.ROUTER_DNS_NAME)
        if router is None:
            raise NotFound(f"{target.app} has no hosts and {target.env}'s platform is not deployed")
        url = f"http://{router}"
    click.echo(url)
    if not print_url:
        click.launch(url)


# --- apps:create -------------------------------------------------------------------------------------


@cli.command("apps:create")
@click.argument("name")
@spec_option
@click.option("--codecommit", metavar="REPOSITORY", help="CodeCommit repository (default: NAME).")
@click.option("--connection-arn", help="A CodeConnections connection (GitHub, GitLab, Bitbucket) instead.")
@click.option("--repository", metavar="OWNER/NAME", help="The repository behind --connection-arn.")
@click.option("--branch", default="main", show_default=True, help="Pushes to it deploy.")
@click.option("--buildpacks", metavar="BUILDER", help="Build with Cloud Native Buildpacks (default: Dockerfile).")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="The web process's port.")
@click.option("--host", "hosts", multiple=True, metavar="[ENV=]HOST",
              help="A host name routed to the web process in ENV (repeatable); ENV= may be left out when the spec "
              "has one environment.")
@no_apply_option
def apps_create(name, spec_path, codecommit, connection_arn, repository, branch, buildpacks, port, hosts, no_apply):
    """Add an app with one web process; unless --no-apply, cdk deploy creates its stacks."""
    progress = Progress()
    document = SpecDocument(spec_path)
    spec = document.spec
    if name in spec.apps:
        raise CliError(f"the spec already has an app {name!r}", 2)
    if connection_arn:
        source = {"connection_arn": connection_arn, "repository": repository, "branch": branch}
    else:
        source = {"codecommit": codecommit or name, "branch": branch}
    web = {"port": port}
    if hosts:
        web["hosts"] = _hosts(hosts, list(spec.environments))
    app = {"source": source, "build": {"buildpacks": buildpacks} if buildpacks else {"dockerfile": "Dockerfile"},
           "processes": {"web": web}}
    document.set(("apps",), name, _block(app))
    spec = document.save()
    stacks = [naming.app_stack(spec.name, name)] + [naming.app_env_stack(spec.name, name, e) for e in spec.environments]
    if no_apply:
        progress.done(f"Created app {name} in {spec_path} (not applied: cdk deploy {' '.join(stacks)} creates it)")
        return
    cdk_deploy(spec_path, stacks, progress)
    progress.done(f"Created app {name}: stacks {', '.join(stacks)}")


def _block(value):
    """A new mapping as block style, nested mappings too: the spec's own shape."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict):
        block = CommentedMap()
        for k, v in value.items():
            block[k] = _block(v)
        return block
    if isinstance(value, list):
        seq = CommentedSeq(value)
        seq.fa.set_flow_style()
        return seq
    return value


def cdk_deploy(spec_path: Path, stacks: list[str], progress: Progress) -> None:
    from .cdk import ROOT, cdk_command, cdk_environment

    # --exclusively: the platform and data stacks the app's stacks depend on are not redeployed by this verb
    command = cdk_command("deploy", "-c", f"spec={spec_path.resolve()}", "--require-approval", "never",
                          "--exclusively", *stacks)
    progress.note(f"  running {' '.join(command)}")
    # cdk.json (the app's entry point and feature flags) lives in the checkout
    if subprocess.run(command, cwd=ROOT, env=cdk_environment(), check=False).returncode != 0:
        raise CliError(f"cdk deploy of {', '.join(stacks)} failed (its output is above); {spec_path} keeps the "
                       f"app: fix the cause, then cdk deploy --exclusively {' '.join(stacks)}", FAILED)


# --- apps:destroy ------------------------------------------------------------------------------------


@cli.command("apps:destroy")
@click.argument("name")
@spec_option
@click.option("--confirm", metavar="NAME", help="The app's name again: destroying is not undone.")
@no_apply_option
def apps_destroy(name, spec_path, confirm, no_apply):
    """Remove an app and delete its stacks; its data (repositories, logs, buckets, keys) is kept and listed."""
    progress = Progress()
    document = SpecDocument(spec_path)
    spec = document.spec
    if name not in spec.apps:
        raise NotFound(f"unknown app {name!r}; the spec has: {', '.join(spec.apps) or 'no apps'}")
    if confirm != name:
        raise CliError(f"apps:destroy deletes {name}'s stacks: run it again with --confirm {name}", 2)
    document.delete(("apps",), name)
    kept, lost = _review_removal(spec_path, document, progress)
    for line in kept:
        progress.note(f"  kept: {line}")
    if lost:
        raise CliError(f"removing {name} would destroy data ({'; '.join(lost)}); nothing was changed", FAILED)
    after = document.save()
    stacks = [naming.app_env_stack(spec.name, name, e) for e in spec.environments] + [naming.app_stack(spec.name, name)]
    if no_apply:
        progress.done(f"Removed app {name} from {spec_path} (not applied: its stacks {', '.join(stacks)} remain)")
        return
    first = next(iter(after.environments))
    cloudformation = aws.client(after, first, "cloudformation")
    for stack in stacks:  # the runtime stacks depend on the pipeline stack: delete them first
        if stack_status(after, first, stack) == "NOT_DEPLOYED":
            continue
        progress.step(f"deleting {stack}")
        cloudformation.delete_stack(StackName=stack)
        _wait_deleted(cloudformation, stack, progress)
    progress.done(f"Destroyed app {name}: deleted {', '.join(stacks)}; kept {len(kept)} resource(s) with data")


def _wait_deleted(cloudformation, stack: str, progress: Progress, timeout: int = 3600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        except cloudformation.exceptions.ClientError as exc:
            if "does not exist" in str(exc):
                return
            raise
        if status == "DELETE_COMPLETE":
            return
        if status.endswith("_FAILED") or time.monotonic() > deadline:
            raise CliError(f"deleting {stack} ended in {status}; see its events in the CloudFormation console")
        progress.step(f"deleting {stack} ({status})")
        time.sleep(5)


def _physical_name(properties: dict) -> str | None:
    """The name a resource is given in its template (LogGroupName, RepositoryName, ...), when it is plain text."""
    for key, value in properties.items():
        if key.endswith("Name") and isinstance(value, str):
            return value
    return None


def _review_removal(spec_path: Path, document: SpecDocument, progress: Progress) -> tuple[list[str], list[str]]:
    """What the review guard says removing the app does: (kept resources, data-losing changes)."""
    from ..assembly import read_assembly
    from ..review import review
    from ..spec import parse_spec
    from ..synth import synthesize

    with tempfile.TemporaryDirectory(prefix="shipway-destroy-") as tmp:
        progress.step("synthesizing the spec with and without the app (the review guard's view)")
        before = synthesize(document.spec, Path(tmp) / "before").outdir
        after = synthesize(parse_spec(document.render(), str(spec_path)), Path(tmp) / "after").outdir
        base = read_assembly(before)
        result = review(base, read_assembly(after), [])
    kept, lost = [], []
    for stack in result.stacks:
        for change in stack.changes:
            if not change.stateful:
                continue
            resource = base[stack.name].template["Resources"].get(change.logical_id, {}) if stack.name in base else {}
            name = _physical_name(resource.get("Properties", {}))
            where = f"{change.resource_type} {name + ' ' if name else ''}({stack.name} {change.logical_id})"
            if change.loss == "orphaned":
                kept.append(where)
            elif change.loss is not None:
                lost.append(f"{where} {change.loss}")
    return kept, lost
