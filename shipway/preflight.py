"""`make preflight`: what the account lacks before `cdk deploy --all` of a spec can succeed.

Read-only: it asks the account with the caller's credentials (boto3's usual chain) and names each missing
prerequisite with the command that creates it. Nothing here writes to the account.

Some prerequisites cannot be read without creating something (can this account create a CodeCommit
repository?); those are reported as *to check*, with the command that checks them, and do not fail the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from . import naming
from .spec import Spec
from .spec.model import SpotFleetPool

CDK_TOOLKIT = "CDKToolkit"
"""The stack `cdk bootstrap` creates; `cdk deploy` uploads assets and assumes roles from it."""


class PreflightError(Exception):
    """The account cannot be read at all (no credentials, no region); the message is one line."""


@dataclass(frozen=True)
class Finding:
    what: str
    why: str
    command: str
    missing: bool = True
    """False: it cannot be read without changing the account; ``command`` checks it."""

    def line(self) -> str:
        kind = "missing" if self.missing else "to check"
        return f"{kind}: {self.what} ({self.why}); run: {self.command}"


@dataclass(frozen=True)
class ServiceLinkedRole:
    name: str
    service: str
    purpose: str


SPOT = ServiceLinkedRole("AWSServiceRoleForEC2Spot", "spot.amazonaws.com", "launching Spot Instances")
SPOT_FLEET = ServiceLinkedRole("AWSServiceRoleForEC2SpotFleet", "spotfleet.amazonaws.com",
                               "a Spot Fleet created through the API")
ECS = ServiceLinkedRole("AWSServiceRoleForECS", "ecs.amazonaws.com", "ECS clusters, capacity providers and awsvpc")


def preflight(spec: Spec, session: boto3.Session | None = None) -> list[Finding]:
    """Every finding for ``spec`` in the account of ``session`` (default: boto3's credential chain)."""
    session = session or boto3.Session()
    try:
        identity = session.client("sts").get_caller_identity()
    except NoCredentialsError:
        raise PreflightError("no AWS credentials found: sign in (aws sso login, or AWS_PROFILE, or "
                             "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and run preflight again") from None
    except NoRegionError:
        raise PreflightError("no AWS region: set AWS_DEFAULT_REGION (or a region in your profile)") from None
    except (ClientError, BotoCoreError) as exc:
        raise PreflightError(f"the caller's credentials do not work: {exc}") from None
    account = identity["Account"]
    return list(_findings(spec, session, account))


def _findings(spec: Spec, session: boto3.Session, account: str) -> Iterator[Finding]:
    default_region = session.region_name
    if default_region is None and any(env.region is None for env in spec.environments.values()):
        raise PreflightError("no AWS region: set AWS_DEFAULT_REGION (or a region in your profile), or give every "
                             "environment its region")
    for env_name, env in spec.environments.items():
        if env.account is not None and env.account != account:
            yield Finding(f"credentials for account {env.account}",
                          f"environment {env_name} deploys there, but the caller is in {account}",
                          f"aws sts get-caller-identity  # after signing in to {env.account}")
    yield from _service_linked_roles(spec, session)
    regions = sorted({env.region or default_region for env in spec.environments.values()})
    for region in regions:
        in_region = [name for name, env in spec.environments.items() if (env.region or default_region) == region]
        yield from _bootstrap(session, account, region, in_region)
        yield from _trunking(spec, session, region, in_region)
        yield from _certificates(spec, session, in_region)
    yield from _codecommit(spec, session, regions[0])


def _role_exists(session: boto3.Session, role: ServiceLinkedRole) -> bool:
    """By the path every service-linked role of the service lives under (/aws-service-role/<service>/)."""
    pages = session.client("iam").get_paginator("list_roles").paginate(PathPrefix=f"/aws-service-role/{role.service}/")
    return any(page["Roles"] for page in pages)


def _service_linked_roles(spec: Spec, session: boto3.Session) -> Iterator[Finding]:
    fleets = [f"environments.{env_name}.cluster.pools.{pool_name}"
              for env_name, env in spec.environments.items()
              for pool_name, pool in env.cluster.pools.items() if isinstance(pool, SpotFleetPool)]
    spot_asgs = [f"environments.{env_name}.cluster.pools.{pool_name}"
                 for env_name, env in spec.environments.items()
                 for pool_name, pool in env.cluster.pools.items()
                 if pool.buys_spot and not isinstance(pool, SpotFleetPool)]
    wanted = [(ECS, "every environment's cluster")]
    if fleets or spot_asgs:
        wanted.append((SPOT, f"{(fleets + spot_asgs)[0]} runs Spot Instances"))
    if fleets:
        wanted.append((SPOT_FLEET, f"{fleets[0]} is a Spot Fleet"))
    for role, why in wanted:
        if not _role_exists(session, role):
            yield Finding(f"the service-linked role {role.name} ({role.purpose})", why,
                          f"aws iam create-service-linked-role --aws-service-name {role.service}")


def _bootstrap(session: boto3.Session, account: str, region: str, environments: list[str]) -> Iterator[Finding]:
    cloudformation = session.client("cloudformation", region_name=region)
    try:
        cloudformation.describe_stacks(StackName=CDK_TOOLKIT)
    except ClientError as exc:
        if "does not exist" not in exc.response["Error"]["Message"]:
            raise
        yield Finding(f"the CDK bootstrap stack {CDK_TOOLKIT} in {region}",
                      f"cdk deploy of {', '.join(environments)} uploads assets through it",
                      f"npx cdk bootstrap aws://{account}/{region}")


def _trunking(spec: Spec, session: boto3.Session, region: str, environments: list[str]) -> Iterator[Finding]:
    declared = [name for name in environments if spec.environments[name].cluster.awsvpc_trunking]
    if not declared:
        return
    settings = session.client("ecs", region_name=region).list_account_settings(
        name="awsvpcTrunking", effectiveSettings=True)["settings"]
    if not any(s["name"] == "awsvpcTrunking" and s["value"] == "enabled" for s in settings):
        yield Finding(f"ECS account setting awsvpcTrunking in {region}",
                      f"environments {', '.join(declared)} declare cluster.awsvpc_trunking: true, and the capacity "
                      "check counted on it",
                      f"aws ecs put-account-setting-default --name awsvpcTrunking --value enabled --region {region}")


def _certificates(spec: Spec, session: boto3.Session, environments: list[str]) -> Iterator[Finding]:
    for env_name in environments:
        arn = spec.environments[env_name].router.certificate_arn
        if arn is None:
            continue
        region = arn.split(":")[3]
        try:
            status = session.client("acm", region_name=region).describe_certificate(
                CertificateArn=arn)["Certificate"]["Status"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            status = None
        if status != "ISSUED":
            hosts = sorted({host for app in spec.apps.values() for process in app.processes.values()
                            for host in process.hosts_in(env_name)})
            names = " ".join(f"--subject-alternative-names {h}" for h in hosts[1:])
            yield Finding(
                f"the certificate {arn}" + (f" (it is {status})" if status else ""),
                f"environments.{env_name}.router.certificate_arn: the HTTPS listener needs it issued",
                f"aws acm request-certificate --region {region} --validation-method DNS --domain-name "
                f"{hosts[0] if hosts else '<host>'} {names}".rstrip(),
            )


def _codecommit(spec: Spec, session: boto3.Session, region: str) -> Iterator[Finding]:
    codecommit = session.client("codecommit", region_name=region)
    for app_name, app in spec.apps.items():
        repository = app.source.codecommit
        if repository is None:
            continue
        try:
            codecommit.get_repository(repositoryName=repository)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "RepositoryDoesNotExistException":
                raise
            probe = "shipway-preflight-probe"
            yield Finding(
                f"CodeCommit repository creation for apps.{app_name}.source.codecommit '{repository}'",
                f"the {naming.app_stack(spec.name, app_name)} stack creates it, and AWS has at times closed "
                "CreateRepository to accounts that never used CodeCommit; if the probe is refused, use a "
                "CodeConnections source (connection_arn and repository)",
                f"aws codecommit create-repository --repository-name {probe} && "
                f"aws codecommit delete-repository --repository-name {probe}",
                missing=False,
            )
