"""Each app's own database and login role: its secret, the rotation, the provision step and the redeploy.

What the templates say is tested here; what the provision script does to a real PostgreSQL is in
tests/test_provision_database.py. A live rotation (AWS's hosted function in the VPC) runs only on AWS.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess

import pytest
from aws_cdk.assertions import Match, Template

from shipway import naming
from shipway.constructs.app_database import PROVISION_SCRIPT
from shipway.defaults import PROVISION_IMAGE
from shipway.standalone.readme import capabilities

SECRET = "DatabaseSecret3B817195"


@pytest.fixture(scope="module")
def staging(shipped_templates) -> Template:
    return Template.from_json(shipped_templates["acme-minne-staging"])


def param_ref(template: Template, key: str, env: str = "staging") -> dict:
    """The Ref of the CloudFormation parameter that reads ``key`` from the platform's or data stack's SSM."""
    path = naming.parameter("acme", env, key)
    (name,) = [n for n, p in template.to_json()["Parameters"].items() if p.get("Default") == path]
    return {"Ref": name}


def joined(value) -> str:
    """A Fn::Join as one string, each part that is not a string written as JSON."""
    return "".join(p if isinstance(p, str) else json.dumps(p) for p in value["Fn::Join"][1])


def test_the_secret_holds_the_apps_login_and_a_url_without_password(staging):
    secret = staging.to_json()["Resources"][SECRET]
    assert (secret["DeletionPolicy"], secret["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    assert secret["Metadata"]["shipway:database"] == {"database": "minne", "role": "minne"}
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated["GenerateStringKey"] == "password"
    host = json.dumps(param_ref(staging, naming.Param.DATABASE_HOST))
    port = json.dumps(param_ref(staging, naming.Param.DATABASE_PORT))
    fields = json.loads(joined(generated["SecretStringTemplate"]).replace(host, "HOST").replace(port, "PORT"))
    assert fields == {
        "engine": "postgres", "host": "HOST", "port": "PORT", "dbname": "minne", "username": "minne", "ssl": True,
        "url": "postgres://minne@HOST:PORT/minne?sslmode=require",
    }


def test_aws_hosted_single_user_rotation_in_the_private_subnets(staging):
    template = staging.to_json()
    assert template["Transform"] == "AWS::SecretsManager-2024-09-16"
    staging.has_resource_properties("AWS::SecretsManager::RotationSchedule", {
        "SecretId": {"Ref": SECRET},
        "RotationRules": {"ScheduleExpression": "rate(30 days)"},
        "HostedRotationLambda": Match.object_like({
            "RotationType": "PostgreSQLSingleUser",
            "VpcSecurityGroupIds": param_ref(staging, naming.Param.APP_SECURITY_GROUP),
        }),
    })
    rotation = next(iter(staging.find_resources("AWS::SecretsManager::RotationSchedule").values()))
    subnets = json.dumps(rotation["Properties"]["HostedRotationLambda"]["VpcSubnetIds"])
    assert json.dumps(param_ref(staging, naming.Param.PRIVATE_SUBNETS)) in subnets
    # AWS's function, expanded at deploy time by the transform: no function, no asset, no custom resource of ours
    assert not staging.find_resources("AWS::Lambda::Function")
    assert not [t for t in (r["Type"] for r in template["Resources"].values()) if t.startswith("Custom::")]


def test_an_environment_may_rotate_on_its_own_schedule(minimal):
    tiny = Template.from_json(minimal.templates()["tiny-hello-dev"])
    tiny.has_resource_properties("AWS::SecretsManager::RotationSchedule", {
        "RotationRules": {"ScheduleExpression": "rate(30 days)"},
    })


def test_the_provision_task_runs_the_script_in_the_pinned_client_as_the_master(staging):
    definition = staging.find_resources("AWS::ECS::TaskDefinition", {
        "Properties": {"Family": "acme-minne-staging-provision"},
    })
    ((_, task),) = definition.items()
    (container,) = task["Properties"]["ContainerDefinitions"]
    assert container["Image"] == PROVISION_IMAGE
    assert ":" in PROVISION_IMAGE.rsplit("/", 1)[1] and not PROVISION_IMAGE.endswith(":latest")
    assert container["EntryPoint"] == ["bash", "-c"]
    assert container["Command"] == [PROVISION_SCRIPT.read_text()]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert environment == {"APP_DATABASE": "minne", "APP_ROLE": "minne", "SHARED_DATABASE": "acme",
                           "PGSSLMODE": "require", "PGCONNECT_TIMEOUT": "10"}
    master = param_ref(staging, naming.Param.DATABASE_SECRET_ARN)
    secrets = {s["Name"]: s["ValueFrom"]["Fn::Join"][1] for s in container["Secrets"]}
    assert secrets == {
        "PGHOST": [{"Ref": SECRET}, ":host::"], "PGPORT": [{"Ref": SECRET}, ":port::"],
        "APP_PASSWORD": [{"Ref": SECRET}, ":password::"],
        "PGUSER": [master, ":username::"], "PGPASSWORD": [master, ":password::"],
    }


def test_the_command_in_the_template_is_the_script_and_real_bash_runs_it(staging):
    """The container's entry point and command, as ECS would start them, without the variables it needs."""
    (task,) = staging.find_resources("AWS::ECS::TaskDefinition", {
        "Properties": {"Family": "acme-minne-staging-provision"},
    }).values()
    (container,) = task["Properties"]["ContainerDefinitions"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "APP_", "SHARED_"))}
    result = subprocess.run([*container["EntryPoint"], *container["Command"]], env=env, capture_output=True,
                            text=True, check=False)
    assert (result.returncode, result.stderr) == (2, "provision: PGHOST is not set\n")


def test_only_the_provision_role_reads_the_master_secret_and_no_pipeline_role_may_pass_it(staging, shipped_templates):
    role_name = naming.provision_role("acme", "minne", "staging")
    roles = staging.find_resources("AWS::IAM::Role", {"Properties": {"RoleName": role_name}})
    assert len(roles) == 1
    master = json.dumps(param_ref(staging, naming.Param.DATABASE_SECRET_ARN))
    readers = [p for p in staging.find_resources("AWS::IAM::Policy").values() if master in json.dumps(p)]
    assert [p["Properties"]["Roles"] for p in readers] == [[{"Ref": next(iter(roles))}]]
    # Every role the app's pipeline stack may pass (iam:PassRole resources, as patterns).
    pipeline = Template.from_json(shipped_templates["acme-minne"])
    patterns = set()
    for policy in pipeline.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "iam:PassRole" in json.dumps(statement["Action"]):
                resources = statement["Resource"]
                patterns |= {joined(r).split(":role/")[1] for r in (resources if isinstance(resources, list) else
                                                                     [resources])}
    assert {naming.app_role("acme", "minne", env, "execution") for env in ("staging", "production")} <= patterns
    assert not [p for p in patterns if fnmatch.fnmatch(role_name, p)]


def test_the_state_machine_runs_the_task_and_fails_unless_it_exited_zero(staging):
    (machine,) = staging.find_resources("AWS::StepFunctions::StateMachine", {
        "Properties": {"StateMachineName": naming.provision_state_machine("acme", "minne", "staging")},
    }).values()
    definition = joined(machine["Properties"]["DefinitionString"])
    assert ":states:::ecs:runTask.sync" in definition
    assert '"TaskDefinition":"acme-minne-staging-provision"' in definition
    assert '"Variable":"$.Containers[0].ExitCode","NumericEquals":0' in definition
    assert '"Default":"ProvisionFailed"' in definition
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}
    # RunTask on exactly the stack's revision (cdk.json's fixRunEcsTaskPolicy): CDK's older "<family:rev>:*" grant
    # matches no revision ARN, so the task would never start
    (task_id,) = staging.find_resources("AWS::ECS::TaskDefinition", {
        "Properties": {"Family": "acme-minne-staging-provision"}})
    role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    (policy,) = staging.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role}]}}).values()
    (run,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "ecs:RunTask"]
    assert run["Resource"] == {"Ref": task_id}


def test_a_rotation_redeploys_only_the_apps_services(staging):
    staging.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {
            "source": ["aws.secretsmanager"], "detail-type": ["Secret Label Updated"],
            "resources": [{"Ref": SECRET}], "detail": {"labelUpdated": ["AWSCURRENT"]},
        },
        "Targets": [Match.object_like({"Arn": {"Ref": "RedeployOnRotationEE4FD7C0"}})],
    })
    rule = next(r for r in staging.find_resources("AWS::Events::Rule").values()
                if r["Properties"]["EventPattern"]["source"] == ["aws.secretsmanager"])
    assert json.loads(rule["Properties"]["Targets"][0]["Input"]) == {"services": ["minne-web", "minne-worker"]}
    statements = staging.to_json()["Resources"]["RedeployOnRotationRoleDefaultPolicy63C0A5AC"]["Properties"][
        "PolicyDocument"]["Statement"]
    (update,) = [s for s in statements if s["Action"] == "ecs:updateService"]
    assert [joined(r).split(":service/")[1] for r in update["Resource"]] == [
        "acme-staging/minne-web", "acme-staging/minne-worker"]
    assert not [s for s in statements if "ecs:listServices" in json.dumps(s["Action"])]


@pytest.mark.parametrize("env", ["staging", "production"])
def test_the_pipeline_provisions_before_the_release(shipped_templates, env):
    pipeline = Template.from_json(shipped_templates["acme-minne"])
    (resource,) = pipeline.find_resources("AWS::CodePipeline::Pipeline").values()
    (stage,) = [s for s in resource["Properties"]["Stages"] if s["Name"] == env]
    order = {a["Name"]: a["RunOrder"] for a in stage["Actions"]}
    assert order["ProvisionDatabase"] < order["Release"] < order["Deploy-web"]
    (action,) = [a for a in stage["Actions"] if a["Name"] == "ProvisionDatabase"]
    assert action["ActionTypeId"]["Provider"] == "StepFunctions"
    assert joined(action["Configuration"]["StateMachineArn"]).endswith(
        f":stateMachine:{naming.provision_state_machine('acme', 'minne', env)}")


def test_the_pipeline_of_an_app_without_a_release_still_provisions(shipped_templates):
    pipeline = Template.from_json(shipped_templates["acme-blog"])
    (resource,) = pipeline.find_resources("AWS::CodePipeline::Pipeline").values()
    for stage in resource["Properties"]["Stages"][2:]:
        names = [a["Name"] for a in sorted(stage["Actions"], key=lambda a: a["RunOrder"])]
        assert names[0] == "ProvisionDatabase" and "Release" not in names


def test_the_standalone_readme_asks_for_the_transforms_capability(shipped_templates):
    assert capabilities(shipped_templates["acme-minne-staging"]) == ["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
    assert "CAPABILITY_AUTO_EXPAND" not in capabilities(shipped_templates["acme-staging-data"])


def test_each_acknowledgement_of_the_app_database_answers_a_real_finding(tmp_path, monkeypatch):
    """With acknowledgements off, cdk-nag reports each one this change made (as tests/test_platform.py does)."""
    import aws_cdk as cdk

    from shipway import nag
    from shipway.spec import load_spec
    from shipway.stacks.app_pipeline import AppPipelineStack
    from shipway.stacks.app_runtime import AppRuntimeStack
    from shipway.synth import cdk_context

    from .conftest import SHIPPED

    acknowledged: set[tuple[str, str]] = set()
    monkeypatch.setattr(nag, "acknowledge", lambda scope, finding, reason: acknowledged.add(
        (scope.node.path, finding.removeprefix("AwsSolutions::"))
    ))
    spec = load_spec(SHIPPED)
    app = cdk.App(outdir=str(tmp_path), context=cdk_context(), analytics_reporting=False)
    nag.add_checks(app)
    AppRuntimeStack(app, spec=spec, app="minne", env="staging")
    AppPipelineStack(app, spec=spec, app="minne")
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    findings = {
        (c["constructPath"], v["ruleName"])
        for plugin in report["pluginReports"] for v in plugin["violations"] for c in v["violatingConstructs"]
    }
    ours = {(path, finding) for path, finding in acknowledged
            if "/Database/" in path or "RedeployOnRotation" in path or ":execution:" in finding}
    assert len(ours) == 4  # provision and redeploy state machines; the pipeline, per environment
    for path, finding in ours:
        assert any(f == finding and (p == path or p.startswith(path + "/")) for p, f in findings), (path, finding)
