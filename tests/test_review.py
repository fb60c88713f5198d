"""The review guard on real synthesized assemblies: variants of the minimal spec, each synthesized by CDK.

A variant is either a spec edit (the user's change) or a planted code change made through CDK's own API
before synthesis (``override_logical_id`` is exactly what renaming a construct does to the template;
``add_property_override`` what changing a construct's prop does).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

import aws_cdk as cdk
import pytest
import yaml

from shipway.review import read_assembly, review
from shipway.review.__main__ import main
from shipway.review.base_ref import BaseRefError, synthesize_ref
from shipway.review.compare import _at
from shipway.review.schema import replacement
from shipway.spec import validate_spec
from shipway.synth import ROOT, synthesize

from .conftest import SPECS

MINIMAL = yaml.safe_load((SPECS / "minimal.yaml").read_text())


def _variant(tmp_path, edit: Callable[[dict], None] | None = None,
             plant: Callable[[cdk.App], None] | None = None, name: str = "head"):
    data = copy.deepcopy(MINIMAL)
    if edit:
        edit(data)
    return synthesize(validate_spec(data), tmp_path / name, before_synth=plant).outdir


def _resources(app: cdk.App, resource_type: str) -> list[cdk.CfnResource]:
    return [c for c in app.node.find_all() if isinstance(c, cdk.CfnResource) and c.cfn_resource_type == resource_type]


def _first(app: cdk.App, resource_type: str) -> cdk.CfnResource:
    found = _resources(app, resource_type)
    assert found, f"the minimal spec has no {resource_type} to plant a change on"
    return found[0]


def _guard(base, head, *allow: str) -> tuple[int, str]:
    args = ["--base", str(base), "--head", str(head)]
    for allowed in allow:
        args += ["--allow", allowed]
    out = head.parent / "review.md"
    code = main([*args, "--output", str(out)])
    return code, out.read_text()


def _blocked(base, head) -> dict[str, str | None]:
    """Blocking findings as ``TYPE:LogicalId`` -> fate."""
    return {c.key: c.fate for c in review(read_assembly(base), read_assembly(head)).blocking}


# --- what must block -----------------------------------------------------------------------------


@pytest.mark.parametrize("resource_type", ["AWS::RDS::DBInstance", "AWS::ECR::Repository", "AWS::Logs::LogGroup"])
def test_renaming_a_stateful_construct_blocks(minimal, tmp_path, resource_type):
    renamed = {}

    def rename(app):
        resource = _first(app, resource_type)
        renamed["old"] = cdk.Stack.of(resource).resolve(resource.logical_id)
        resource.override_logical_id("Renamed")

    head = _variant(tmp_path, plant=rename)
    code, text = _guard(minimal.outdir, head)
    assert code == 1
    assert _blocked(minimal.outdir, head) == {f"{resource_type}:Renamed": "replaced"}
    assert f"logical ID renamed from `{renamed['old']}`" in text
    # The vanished ID is one shipway pins (shipway/stateful.py): the guard says it is shipway's own construct.
    assert f"`{renamed['old']}` is one of shipway's pinned logical IDs (shipway/stateful.py)" in text


def test_a_bucket_given_a_new_physical_name_blocks(minimal, tmp_path):
    head = _variant(tmp_path, plant=lambda app: _first(app, "AWS::S3::Bucket").add_property_override(
        "BucketName", "planted-new-name"))
    code, text = _guard(minimal.outdir, head)
    assert code == 1
    [(key, fate)] = _blocked(minimal.outdir, head).items()
    assert key.startswith("AWS::S3::Bucket:") and fate == "replaced"
    assert "create-only `BucketName` changes" in text


def test_a_removed_repository_blocks(minimal, tmp_path):
    head = _variant(tmp_path, edit=lambda spec: spec.update(apps={}))
    code, text = _guard(minimal.outdir, head)
    assert code == 1
    blocked = _blocked(minimal.outdir, head)
    repositories = [k for k in blocked if k.startswith("AWS::ECR::Repository:")]
    assert len(repositories) == 2  # the app's images and its build cache
    # CDK retains the repositories: they leave the stack and stay behind, outside any stack.
    assert {blocked[r] for r in repositories} == {"orphaned"}
    assert "### tiny-hello (stack removed)" in text
    # The app's database login is retained too, and the report says its database and role stay in PostgreSQL.
    assert blocked["AWS::SecretsManager::Secret:DatabaseSecret3B817195"] == "orphaned"
    assert "### tiny-hello-dev (stack removed)" in text
    assert "database `hello` and role `hello` stay in the instance with their data" in text


def test_replacement_cascades_through_references_and_a_group_the_database_sits_in_blocks(minimal, tmp_path):
    """A replaced security group replaces its ingress rules (their create-only GroupId is its new ID); the
    database wears it, and cannot be moved to the new group by the same update: blocking."""
    def plant(app):
        [group] = [g for g in _resources(app, "AWS::EC2::SecurityGroup")
                   if cdk.Stack.of(g).stack_name.endswith("-data")]
        group.add_property_override("GroupDescription", "a new description, which is create-only")

    result = review(read_assembly(minimal.outdir), read_assembly(_variant(tmp_path, plant=plant)))
    replaced = {c.resource_type: c for c in result.changes if c.action == "replaced"}
    assert "create-only `GroupDescription` changes" in replaced["AWS::EC2::SecurityGroup"].details[0]
    assert "create-only `GroupId` refers to" in replaced["AWS::EC2::SecurityGroupIngress"].details[0]
    assert [(c.resource_type, c.fate) for c in result.blocking] == [("AWS::EC2::SecurityGroup", "holds DBInstance")]
    (sits,) = [d for d in replaced["AWS::EC2::SecurityGroup"].details if "sits in it" in d]
    assert sits.startswith("`tiny-dev-data/Database") and "(AWS::RDS::DBInstance) sits in it" in sits


def test_growing_past_the_address_plan_replaces_the_database_subnets_and_blocks(tmp_path):
    """The issue's case: laid out for 2 AZs, a third moves the isolated subnets (10.0.48.0/24 -> 10.0.64.0/24).
    The database lives in another stack and reaches them through the subnet group and an SSM parameter."""
    base = _variant(tmp_path, edit=lambda s: s["environments"]["dev"].update(network={"max_azs": 2, "planned_azs": 2}),
                    name="base")
    head = _variant(tmp_path, edit=lambda s: s["environments"]["dev"].update(network={"max_azs": 3, "planned_azs": 3}))
    code, text = _guard(base, head)
    assert code == 1
    blocked = _blocked(base, head)
    assert sorted(blocked.values()) == ["holds DBInstance", "holds DBInstance"]
    assert all(key.startswith("AWS::EC2::Subnet:NetworkIsolatedSubnet") for key in blocked)
    assert "create-only `CidrBlock` changes: `\"10.0.48.0/24\"` → `\"10.0.64.0/24\"`" in text
    assert "(`SubnetGroup` → parameter `/shipway/tiny/dev/vpc/isolated-subnets` → `NetworkIsolatedSubnet1" in text
    assert "No stateful resource" not in text


def test_growing_within_the_address_plan_passes(minimal, tmp_path):
    head = _variant(tmp_path, edit=lambda s: s["environments"]["dev"].update(network={"max_azs": 3}))
    code, text = _guard(minimal.outdir, head)
    assert code == 0, text
    result = review(read_assembly(minimal.outdir), read_assembly(head))
    assert not [c for c in result.changes if c.resource_type == "AWS::EC2::Subnet" and c.action == "replaced"]
    assert [c.action for c in result.changes if c.resource_type == "AWS::EC2::Subnet"] == ["added"] * 3


def test_what_aws_refuses_on_update_blocks(tmp_path):
    """Production 100 -> 50 GB and PostgreSQL 17 -> 16 passed review before: both fail at deploy time."""
    base = _variant(tmp_path, edit=lambda s: s["environments"]["dev"].update(database={"storage_gb": 100}),
                    name="base")
    head = _variant(tmp_path, edit=lambda s: s["environments"]["dev"].update(database={"storage_gb": 50,
                                                                                     "version": "16"}))
    code, text = _guard(base, head)
    assert code == 1
    (key, fate), = _blocked(base, head).items()
    assert key.startswith("AWS::RDS::DBInstance:") and fate == "refused by AWS"
    assert "storage shrinks from 100.0 to 50.0 GB" in text
    assert re.search(r"engine version goes down from 17\.\d+ to 16\.\d+: RDS upgrades in place but never", text)
    grown = _variant(tmp_path, edit=lambda s: s["environments"]["dev"].update(database={"storage_gb": 200}),
                     name="grown")
    assert _guard(base, grown)[0] == 0  # growing storage is an in-place change


def test_a_database_whose_subnet_group_is_replaced_is_replaced(minimal, tmp_path):
    def plant(app):
        _first(app, "AWS::RDS::DBInstance")
        _first(app, "AWS::RDS::DBSubnetGroup").override_logical_id("NewSubnetGroup")

    head = _variant(tmp_path, plant=plant)
    code, text = _guard(minimal.outdir, head)
    assert code == 1
    blocked = _blocked(minimal.outdir, head)
    assert [fate for key, fate in blocked.items() if key.startswith("AWS::RDS::DBInstance:")] == ["replaced"]
    assert "create-only `DBSubnetGroupName` changes" in text
    # and the database keeps its name, so CloudFormation could not even create the replacement
    assert "it keeps its custom `DBInstanceIdentifier`" in text


def test_a_conditionally_create_only_change_warns_and_passes(minimal, tmp_path):
    head = _variant(tmp_path,
                    edit=lambda spec: spec["environments"]["dev"].update(database={"backup_retention_days": 14}))
    code, text = _guard(minimal.outdir, head)
    assert code == 0, text
    assert "`BackupRetentionPeriod`: `7` → `14`" in text
    assert "`BackupRetentionPeriod` changes and may force a replacement for some values" in text


# --- what must pass ------------------------------------------------------------------------------


def test_a_harmless_change_passes(minimal, tmp_path):
    def edit(spec):
        spec["apps"]["hello"]["processes"]["web"]["count"] = 3  # the service's desired count
        spec["apps"]["hello"]["log_retention_days"] = 90  # a stateful resource, updated in place

    head = _variant(tmp_path, edit=edit)
    code, text = _guard(minimal.outdir, head)
    assert code == 0, text
    assert "`RetentionInDays`: `30` → `90`" in text
    assert "No stateful resource is destroyed, replaced or orphaned" in text


def test_an_assembly_against_itself_has_no_changes(minimal):
    code, text = _guard(minimal.outdir, minimal.outdir)
    assert code == 0
    assert "replaced: 0 · removed: 0 · changed: 0 · added: 0" in text


def test_allow_lets_a_reviewed_change_through(minimal, tmp_path):
    head = _variant(tmp_path, plant=lambda app: _first(app, "AWS::ECR::Repository").override_logical_id("Renamed"))
    assert _guard(minimal.outdir, head)[0] == 1
    assert _guard(minimal.outdir, head, "AWS::S3::Bucket:Renamed")[0] == 1  # the type must match too
    code, text = _guard(minimal.outdir, head, "AWS::ECR::Repository:Renamed", "AWS::Logs::LogGroup:Stale")
    assert code == 0
    assert "Allowed after review: `AWS::ECR::Repository:Renamed` (replaced)" in text
    assert "`AWS::Logs::LogGroup:Stale`" in text  # a stale --allow is reported
    assert _guard(minimal.outdir, head, "tiny-hello/AWS::ECR::Repository:Renamed")[0] == 0
    assert _guard(minimal.outdir, head, "tiny-other/AWS::ECR::Repository:Renamed")[0] == 1


def test_markdown_has_each_section(tmp_path):
    def with_extra_app(spec):
        spec["apps"]["extra"] = {"source": {"codecommit": "extra"}, "processes": {"worker": {"command": "run"}}}

    def changed(spec):
        spec["apps"]["hello"]["log_retention_days"] = 90
        spec["apps"]["fresh"] = {"source": {"codecommit": "fresh"}, "processes": {"worker": {"command": "run"}}}

    base = _variant(tmp_path, edit=with_extra_app, name="base")
    head = _variant(tmp_path, edit=changed, name="head",
                    plant=lambda app: _first(app, "AWS::ECR::Repository").override_logical_id("Renamed"))
    code, text = _guard(base, head)
    assert code == 1
    for section in ("**Replaced**", "**Removed**", "**Changed**", "**Added**", "| stack | resource | type | fate |",
                    "### tiny-fresh (new stack)", "### tiny-extra (stack removed)", "### tiny-hello-dev"):
        assert section in text, section


def test_cdk_diff_adds_the_cdks_own_view_offline(minimal, tmp_path, monkeypatch):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    def plant(app: cdk.App) -> None:
        _first(app, "AWS::ECR::Repository").override_logical_id("Renamed")
        # and a change in the runtime stack, whose services carry the deployment-alarm INFO
        _first(app, "AWS::CloudWatch::Alarm").add_property_override("AlarmDescription", "planted")

    head = _variant(tmp_path, plant=plant)
    out = tmp_path / "review.md"
    assert main(["--base", str(minimal.outdir), "--head", str(head), "--cdk-diff", "--output", str(out)]) == 1
    text = out.read_text()
    assert "<details><summary>cdk diff</summary>" in text
    assert "[+] AWS::ECR::Repository Repository Renamed" in text
    assert "planted" in text
    assert "Deployment alarm" not in text  # the acknowledged INFO (shipway/acknowledged.py), as in shipway diff


def test_the_base_ref_is_synthesized_from_git_with_this_toolchain(minimal, tmp_path, capsys):
    """What `make review` runs: HEAD's committed tree, synthesized by its own app.py through the CDK CLI."""
    base = synthesize_ref("HEAD", tmp_path / "base", spec=SPECS.relative_to(ROOT) / "minimal.yaml")
    assert sorted(read_assembly(base)) == sorted(read_assembly(minimal.outdir))
    with pytest.raises(BaseRefError, match="git archive no-such-ref"):
        synthesize_ref("no-such-ref", tmp_path / "nothing", spec=SPECS / "minimal.yaml")
    assert main(["--base-ref", "no-such-ref", "--head", str(minimal.outdir)]) == 2
    assert "git archive no-such-ref" in capsys.readouterr().err


def test_cli_reports_an_unreadable_assembly(tmp_path, capsys):
    assert main(["--base", str(tmp_path), "--head", str(tmp_path)]) == 2
    assert "not a synthesized cloud assembly" in capsys.readouterr().err


# --- the rules it reads ----------------------------------------------------------------------------


def test_create_only_properties_come_from_the_registry_schemas():
    assert ("DBInstanceIdentifier",) in replacement("AWS::RDS::DBInstance").create_only
    assert ("EncryptionConfiguration", "KmsKey") in replacement("AWS::ECR::Repository").create_only
    assert ("BackupRetentionPeriod",) in replacement("AWS::RDS::DBInstance").conditional
    assert not replacement("AWS::Nothing::Here").known


def test_nested_pointers_reach_into_lists_and_stop_at_intrinsics():
    properties = {"Rules": [{"Name": "a"}, {"Name": {"Ref": "P"}}], "Config": {"Fn::If": ["C", {"K": 1}, {"K": 2}]}}
    assert _at(properties, ("Rules", "*", "Name")) == ["a", {"Ref": "P"}]
    assert _at(properties, ("Config", "K")) == [{"Fn::If": ["C", {"K": 1}, {"K": 2}]}]
    assert _at(properties, ("Missing", "K")) == ["(absent)"]
