"""Stand-alone templates: no bootstrap, no assets, no unjustified custom resource; `make templates` output."""

from __future__ import annotations

import json
import re
import shutil

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3_assets as s3_assets

from shipway.assembly import AWS_PUBLIC_PARAMETERS, publishers, read_assembly
from shipway.spec import load_spec
from shipway.standalone.parameters import _rename, names, parameter_name
from shipway.standalone.reusable import problems
from shipway.standalone.writer import NotReusable, write_templates
from shipway.synth import synthesize

from .conftest import SPECS
from .lint import cfn_lint


@pytest.mark.parametrize("spec", ["shipped", "minimal"])
def test_every_template_deploys_without_the_cdk(spec, request):
    stacks = read_assembly(request.getfixturevalue(spec).outdir)
    assert {name: problems(stack) for name, stack in stacks.items() if problems(stack)} == {}


def test_an_asset_or_a_custom_resource_is_caught(tmp_path):
    def plant(app: cdk.App):
        stack = next(c for c in app.node.children if isinstance(c, cdk.Stack) and c.stack_name.endswith("-data"))
        s3_assets.Asset(stack, "PlantedAsset", path=str(SPECS / "minimal.yaml"))
        cdk.CfnCustomResource(stack, "PlantedCustom", service_token="arn:aws:sns:us-east-1:123456789012:handler")

    planted = synthesize(load_spec(SPECS / "minimal.yaml"), tmp_path / "planted", before_synth=plant)
    [stack] = [s for s in read_assembly(planted.outdir).values() if s.name.endswith("-data")]
    found = problems(stack)
    assert any("file asset" in p for p in found), found
    assert any("PlantedCustom" in p and "custom resource" in p for p in found), found
    with pytest.raises(NotReusable, match="PlantedCustom"):
        write_templates(planted.outdir, tmp_path / "dist")


def _written(out, name: str) -> dict:
    return json.loads((out / f"{name}.template.json").read_text())


def test_make_templates_writes_templates_readme_and_catalog(shipped, shipped_templates, tmp_path):
    out = tmp_path / "templates"
    write_templates(shipped.outdir, out)
    for name, stack in read_assembly(shipped.outdir).items():
        # The same document as in cdk.out, but for the parameters' names: renamed back, nothing else differs.
        back = {new: old for old, new in names(stack, "acme").items()}
        written = _written(out, name)
        assert _rename({**written, "Parameters": {back.get(k, k): v for k, v in written.get("Parameters", {}).items()}},
                       back) == stack.template, name
    readme = (out / "README.md").read_text()
    for name in shipped_templates:
        assert f"## {name}\n" in readme
        assert f"--stack-name {name}" in readme
        template = _written(out, name)
        for parameter, spec in template.get("Parameters", {}).items():
            assert f"| `{parameter}` | `{spec['Type']}` |" in readme, parameter
            if spec["Type"].startswith("AWS::SSM::Parameter::Value"):
                assert f"`{spec['Default']}`" in readme  # the SSM path the stack reads
        for output in template.get("Outputs", {}):
            assert f"| `{output}` |" in readme, output
    assert "## Custom resources\n\nNone" in readme
    assert "published by `acme-staging-platform`" in readme


def test_templates_over_the_inline_limit_deploy_through_s3(shipped, tmp_path):
    out = tmp_path / "templates"
    write_templates(shipped.outdir, out)
    readme = (out / "README.md").read_text()
    for template in out.glob("acme-*.template.json"):
        section = readme.split(f"## {template.name.removesuffix('.template.json')}\n")[1].split("\n## ")[0]
        assert ("--s3-bucket" in section) == (template.stat().st_size > 51_200), template.name


def test_the_service_catalog_portfolio_lints_clean_and_offers_every_template(shipped, shipped_templates, tmp_path):
    out = tmp_path / "templates"
    write_templates(shipped.outdir, out)
    lint_dir = tmp_path / "lint"
    lint_dir.mkdir()
    shutil.copy(out / "service-catalog.template.json", lint_dir)
    assert cfn_lint(lint_dir) == []
    catalog = json.loads((out / "service-catalog.template.json").read_text())
    products = [r for r in catalog["Resources"].values() if r["Type"] == "AWS::ServiceCatalog::CloudFormationProduct"]
    urls = {p["Properties"]["ProvisioningArtifactParameters"][0]["Info"]["LoadTemplateFromURL"]["Fn::Join"][1][1]
            for p in products}
    assert urls == {f"/{name}.template.json" for name in shipped_templates}


def test_every_ssm_parameter_a_template_reads_is_published_by_a_stack(shipped):
    """The README names the publisher of each SSM-typed parameter; none may be left without one."""
    stacks = list(read_assembly(shipped.outdir).values())
    published = publishers(stacks)
    unpublished = {(stack.name, path) for stack in stacks for path in stack.read().values()
                   if not path.startswith(AWS_PUBLIC_PARAMETERS) and path not in published}
    assert any(stack.read() for stack in stacks)
    assert unpublished == set()


# What a person types when deploying the shipped spec's templates with plain CloudFormation. A change here is a
# change to every `aws cloudformation deploy --parameter-overrides` and Service Catalog launch people wrote down.
TYPEABLE_PARAMETERS = {
    "acme-staging-platform": ["EcsAmiId"],
    "acme-production-platform": ["EcsAmiId"],
    "acme-staging-data": ["AppsSecurityGroupId", "LogsKeyArn", "VpcId", "VpcIsolatedSubnets"],
    "acme-production-data": ["AppsSecurityGroupId", "LogsKeyArn", "VpcId", "VpcIsolatedSubnets"],
    "acme-minne": ["ProductionAlarmsTopicArn", "StagingAlarmsTopicArn", "StagingDiscoveryHostedZoneId",
                   "StagingLogsKeyArn"],
    "acme-minne-staging": ["AlarmsTopicArn", "AppsSecurityGroupId", "ClusterExecLogGroup", "DatabaseHost",
                           "DatabaseMasterSecretArn", "DatabasePort", "DiscoveryNamespaceId", "ImageTag", "LogsKeyArn",
                           "RouterListenerArn", "RouterLoadBalancerFullName", "VpcId", "VpcPrivateSubnets",
                           "WebLiveTargetGroup"],
    "acme-minne-production": ["AlarmsTopicArn", "AppsSecurityGroupId", "ClusterExecLogGroup", "DatabaseHost",
                              "DatabaseMasterSecretArn", "DatabasePort", "ImageTag", "LogsKeyArn", "RouterListenerArn",
                              "RouterLoadBalancerFullName", "VpcId", "VpcPrivateSubnets", "WebLiveTargetGroup"],
    "acme-blog": ["ProductionAlarmsTopicArn", "StagingAlarmsTopicArn", "StagingLogsKeyArn"],
    "acme-blog-staging": ["AlarmsTopicArn", "AppsSecurityGroupId", "ClusterExecLogGroup", "DatabaseHost",
                          "DatabaseMasterSecretArn", "DatabasePort", "ImageTag", "LogsKeyArn", "RouterListenerArn",
                          "RouterLoadBalancerFullName", "RouterTestListenerArn", "VpcId", "VpcPrivateSubnets",
                          "WebLiveTargetGroup"],
    "acme-blog-production": ["AlarmsTopicArn", "AppsSecurityGroupId", "ClusterExecLogGroup", "DatabaseHost",
                             "DatabaseMasterSecretArn", "DatabasePort", "ImageTag", "LogsKeyArn", "RouterListenerArn",
                             "RouterLoadBalancerFullName", "RouterTestListenerArn", "VpcId", "VpcPrivateSubnets",
                             "WebLiveTargetGroup"],
}


def test_stand_alone_parameters_have_names_a_person_can_type(shipped, tmp_path):
    out = tmp_path / "templates"
    write_templates(shipped.outdir, out)
    assert {name: sorted(_written(out, name).get("Parameters", {})) for name in TYPEABLE_PARAMETERS} == \
        TYPEABLE_PARAMETERS
    assert not [p for p in out.glob("*.template.json") if "SsmParameterValue" in p.read_text()]


@pytest.mark.parametrize("spec", ["minimal", "s3_registry", "pinned"])
def test_every_test_spec_gets_short_typeable_parameter_names(spec, request, tmp_path):
    out = tmp_path / "templates"
    write_templates(request.getfixturevalue(spec).outdir, out)
    found = {p for f in out.glob("*.template.json") for p in json.loads(f.read_text()).get("Parameters", {})}
    assert found and all(re.fullmatch(r"[A-Z][A-Za-z0-9]{1,39}", p) for p in found), sorted(found)


def test_the_stand_alone_templates_lint_clean(shipped, tmp_path):
    """cfn-lint on what people deploy: every renamed Ref and ${} still names a declared parameter."""
    out = tmp_path / "templates"
    write_templates(shipped.outdir, out)
    (out / "service-catalog.template.json").unlink()  # linted on its own above
    assert cfn_lint(out) == []


def test_parameter_names_drop_what_the_stack_name_says():
    assert parameter_name("/shipway/acme/staging/vpc/id", project="acme", stack="acme-staging-data") == "VpcId"
    assert parameter_name("/shipway/acme/staging/vpc/id", project="acme", stack="acme-minne") == "StagingVpcId"
    assert parameter_name("/shipway/acme/apps/minne/staging/image-tag", project="acme",
                          stack="acme-minne-staging") == "ImageTag"
    assert parameter_name("/shipway/acme/apps/blog/staging/image-tag", project="acme",
                          stack="acme-minne-staging") == "BlogStagingImageTag"
    assert _rename({"Fn::Sub": ["${Old}-${AWS::Region}-${X}", {"X": {"Ref": "Old"}}]}, {"Old": "New"}) == \
        {"Fn::Sub": ["${New}-${AWS::Region}-${X}", {"X": {"Ref": "New"}}]}
