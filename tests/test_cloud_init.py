"""The pools' cloud-init: what it writes, that it is deterministic, that `cloud-init schema` accepts it,
and that the launch templates carry exactly the rendered document."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml

from shipway import naming
from shipway.constructs.pools import render_user_data
from shipway.props.pools import pool_props
from shipway.spec import load_spec
from shipway.spec.model import AsgPool, Pool, SpotFleetPool

from .conftest import SHIPPED

SPEC = load_spec(SHIPPED)
SHIPPED_POOLS = [
    (env, name, pool) for env, environment in SPEC.environments.items()
    for name, pool in environment.cluster.pools.items()
]
EDGE_POOLS: dict[str, Pool] = {
    "bare": AsgPool.model_validate({"instance_types": ["t3.small"]}),
    "many": AsgPool.model_validate(
        {"instance_types": ["m6i.large"], "metadata": {f"key{i}": f"value {i}" for i in range(9)}, "stop_timeout": 30}
    ),
    "ondemand": AsgPool.model_validate(
        {"instance_types": ["m6i.large", "m5.large"], "spot": False, "metadata": {"tier": "steady"}}
    ),
    "fleet": SpotFleetPool.model_validate(
        {"provisioning": "spot-fleet", "instance_types": ["c6i.large"], "capacity": 3,
         "metadata": {"a.b/c-d_e": "x@y:z"}}
    ),
}
ALL = [(f"{env}-{name}", naming.cluster_name("acme", env), pool_props("acme", env, name, pool))
       for env, name, pool in SHIPPED_POOLS] + [
    (f"edge-{name}", "acme-edge", pool_props("acme", "edge", name, pool)) for name, pool in EDGE_POOLS.items()
]


def ecs_config(document: str) -> dict[str, str]:
    """The ``KEY=value`` lines the document writes to /etc/ecs/ecs.config."""
    (entry,) = [f for f in yaml.safe_load(document)["write_files"] if f["path"] == "/etc/ecs/ecs.config"]
    return dict(line.split("=", 1) for line in entry["content"].splitlines())


@pytest.mark.parametrize("case, cluster, pool", ALL, ids=[a[0] for a in ALL])
def test_ecs_config_holds_cluster_attributes_draining_and_timeouts(case, cluster, pool):
    document = render_user_data(cluster=cluster, pool=pool)
    assert document.startswith("#cloud-config\n")
    config = ecs_config(document)
    assert config["ECS_CLUSTER"] == cluster
    attributes = json.loads(config["ECS_INSTANCE_ATTRIBUTES"])
    assert attributes == {**pool.metadata, "shipway.pool": pool.name}
    assert config["ECS_INSTANCE_ATTRIBUTES"] == json.dumps(attributes, sort_keys=True, separators=(",", ":"))
    assert config["ECS_CONTAINER_STOP_TIMEOUT"] == f"{pool.stop_timeout}s"
    assert config["ECS_ENABLE_CONTAINER_METADATA"] == "true"
    if pool.buys_spot:
        assert config["ECS_ENABLE_SPOT_INSTANCE_DRAINING"] == "true"
    else:
        assert "ECS_ENABLE_SPOT_INSTANCE_DRAINING" not in config
    assert config["ECS_AWSVPC_BLOCK_IMDS"] == "true"


def test_the_shipped_spec_covers_both_provisionings_and_metadata():
    assert {type(pool) for _, _, pool in SHIPPED_POOLS} == {AsgPool, SpotFleetPool}
    assert {pool.spot for _, _, pool in SHIPPED_POOLS} == {True, False}
    assert len(EDGE_POOLS["many"].metadata) + 1 == 10  # ECS's limit of custom attributes per instance


def test_rendering_is_deterministic_whatever_the_metadata_order():
    pool = EDGE_POOLS["many"]
    reversed_pool = pool.model_copy(update={"metadata": dict(reversed(list(pool.metadata.items())))})
    first = render_user_data(cluster="c", pool=pool_props("acme", "edge", "many", pool))
    assert render_user_data(cluster="c", pool=pool_props("acme", "edge", "many", reversed_pool)) == first
    assert render_user_data(cluster="c", pool=pool_props("acme", "edge", "many", pool)) == first


# /usr/bin too: a virtualenv's PATH may leave the system's directories out.
CLOUD_INIT = shutil.which("cloud-init", path=f"{os.environ.get('PATH', '')}{os.pathsep}/usr/bin")


@pytest.mark.system
@pytest.mark.skipif(CLOUD_INIT is None, reason="needs Debian's cloud-init package: apt-get install cloud-init")
@pytest.mark.parametrize("case, cluster, pool", ALL, ids=[a[0] for a in ALL])
def test_cloud_init_schema_accepts_the_document(case, cluster, pool, tmp_path):
    path = tmp_path / "user-data.yaml"
    path.write_text(render_user_data(cluster=cluster, pool=pool))
    result = subprocess.run([CLOUD_INIT, "schema", "--config-file", str(path)], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid cloud-config" in result.stdout


@pytest.mark.system
@pytest.mark.skipif(CLOUD_INIT is None, reason="needs Debian's cloud-init package: apt-get install cloud-init")
def test_cloud_init_schema_can_fail(tmp_path):
    """The schema check above is a real check: a wrong document fails it."""
    path = tmp_path / "user-data.yaml"
    path.write_text("#cloud-config\nwrite_files:\n  - path: /etc/ecs/ecs.config\n    permissions: 644\n    bogus: 1\n")
    result = subprocess.run([CLOUD_INIT, "schema", "--config-file", str(path)], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode != 0


@pytest.mark.parametrize("env, name, pool", SHIPPED_POOLS, ids=[f"{e}-{n}" for e, n, _ in SHIPPED_POOLS])
def test_launch_templates_carry_exactly_the_rendered_document(shipped_templates, env, name, pool):
    template = shipped_templates[naming.platform_stack("acme", env)]
    prefix = "Pools" + name.capitalize() + "LaunchTemplate"
    (launch_template,) = [
        r for logical_id, r in template["Resources"].items()
        if r["Type"] == "AWS::EC2::LaunchTemplate" and logical_id.startswith(prefix)
    ]
    expected = render_user_data(cluster=naming.cluster_name("acme", env), pool=pool_props("acme", env, name, pool))
    assert launch_template["Properties"]["LaunchTemplateData"]["UserData"] == {"Fn::Base64": expected}
