"""``config``, ``config:get``, ``config:set``, ``config:unset``: the app's config vars and secrets.

Plain values live in ``apps.<app>.config``. ``config:set --secret KEY=VALUE`` stores the value in Secrets
Manager (``shipway/<name>/<app>/<KEY>``), or updates the secret or SSM parameter ``secrets.KEY`` already
names, and writes only the ARN into ``apps.<app>.secrets``: the value is never in the spec, a template, an
argument to another process or the output. Unless ``--no-apply``, every deployed environment's services
and one-off task definition get a new revision with the change, which the next ``cdk deploy`` registers
again from the edited spec.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex

import click

from . import aws, cli, runtime
from .context import Target, app_env_options, app_option, no_apply_option, spec_option
from .errors import CliError, NotFound
from .progress import Progress
from .ps import wait_for_services, wait_options
from .spec_edit import SpecDocument

# A well-formed secret ARN that stands in for the real one while the edit is checked.
_STAND_IN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:shipway-stand-in-000000"
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


def secret_name(name: str, app: str, key: str) -> str:
    """Secrets Manager name of a secret ``config:set --secret`` creates."""
    return f"shipway/{name}/{app}/{key}"


def _exec_policy_name(key: str) -> str:
    """Inline policy that lets the execution role read a new secret until the next cdk deploy grants it."""
    return f"shipway-cli-secret-{key}"


def _parse(pairs: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        match = _ASSIGNMENT.match(pair)
        if match is None:
            raise click.UsageError(f"{pair.split('=', 1)[0]!r}: expected KEY=VALUE (KEY: letters, digits, _)")
        values[match[1]] = match[2]
    return values


@cli.command("config")
@spec_option
@app_option
@click.option("-s", "--shell", is_flag=True, help="KEY=VALUE lines, for a shell or a .env file.")
@click.option("--json", "as_json", is_flag=True, help="A JSON object.")
def config(spec_path, app, shell, as_json):
    """Show the app's config vars; secrets show the ARN they come from, never a value."""
    target = Target.of(spec_path, app, None)
    values = dict(target.app_spec.config)
    secrets = {k: f"(secret) {arn}" for k, arn in target.app_spec.secrets.items()}
    if as_json:
        click.echo(json.dumps({"config": values, "secrets": dict(target.app_spec.secrets)}, indent=2))
        return
    rows = {**values, **secrets}
    if shell:
        for key, value in values.items():
            click.echo(f"{key}={shlex.quote(value)}")
        return
    click.echo(f"=== {target.app} Config Vars")
    width = max((len(k) for k in rows), default=0) + 1
    for key in sorted(rows):
        click.echo(f"{key + ':':<{width}} {rows[key]}")


@cli.command("config:get")
@click.argument("key")
@app_env_options
def config_get(key, spec_path, app, env):
    """Print one config var's value; a secret's value is read from AWS (-e picks the region's environment)."""
    target = Target.of(spec_path, app, env)
    if key in target.app_spec.config:
        click.echo(target.app_spec.config[key])
        return
    arn = target.app_spec.secrets.get(key)
    if arn is None:
        raise NotFound(f"{target.app} has no config var {key!r}")
    if ":ssm:" in arn:
        ssm = aws.client(target.spec, target.env, "ssm")
        value = ssm.get_parameter(Name=_parameter_name(arn), WithDecryption=True)["Parameter"]["Value"]
    else:
        value = aws.client(target.spec, target.env, "secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    click.echo(value)


def _parameter_name(arn: str) -> str:
    return "/" + arn.split(":parameter/", 1)[1]


@cli.command("config:set")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@app_option
@spec_option
@click.option("--secret", is_flag=True, help="Store the values in Secrets Manager; the spec gets only their ARN.")
@no_apply_option
@wait_options
def config_set(assignments, app, spec_path, secret, no_apply, wait, timeout):
    """Set config vars (or, with --secret, secrets) and roll them out to the deployed environments."""
    values = _parse(assignments)
    progress = Progress()
    document = SpecDocument(spec_path)
    target = Target.of(spec_path, app, None, spec=document.spec)
    path = ("apps", target.app)
    app_spec = target.app_spec
    if secret:
        # Check the edit with stand-in ARNs before any value is stored: a refused key stores nothing.
        for key in values:
            document.delete((*path, "config"), key)
            document.set((*path, "secrets"), key, app_spec.secrets.get(key, _STAND_IN), before=("processes",))
        document.validate()
        for key, arn in _store_secrets(target, values, progress).items():
            document.set((*path, "secrets"), key, arn)
    else:
        clash = sorted(set(values) & set(app_spec.secrets))
        if clash:
            raise CliError(f"{', '.join(clash)} is a secret of {target.app}: set it with --secret, or config:unset "
                           "it first", 2)
        for key, value in values.items():
            document.set((*path, "config"), key, value, before=("secrets", "processes"))
    old_secrets = dict(app_spec.secrets)
    spec = document.save()
    target = Target(spec_path, spec, target.app, target.env)
    keys = ", ".join(values)
    if no_apply:
        progress.done(f"Set {keys} in {spec_path} (not applied: the next cdk deploy applies it)")
        return
    if secret:
        new = {k: a for k, a in spec.apps[target.app].secrets.items() if k in values}
        _grant_new_secrets(target, {k: a for k, a in new.items() if old_secrets.get(k) != a}, progress)

        def change(request):
            container = runtime.app_container(request)
            others = [s for s in container.get("secrets", []) if s["name"] not in new]
            container["secrets"] = others + [{"name": k, "valueFrom": a} for k, a in sorted(new.items())]
            # a plain config var of the same name is now a secret
            container["environment"] = [e for e in container.get("environment", []) if e["name"] not in new]
    else:
        def change(request):
            container = runtime.app_container(request)
            others = [e for e in container.get("environment", []) if e["name"] not in values]
            container["environment"] = others + [{"name": k, "value": v} for k, v in values.items()]
    envs = runtime.roll_out(target, change, progress)
    _wait(target, envs, wait, timeout, progress)
    progress.done(f"Set {keys} on {target.app} and restarted it in {_listing(envs)}")


def _wait(target: Target, envs: list[str], wait: bool, timeout: int, progress: Progress) -> None:
    if wait:
        for env in envs:
            wait_for_services(target.in_env(env), list(target.app_spec.processes), progress, timeout)


def _listing(envs: list[str]) -> str:
    return ", ".join(envs) if envs else "no environment (none is deployed)"


def _store_secrets(target: Target, values: dict[str, str], progress: Progress) -> dict[str, str]:
    """Write each value where ``secrets.KEY`` points, or into a new Secrets Manager secret; returns the ARNs."""
    env = next(iter(target.spec.environments))  # every environment of an app shares one account and region
    secretsmanager = aws.client(target.spec, env, "secretsmanager")
    arns = {}
    for key, value in values.items():
        arn = target.app_spec.secrets.get(key)
        if arn is not None and ":ssm:" in arn:
            progress.step(f"writing SSM parameter {_parameter_name(arn)}")
            aws.client(target.spec, env, "ssm").put_parameter(Name=_parameter_name(arn), Value=value, Overwrite=True)
        elif arn is not None:
            progress.step(f"writing a new version of {arn}")
            secretsmanager.put_secret_value(SecretId=arn, SecretString=value)
        else:
            name = secret_name(target.name, target.app, key)
            progress.step(f"storing Secrets Manager secret {name}")
            try:
                arn = secretsmanager.create_secret(
                    Name=name, SecretString=value,
                    Description=f"shipway {target.name} {target.app}: {key} (shipway config:set --secret)",
                    Tags=[{"Key": "shipway:project", "Value": target.name}],
                )["ARN"]
            except secretsmanager.exceptions.ResourceExistsException:
                arn = secretsmanager.put_secret_value(SecretId=name, SecretString=value)["ARN"]
        arns[key] = arn
    return arns


def _grant_new_secrets(target: Target, new: dict[str, str], progress: Progress) -> None:
    """Let each environment's execution role read a secret the template does not grant yet.

    The role's policy in the template names exactly the spec's secrets, so a new one is granted by the next
    ``cdk deploy``; until then tasks could not start without this inline policy (docs/cli.md says it stays).
    """
    for env in target.spec.environments:
        here = target.in_env(env)
        release = runtime.latest_task_definition(here, here.family("release"))
        if release is None:
            continue
        role = runtime.describe(here, release)[0].get("executionRoleArn")
        if not role:
            continue
        iam = aws.client(target.spec, env, "iam")
        for key, arn in new.items():
            progress.step(f"{env}: letting {role.rsplit('/', 1)[-1]} read {key}")
            action = "ssm:GetParameters" if ":ssm:" in arn else "secretsmanager:GetSecretValue"
            iam.put_role_policy(
                RoleName=role.rsplit("/", 1)[-1], PolicyName=_exec_policy_name(key),
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": action, "Resource": arn}]}),
            )


@cli.command("config:unset")
@click.argument("keys", nargs=-1, required=True, metavar="KEY...")
@app_option
@spec_option
@no_apply_option
@wait_options
def config_unset(keys, app, spec_path, no_apply, wait, timeout):
    """Remove config vars or secrets (a secret's value stays in Secrets Manager or SSM)."""
    progress = Progress()
    document = SpecDocument(spec_path)
    target = Target.of(spec_path, app, None, spec=document.spec)
    path = ("apps", target.app)
    kept = {}
    for key in keys:
        if key in target.app_spec.secrets:
            kept[key] = target.app_spec.secrets[key]
            document.delete((*path, "secrets"), key)
        elif not document.delete((*path, "config"), key):
            raise NotFound(f"{target.app} has no config var {key!r}")
    spec = document.save()
    for key, arn in kept.items():
        progress.note(f"  {key}: the secret itself is kept: {arn}")
    if no_apply:
        progress.done(f"Unset {', '.join(keys)} in {spec_path} (not applied: the next cdk deploy applies it)")
        return
    target = Target(spec_path, spec, target.app, target.env)
    gone = set(keys)

    def change(request):
        container = runtime.app_container(request)
        container["environment"] = [e for e in container.get("environment", []) if e["name"] not in gone]
        container["secrets"] = [s for s in container.get("secrets", []) if s["name"] not in gone]

    envs = runtime.roll_out(target, change, progress)
    _wait(target, envs, wait, timeout, progress)
    if kept:
        _drop_grants(target, list(kept))
    progress.done(f"Unset {', '.join(keys)} on {target.app} and restarted it in {_listing(envs)}")


def _drop_grants(target: Target, keys: list[str]) -> None:
    for env in target.spec.environments:
        here = target.in_env(env)
        release = runtime.latest_task_definition(here, here.family("release"))
        role = release and runtime.describe(here, release)[0].get("executionRoleArn")
        if not role:
            continue
        iam = aws.client(target.spec, env, "iam")
        for key in keys:
            with contextlib.suppress(iam.exceptions.NoSuchEntityException):
                iam.delete_role_policy(RoleName=role.rsplit("/", 1)[-1], PolicyName=_exec_policy_name(key))

