"""shipway.assembly, the one reader of a cloud assembly: stacks, templates, SSM parameters and deploy order."""

from __future__ import annotations

import json

import pytest

from shipway import naming
from shipway.assembly import AssemblyError, UnpublishedParameter, deploy_order, publishers, read_assembly


def test_it_reads_every_stack_of_the_manifest_in_order(minimal):
    stacks = read_assembly(minimal.outdir)
    manifest = json.loads((minimal.outdir / "manifest.json").read_text())
    artifacts = manifest["artifacts"]
    assert list(stacks) == [name for name, a in artifacts.items() if a["type"] == "aws:cloudformation:stack"]
    data = stacks["tiny-dev-data"]
    assert data.template == json.loads((minimal.outdir / "tiny-dev-data.template.json").read_text())
    assert data.termination_protection
    assert data.region is None  # environment-agnostic


def test_the_platform_publishes_what_the_data_stack_reads(minimal):
    stacks = read_assembly(minimal.outdir)
    vpc_id = naming.parameter("tiny", "dev", "vpc/id")
    assert vpc_id in stacks["tiny-dev-platform"].published()
    assert vpc_id in stacks["tiny-dev-data"].read().values()
    assert publishers(stacks.values())[vpc_id][0] == "tiny-dev-platform"


def test_stacks_deploy_after_the_stacks_whose_parameters_they_read(shipped):
    order = [s.name for s in deploy_order(read_assembly(shipped.outdir).values())]
    for env in ("staging", "production"):
        platform, data = naming.platform_stack("acme", env), naming.data_stack("acme", env)
        assert order.index(platform) < order.index(data)
        for app in ("minne", "blog"):
            assert order.index(platform) < order.index(naming.app_stack("acme", app))
            assert order.index(naming.app_stack("acme", app)) < order.index(naming.app_env_stack("acme", app, env))
            assert order.index(data) < order.index(naming.app_env_stack("acme", app, env))


def test_a_parameter_no_stack_publishes_fails_first_with_its_name(shipped):
    stacks = [s for s in read_assembly(shipped.outdir).values() if s.name != naming.platform_stack("acme", "staging")]
    with pytest.raises(UnpublishedParameter, match=r"^acme-staging-data reads SSM parameter /shipway/acme/staging/\S+, "
                                                   r"which no stack publishes$"):
        deploy_order(stacks)


def test_a_directory_without_a_manifest_is_one_clear_error(tmp_path):
    with pytest.raises(AssemblyError, match=r": not a synthesized cloud assembly \("):
        read_assembly(tmp_path)
