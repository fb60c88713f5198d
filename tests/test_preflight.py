"""`shipway preflight` against moto's server on 127.0.0.1: real boto3 calls to an emulated account.

moto stands in for IAM, STS, ECS account settings, CloudFormation, ACM and CodeCommit. It cannot show what a
real account adds: organization policies, CodeCommit's actual availability to the account (which the command
reports as "to check" with a probe), or the effective default of awsvpcTrunking (moto keeps the account's own
setting, which put-account-setting writes).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import boto3
import pytest
import yaml
from click.testing import CliRunner
from moto.server import ThreadedMotoServer

from shipway.cli import cli
from shipway.spec import validate_spec

from .conftest import SHIPPED, free_port

REGION = "ap-northeast-1"
ACCOUNT = "123456789012"  # moto's default account
CERTIFICATE = yaml.safe_load(SHIPPED.read_text())["environments"]["production"]["router"]["certificate_arn"]


@pytest.fixture
def account(monkeypatch, tmp_path) -> Iterator[boto3.Session]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # moto's backends live in this process, shared by every server it starts: begin from an empty account.
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST"))
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    try:
        yield boto3.Session(region_name=REGION)
    finally:
        server.stop()


def run(spec_path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["preflight", "--spec", str(spec_path)])
    return result.exit_code, result.output.splitlines()  # stdout and stderr, as a terminal shows them


def test_a_fresh_account_lacks_every_prerequisite_of_the_shipped_spec(account):
    code, lines = run(SHIPPED)
    assert code == 1
    assert lines == [
        "missing: the service-linked role AWSServiceRoleForECS (ECS clusters, capacity providers and awsvpc) "
        "(every environment's cluster); run: aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com",
        "missing: the service-linked role AWSServiceRoleForEC2Spot (launching Spot Instances) "
        "(environments.staging.cluster.pools.loadtest runs Spot Instances); "
        "run: aws iam create-service-linked-role --aws-service-name spot.amazonaws.com",
        "missing: the service-linked role AWSServiceRoleForEC2SpotFleet (a Spot Fleet created through the API) "
        "(environments.staging.cluster.pools.loadtest is a Spot Fleet); "
        "run: aws iam create-service-linked-role --aws-service-name spotfleet.amazonaws.com",
        f"missing: the CDK bootstrap stack CDKToolkit in {REGION} (cdk deploy of staging, production uploads assets "
        f"through it); run: npx cdk bootstrap aws://{ACCOUNT}/{REGION}",
        f"missing: ECS account setting awsvpcTrunking in {REGION} (environments staging, production declare "
        "cluster.awsvpc_trunking: true, and the capacity check counted on it); "
        f"run: aws ecs put-account-setting-default --name awsvpcTrunking --value enabled --region {REGION}",
        f"missing: the certificate {CERTIFICATE} (environments.production.router.certificate_arn: the HTTPS "
        f"listener needs it issued); run: aws acm request-certificate --region {REGION} --validation-method DNS "
        "--domain-name blog.example.com --subject-alternative-names minne.example.com "
        "--subject-alternative-names www.minne.example.com",
        "to check: CodeCommit repository creation for apps.minne.source.codecommit 'minne' (the acme-minne stack "
        "creates it, and AWS has at times closed CreateRepository to accounts that never used CodeCommit; if the "
        "probe is refused, use a CodeConnections source (connection_arn and repository)); run: aws codecommit "
        "create-repository --repository-name shipway-preflight-probe && aws codecommit delete-repository "
        "--repository-name shipway-preflight-probe",
        "preflight: 6 prerequisite(s) missing for " + str(SHIPPED),
    ]


def test_running_the_named_commands_clears_every_finding(account, tmp_path):
    """Do what each line says (through boto3, as the CLI commands would), then run preflight again."""
    iam = account.client("iam")
    for service in ("ecs.amazonaws.com", "spot.amazonaws.com", "spotfleet.amazonaws.com"):
        iam.create_service_linked_role(AWSServiceName=service)
    account.client("cloudformation").create_stack(StackName="CDKToolkit", TemplateBody=yaml.safe_dump(
        {"Resources": {"Version": {"Type": "AWS::SSM::Parameter", "Properties": {  # what cdk bootstrap publishes
            "Name": "/cdk-bootstrap/hnb659fds/version", "Type": "String", "Value": "30"}}}}))
    account.client("ecs").put_account_setting(name="awsvpcTrunking", value="enabled")
    account.client("codecommit").create_repository(repositoryName="minne")
    spec = yaml.safe_load(SHIPPED.read_text())
    spec["environments"]["production"]["router"].pop("certificate_arn")  # moto cannot issue that fixed ARN
    path = tmp_path / "shipway.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    validate_spec(spec)
    code, lines = run(path)
    assert lines == [f"preflight: every prerequisite of {path} that can be read is in place"]
    assert code == 0


def test_what_a_spec_does_not_use_is_not_asked_for(account, tmp_path):
    """No Spot pool, no trunking, no certificate, a CodeConnections source: the ECS role and bootstrap only."""
    spec = {"name": "plain", "environments": {"dev": {}},
            "apps": {"web": {"source": {"connection_arn": "arn:aws:codeconnections:ap-northeast-1:123456789012:"
                                                          "connection/00000000-0000-0000-0000-000000000000",
                                        "repository": "acme/web"},
                             "processes": {"web": {"port": 80, "hosts": ["web.example.com"]}}}}}
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(spec))
    code, lines = run(path)
    assert code == 1
    assert [line.split(" (")[0] for line in lines[:-1]] == [
        "missing: the service-linked role AWSServiceRoleForECS",
        f"missing: the CDK bootstrap stack CDKToolkit in {REGION}",
    ]


def test_an_environment_in_another_account_is_named(account, tmp_path):
    spec = {"name": "far", "environments": {"prod": {"account": "999999999999", "region": REGION}}}
    path = tmp_path / "far.yaml"
    path.write_text(yaml.safe_dump(spec))
    code, lines = run(path)
    assert code == 1
    assert lines[0] == (
        "missing: credentials for account 999999999999 (environment prod deploys there, but the "
        f"caller is in {ACCOUNT}); run: aws sts get-caller-identity  # after signing in to 999999999999")


def test_missing_credentials_are_one_clear_line(monkeypatch, tmp_path):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                     "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    code, lines = run(SHIPPED)
    assert code == 2
    assert lines == ["preflight: no AWS credentials found: sign in (aws sso login, or AWS_PROFILE, or "
                     "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and run preflight again"]


def test_a_bad_spec_is_its_problems_not_a_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nenvironments: {dev: {network: {nat_gateways: 9}}}\n")
    code, lines = run(path)
    assert code == 2 and len(lines) == 1 and "environments.dev.network.nat_gateways" in lines[0]
