"""CloudFormation's per-stack quotas hold at scale, and adding apps never touches the platform or data stacks.

One synth of a 52-app spec (the shipped two plus 50 copies, see bench/specs.py) serves every test here; the
2-app side is the session's ``shipped`` fixture.
"""

from __future__ import annotations

import time

import pytest

from bench.budgets import LIMITS, budget, budgets, stack_templates
from bench.specs import shipped_data, spec_with_apps
from shipway import naming
from shipway.spec import validate_spec
from shipway.synth import synthesize

ADDED = 50


@pytest.fixture(scope="session")
def scaled(tmp_path_factory):
    """The shipped spec plus 50 apps, synthesized once (cdk-nag included); prints how long that took."""
    base = shipped_data()
    spec = validate_spec(spec_with_apps(base, len(base["apps"]) + ADDED), "52 apps")
    started = time.perf_counter()
    synthesized = synthesize(spec, tmp_path_factory.mktemp("scaled"))
    print(f"\n52-app synth: {time.perf_counter() - started:.1f} s")
    return spec, synthesized


def test_the_scaled_spec_has_every_stack(scaled):
    spec, synthesized = scaled
    assert len(spec.apps) == 52
    expected = {name for _, name in naming.stack_names_with_paths(spec)}
    assert set(stack_templates(synthesized.outdir)) == expected
    assert len(expected) == 2 * len(spec.environments) + 52 * (1 + len(spec.environments))


@pytest.mark.parametrize("quota", sorted(LIMITS))
def test_every_stack_stays_within_cloudformation_quotas_at_52_apps(scaled, quota):
    _, synthesized = scaled
    over = {b.stack: b.over()[quota] for b in budgets(synthesized.outdir) if quota in b.over()}
    assert over == {}, f"{quota} over CloudFormation's limit of {LIMITS[quota]}: {over}"


def test_an_app_costs_the_same_whatever_the_number_of_apps(scaled, shipped):
    """Each copy's stacks hold as many resources as its original's: no app stack grows with the number of apps."""
    spec, synthesized = scaled
    two = {b.stack: b.resources for b in budgets(shipped.outdir)}
    many = {b.stack: b.resources for b in budgets(synthesized.outdir)}
    originals = shipped_data()["apps"]
    for app in spec.apps:
        original = app if app in originals else app.rsplit("-", 1)[0]
        pairs = [(naming.app_stack(spec.name, app), naming.app_stack(spec.name, original))]
        pairs += [
            (naming.app_env_stack(spec.name, app, env), naming.app_env_stack(spec.name, original, env))
            for env in spec.environments
        ]
        for stack, twin in pairs:
            assert many[stack] == two[twin], f"{stack} holds {many[stack]} resources, {twin} {two[twin]}"


def test_platform_and_data_templates_are_byte_identical_with_2_and_52_apps(scaled, shipped):
    spec, synthesized = scaled
    two, many = stack_templates(shipped.outdir), stack_templates(synthesized.outdir)
    shared = [
        stack(spec.name, env) for env in spec.environments for stack in (naming.platform_stack, naming.data_stack)
    ]
    for name in shared:
        assert many[name].read_bytes() == two[name].read_bytes(), f"{name} changes when apps are added"


def test_the_budget_counts_what_cloudformation_counts(tmp_path):
    """A template with a known shape is counted exactly (guards the counting the quota tests rely on)."""
    path = tmp_path / "t.template.json"
    path.write_text(
        '{"Parameters": {"P": {"Type": "String"}},'
        ' "Resources": {"A": {"Type": "AWS::SNS::Topic",'
        ' "Properties": {"DisplayName": "{{resolve:ssm:/a}} {{resolve:secretsmanager:b}}"}}},'
        ' "Outputs": {"O": {"Value": "x"}, "Q": {"Value": "y"}}}'
    )
    counted = budget("t", path)
    assert (counted.resources, counted.outputs, counted.parameters, counted.dynamic_references) == (1, 2, 1, 2)
    assert counted.bytes == path.stat().st_size
    assert counted.over() == {}
