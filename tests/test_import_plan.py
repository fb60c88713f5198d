"""`shipway import copilot --plan` against moto's CloudFormation on 127.0.0.1, with Copilot-shaped stacks created
there through real boto3 calls: an environment stack (VPC, load balancer, Copilot's certificate and DNS custom
resources), service stacks (log groups, the environment controller), an addon stack nested in a service (a
PostgreSQL database with no DeletionPolicy, its subnet group and secret) and the application's StackSet stack
(ECR repositories, the artifact bucket and key).

moto stands in for CloudFormation's read API here (DescribeStacks, ListStackResources, GetTemplate). It cannot
run Copilot's custom resource Lambdas (so those stacks stay CREATE_IN_PROGRESS, as they would while a handler
hangs), skips types it does not model (AWS::SecretsManager::Secret: the plan lists it as not deployed), and
ignores deletion policies, and gives a DB subnet group no physical ID (ListStackResources returns it empty):
this shows what the plan reads and writes, not a real deletion or import.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from click.testing import CliRunner
from moto.server import ThreadedMotoServer

from shipway.cli import cli
from shipway.importers.copilot import import_copilot
from shipway.importers.copilot_plan import PlanError, make_plan, read_stacks, write_files

from .conftest import free_port
from .lint import cfn_lint
from .test_import import SHOP

REGION = "us-east-2"
TAGS = {"copilot-application": "shop"}


def _tags(**extra: str) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in {**TAGS, **extra}.items()]


def _custom(function: str, kind: str) -> dict:
    return {"Type": kind, "Properties": {"ServiceToken": {"Fn::GetAtt": [function, "Arn"]}}}


def _function(role: str) -> dict:
    return {"Type": "AWS::Lambda::Function", "Properties": {
        "Handler": "index.handler", "Runtime": "nodejs20.x", "Role": {"Fn::GetAtt": [role, "Arn"]},
        "Code": {"ZipFile": "exports.handler = async () => {};"}}}


ROLE = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                            "Action": "sts:AssumeRole"}]}}}


def environment_stack(env: str) -> dict:
    return {
        "Parameters": {"AppName": {"Type": "String"}, "EnvironmentName": {"Type": "String"}},
        "Resources": {
            "VPC": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "PrivateSubnet1": {"Type": "AWS::EC2::Subnet", "Properties": {
                "VpcId": {"Ref": "VPC"}, "CidrBlock": "10.0.3.0/24", "AvailabilityZone": f"{REGION}a"}},
            "PrivateSubnet2": {"Type": "AWS::EC2::Subnet", "Properties": {
                "VpcId": {"Ref": "VPC"}, "CidrBlock": "10.0.4.0/24", "AvailabilityZone": f"{REGION}b"}},
            "Cluster": {"Type": "AWS::ECS::Cluster"},
            "PublicLoadBalancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
                "Subnets": [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}]}},
            "CustomResourceRole": ROLE,
            "CertificateValidationFunction": _function("CustomResourceRole"),
            "HTTPSCert": _custom("CertificateValidationFunction", "Custom::CertificateValidationFunction"),
            "DNSDelegationFunction": _function("CustomResourceRole"),
            "DelegateDNSAction": _custom("DNSDelegationFunction", "Custom::DNSDelegationFunction"),
        },
        "Outputs": {
            "PrivateSubnets": {"Value": {"Fn::Join": [",", [{"Ref": "PrivateSubnet1"}, {"Ref": "PrivateSubnet2"}]]},
                               "Export": {"Name": f"shop-{env}-PrivateSubnets"}},
            "VpcId": {"Value": {"Ref": "VPC"}, "Export": {"Name": f"shop-{env}-VpcId"}},
        },
    }


def service_stack(env: str, service: str, addons_url: str | None = None) -> dict:
    resources = {
        "LogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": {"Fn::Join": ["", ["/copilot/", {"Ref": "AppName"}, "-", {"Ref": "EnvName"}, "-",
                                               {"Ref": "WorkloadName"}]]}, "RetentionInDays": 30}},
        "TaskDefinition": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
            "Family": f"shop-{env}-{service}", "Cpu": "256", "Memory": "512", "RequiresCompatibilities": ["FARGATE"],
            "NetworkMode": "awsvpc",
            "ContainerDefinitions": [{"Name": service, "Image": "nginx", "Memory": 512}]}},
        "EnvControllerRole": ROLE,
        "EnvControllerFunction": _function("EnvControllerRole"),
        "EnvControllerAction": _custom("EnvControllerFunction", "Custom::EnvControllerFunction"),
    }
    if addons_url:
        resources["AddonsStack"] = {"Type": "AWS::CloudFormation::Stack", "Properties": {
            "TemplateURL": addons_url, "Parameters": {"App": "shop", "Env": env, "Name": service}}}
    return {"Parameters": {name: {"Type": "String"} for name in ("AppName", "EnvName", "WorkloadName")},
            "Resources": resources}


ADDONS = {
    "Parameters": {name: {"Type": "String"} for name in ("App", "Env", "Name")},
    "Resources": {
        "dbSubnetGroup": {"Type": "AWS::RDS::DBSubnetGroup", "Properties": {
            "DBSubnetGroupDescription": "Copilot private subnets for the api database",
            "SubnetIds": {"Fn::Split": [",", {"Fn::ImportValue": {"Fn::Sub": "${App}-${Env}-PrivateSubnets"}}]}}},
        "dbSecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "The api database's security group",
            "VpcId": {"Fn::ImportValue": {"Fn::Sub": "${App}-${Env}-VpcId"}}}},
        "dbSecret": {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "GenerateSecretString": {"SecretStringTemplate": '{"username": "postgres"}',
                                     "GenerateStringKey": "password", "ExcludePunctuation": True}}},
        "db": {"Type": "AWS::RDS::DBInstance", "Properties": {
            "DBInstanceIdentifier": {"Fn::Sub": "${App}-${Env}-api-db"},
            "Engine": "postgres", "EngineVersion": "16.13", "DBInstanceClass": "db.t4g.micro",
            "AllocatedStorage": "20", "StorageEncrypted": True, "MasterUsername": "postgres",
            "ManageMasterUserPassword": True, "DBSubnetGroupName": {"Ref": "dbSubnetGroup"},
            "VPCSecurityGroups": [{"Ref": "dbSecurityGroup"}]}},
    },
}

# Copilot writes its templates in YAML with CloudFormation's short tags; GetTemplate returns them as text.
INFRASTRUCTURE = """\
Parameters:
  AppName:
    Type: String
    Default: shop
Resources:
  ECRRepofrontend:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: !Sub '${AppName}/frontend'
  ECRRepoapi:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: !Join ['/', [!Ref AppName, api]]
  PipelineBuiltArtifactBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: stackset-shop-infrastru-pipelinebuiltartifactbuc-1a2b3c
"""


@pytest.fixture(scope="module")
def copilot_account() -> Iterator[dict]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    config = {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": REGION, "aws_access_key_id": "testing",
              "aws_secret_access_key": "testing"}
    try:
        cloudformation = boto3.client("cloudformation", **config)
        s3 = boto3.client("s3", **config)
        s3.create_bucket(Bucket="stackset-shop-addons", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="stackset-shop-addons", Key="api/addons.json", Body=json.dumps(ADDONS).encode())
        addons_url = "https://stackset-shop-addons.s3.amazonaws.com/api/addons.json"
        cloudformation.create_stack(StackName="StackSet-shop-infrastructure-8d2c4e7a", TemplateBody=INFRASTRUCTURE,
                                    Tags=_tags())
        for env in ("test", "prod"):
            cloudformation.create_stack(
                StackName=f"shop-{env}", TemplateBody=json.dumps(environment_stack(env)),
                Parameters=[{"ParameterKey": "AppName", "ParameterValue": "shop"},
                            {"ParameterKey": "EnvironmentName", "ParameterValue": env}],
                Capabilities=["CAPABILITY_IAM"], Tags=_tags(**{"copilot-environment": env}))
            for service in ("frontend", "api"):
                cloudformation.create_stack(
                    StackName=f"shop-{env}-{service}",
                    TemplateBody=json.dumps(service_stack(env, service, addons_url if service == "api" else None)),
                    Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                for k, v in (("AppName", "shop"), ("EnvName", env), ("WorkloadName", service))],
                    Capabilities=["CAPABILITY_IAM"],
                    Tags=_tags(**{"copilot-environment": env, "copilot-service": service}))
        cloudformation.create_stack(StackName="unrelated", TemplateBody=json.dumps({
            "Resources": {"Other": {"Type": "AWS::Logs::LogGroup"}}}), Tags=[{"Key": "team", "Value": "other"}])
        yield config
    finally:
        server.stop()


@pytest.fixture(scope="module")
def plan(copilot_account):
    cloudformation = boto3.client("cloudformation", **copilot_account)
    imported = import_copilot(SHOP, region=REGION, account="123456789012")
    return imported, make_plan(imported, read_stacks(cloudformation, "shop"))


def test_plan_reads_only_copilots_stacks_with_their_addons(plan):
    _, result = plan
    names = sorted(s.name for s in result.stacks if s.parent is None)
    assert names == ["StackSet-shop-infrastructure-8d2c4e7a", "shop-prod", "shop-prod-api", "shop-prod-frontend",
                     "shop-test", "shop-test-api", "shop-test-frontend"]
    nested = [s for s in result.stacks if s.parent]
    assert sorted(s.parent for s in nested) == ["shop-prod-api", "shop-test-api"]
    assert all(s.parent_logical_id == "AddonsStack" for s in nested)


def _moto_models_secrets() -> bool:
    """Whether this process's moto CloudFormation creates AWS::SecretsManager::Secret (e2e/moto_patches.py adds it,
    once per process, when the e2e tests ran first)."""
    from moto.cloudformation.parsing import get_model_map

    return "AWS::SecretsManager::Secret" in get_model_map()


def test_stateful_resources_are_adopted_with_their_physical_ids(plan):
    _, result = plan
    adopted = {(r.type, r.physical_id) for r in result.adopted}
    assert ("AWS::Logs::LogGroup", "/copilot/shop-test-frontend") in adopted
    assert ("AWS::ECR::Repository", "shop/frontend") in adopted
    assert ("AWS::RDS::DBInstance", "shop-prod-api-db") in adopted
    assert ("AWS::S3::Bucket", "stackset-shop-infrastru-pipelinebuiltartifactbuc-1a2b3c") in adopted
    assert sorted(r.type for r in result.adopted).count("AWS::Logs::LogGroup") == 4
    secrets = [("prod", "dbSecret"), ("test", "dbSecret")]
    if _moto_models_secrets():
        # e2e's moto patches, applied earlier in this process, let its CloudFormation create secrets: adopted
        assert sorted((r.stack.split("-")[1], r.logical_id) for r in result.adopted
                      if r.type == "AWS::SecretsManager::Secret") == secrets
        assert result.missing == []
    else:
        # moto alone does not model Secrets Manager in CloudFormation: in the template, not deployed, retained anyway
        assert sorted((r.stack.split("-")[1], r.logical_id) for r in result.missing) == secrets
    # the database stands on its subnet group: kept with it
    assert sorted(r.logical_id for r in result.dependencies) == ["dbSecurityGroup", "dbSecurityGroup", "dbSubnetGroup",
                                                                "dbSubnetGroup"]


def test_the_import_mapping_names_each_resource_by_its_identifier(plan):
    _, result = plan
    template, to_import, _ = result.adoption["shop-test-adopted"]
    by_id = {item["LogicalResourceId"]: item for item in to_import}
    assert by_id["ShopTestFrontendLogGroup"] == {
        "ResourceType": "AWS::Logs::LogGroup", "LogicalResourceId": "ShopTestFrontendLogGroup",
        "ResourceIdentifier": {"LogGroupName": "/copilot/shop-test-frontend"}}
    database = next(item for item in to_import if item["ResourceType"] == "AWS::RDS::DBInstance")
    assert database["ResourceIdentifier"] == {"DBInstanceIdentifier": "shop-test-api-db"}
    resource = template["Resources"][database["LogicalResourceId"]]
    assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"
    assert resource["Properties"]["DBInstanceIdentifier"] == "shop-test-api-db"
    # references become the physical IDs they point at...
    (group,) = resource["Properties"]["VPCSecurityGroups"]
    assert group.startswith("sg-")
    # ...and what cannot be resolved is left out and said: moto gives a subnet group no physical ID
    dropped = result.adoption["shop-test-adopted"][2]
    assert dropped == [f"{database['LogicalResourceId']}.DBSubnetGroupName"]
    infrastructure = next(s for s in result.stacks if s.name.startswith("StackSet-"))
    assert infrastructure.resources["ECRRepoapi"].definition["Properties"]["RepositoryName"] == {
        "Fn::Join": ["/", [{"Ref": "AppName"}, "api"]]}  # the YAML template, short tags read
    app_level = result.adoption["shop-adopted"][1]
    assert sorted(i["ResourceIdentifier"].get("RepositoryName", "") for i in app_level) == ["", "shop/api",
                                                                                            "shop/frontend"]


def test_traps_are_retained_before_anything_is_deleted(plan):
    _, result = plan
    traps = {(t.resource.stack, t.resource.logical_id): t.why for t in result.traps}
    assert "deletes the ACM certificate" in traps[("shop-test", "HTTPSCert")]
    assert "Route 53" in traps[("shop-test", "DelegateDNSAction")]
    assert "shared load balancer" in traps[("shop-prod-frontend", "EnvControllerAction")]
    patched = result.patches["shop-test"]["Resources"]
    assert patched["HTTPSCert"]["DeletionPolicy"] == "Retain"
    assert "DeletionPolicy" not in patched["PublicLoadBalancer"]  # recreated by shipway's router
    nested = next(s for s in result.stacks if s.parent == "shop-test-api")
    assert "DeletionPolicy" not in nested.template["Resources"]["db"]  # as Copilot deployed it
    assert result.patches[nested.name]["Resources"]["db"]["DeletionPolicy"] == "Retain"


def test_the_review_guard_passes_the_plan(plan):
    _, result = plan
    assert result.guard[0] == ("Retain patches: 9 stack(s); the guard finds policy changes only: nothing replaced "
                               "or removed.")
    assert result.guard[1].startswith("Deleting the 9 Copilot stack(s) after the patches: ")
    assert result.guard[1].endswith(" 0 destroyed, 0 replaced.")


def test_the_guard_refuses_a_plan_that_would_destroy_data(plan, monkeypatch):
    imported, result = plan
    import shipway.importers.copilot_plan as module

    monkeypatch.setattr(module, "_retained", lambda stack, plan: stack.template)  # a plan that forgets Retain
    with pytest.raises(PlanError, match=r"^deleting \S+ would leave \w+ \(AWS::[A-Za-z:]+\) destroyed: the plan must "
                                        r"retain it first$"):
        make_plan(imported, result.stacks)


def test_written_plan_and_adopted_templates_pass_cfn_lint(plan, tmp_path):
    imported, result = plan
    written = write_files(result, imported, tmp_path / "cutover.md")
    assert cfn_lint(tmp_path / "cutover-files" / "adopt") == []
    text = (tmp_path / "cutover.md").read_text()
    for heading in ("## 1. Freeze Copilot", "## 2. Keep the data", "## 3. Deletion traps", "## 4. Deploy shipway",
                    "## 5. Switch DNS", "## 6. Delete Copilot's stacks", "## 7. Take the stateful resources over"):
        assert heading in text
    assert ("aws cloudformation create-change-set --stack-name shop-test-adopted --change-set-name adopt "
            "--change-set-type IMPORT --template-body file://cutover-files/adopt/shop-test-adopted.template.json "
            "--resources-to-import file://cutover-files/adopt/shop-test-adopted.import.json") in text
    assert "| shop-test-api-AddonsStack" in text or "shop-test-api" in text
    assert "aws ssm get-parameter --name /shipway/shop/prod/router/dns-name" in text
    assert "| prod | shop.example.com | frontend |" in text
    assert (tmp_path / "cutover-files" / "retain" / "shop-test.template.json") in written
    cdk_mapping = json.loads((tmp_path / "cutover-files" / "adopt" / "shop-test-adopted.cdk-import.json").read_text())
    assert cdk_mapping["ShopTestFrontendLogGroup"] == {"LogGroupName": "/copilot/shop-test-frontend"}


def test_the_cli_writes_the_plan_from_the_emulated_account(copilot_account, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", copilot_account["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    result = CliRunner().invoke(cli, ["import", "copilot", str(SHOP), "-o", str(tmp_path / "shipway.yaml"),
                                      "--region", REGION, "--account", "123456789012",
                                      "--plan", str(tmp_path / "cutover.md")])
    assert result.exit_code == 0, result.output
    assert f"cutover plan: {tmp_path / 'cutover.md'}" in result.output
    assert "## 7. Take the stateful resources over in place" in (tmp_path / "cutover.md").read_text()


def test_the_cli_says_so_when_no_copilot_stack_is_deployed(copilot_account, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", copilot_account["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    result = CliRunner().invoke(cli, ["import", "copilot", str(SHOP), "-o", str(tmp_path / "shipway.yaml"),
                                      "--region", "eu-west-1", "--plan", str(tmp_path / "cutover.md")])
    assert result.exit_code == 1
    assert "no deployed stack is tagged copilot-application=shop" in result.output
    assert "Traceback" not in result.output
