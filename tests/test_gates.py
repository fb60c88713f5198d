"""Every template of every spec passes cfn-lint and checkov clean; synth is offline, agnostic and deterministic."""

from __future__ import annotations

import json

import pytest

from shipway.spec import load_spec
from shipway.synth import synthesize

from .checkov_gate import CheckovRun, run_checkov
from .conftest import SHIPPED
from .lint import cfn_lint


@pytest.mark.parametrize("spec", ["shipped", "minimal", "pinned", "s3_registry"])
def test_cfn_lint_has_no_findings(spec, request):
    synthesized = request.getfixturevalue(spec)
    assert cfn_lint(synthesized.outdir) == []


def test_stack_names_are_the_contract(shipped_templates):
    assert sorted(shipped_templates) == sorted(
        [
            "acme-staging-platform", "acme-staging-data", "acme-production-platform", "acme-production-data",
            "acme-minne", "acme-minne-staging", "acme-minne-production",
            "acme-blog", "acme-blog-staging", "acme-blog-production",
        ]
    )


def test_templates_need_no_bootstrap_and_no_dummy_azs(shipped):
    for name, template in shipped.templates().items():
        text = json.dumps(template)
        assert "BootstrapVersion" not in text, name
        assert "dummy" not in text, name
        assert "CheckBootstrapVersion" not in template.get("Rules", {}), name


def test_environment_agnostic_azs_come_from_getazs(shipped_templates):
    production = json.dumps(shipped_templates["acme-production-platform"])
    # three AZs in production, although CDK's agnostic default would stop at two
    assert '{"Fn::Select": [2, {"Fn::GetAZs": ""}]}' in production


def test_cdk_path_metadata_lets_cfn_lint_recognize_cdk(shipped_templates):
    for name, template in shipped_templates.items():
        resources = template["Resources"].values()
        assert all("aws:cdk:path" in r.get("Metadata", {}) for r in resources), name


def test_two_synths_are_byte_identical(shipped, tmp_path):
    again = synthesize(load_spec(SHIPPED), tmp_path)
    for template in shipped.outdir.glob("*.template.json"):
        assert (again.outdir / template.name).read_bytes() == template.read_bytes(), template.name


def test_pinned_environment_uses_the_given_zones(pinned):
    platform = pinned.templates()["pinned-prod-platform"]
    zones = {
        r["Properties"]["AvailabilityZone"]
        for r in platform["Resources"].values()
        if r["Type"] == "AWS::EC2::Subnet"
    }
    assert zones == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}
    assert pinned.stack("pinned-prod-platform").region == "eu-west-1"


# --- checkov, the second gate ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkov(shipped, minimal, pinned, s3_registry, tmp_path_factory) -> CheckovRun:
    outdirs = {"shipped": shipped.outdir, "minimal": minimal.outdir, "pinned": pinned.outdir,
               "s3_registry": s3_registry.outdir}
    return run_checkov(outdirs, tmp_path_factory.mktemp("checkov"),
                       as_is=("s3_registry", "boxy-dev-platform.template.json"))


def test_checkov_fails_no_check_that_is_not_skipped_with_a_reason(checkov):
    assert sorted(checkov.failed - set(checkov.skips)) == []


def test_every_checkov_skip_answers_a_real_finding(checkov):
    assert sorted(set(checkov.skips) - checkov.failed) == []
    for finding, comment in checkov.skips.items():
        assert len(comment.split()) >= 5, (finding, comment)


def test_checkov_reads_the_skips_where_shipway_writes_them(checkov):
    skipped_here = {f for f in checkov.skips if f[0] == "s3_registry/boxy-dev-platform.template.json"}
    assert skipped_here, "the s3 registry's platform carries skips"
    assert checkov.as_is_failed == set()
    assert checkov.as_is_skipped == skipped_here
