"""Growing an environment never renumbers a subnet: the address plan is laid out for ``planned_azs`` up front.

A subnet's CIDR block cannot change in place: a new one replaces the subnet, and the database's subnet group
(and everything in the old subnets) would have to move. So 2, 3 and 4 AZs, more NAT gateways and a new pool must
leave every existing subnet's CIDR exactly where it was.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from shipway.spec import validate_spec
from shipway.stacks.platform import PlatformStack


def _subnets(max_azs: int, nat_gateways: int, pools: dict | None = None, **network) -> dict[str, str]:
    spec = validate_spec({
        "name": "grow",
        "environments": {"dev": {"network": {"max_azs": max_azs, "nat_gateways": nat_gateways, **network},
                                 "cluster": {"pools": pools or {}}}},
    })
    stack = PlatformStack(cdk.App(), spec=spec, env="dev")
    found = Template.from_stack(stack).find_resources("AWS::EC2::Subnet")
    return {logical_id: subnet["Properties"]["CidrBlock"] for logical_id, subnet in found.items()}


@pytest.fixture(scope="module")
def plans() -> dict[int, dict[str, str]]:
    pool = {"more": {"instance_types": ["c6i.large"], "min": 0, "max": 2}}
    return {2: _subnets(2, 1), 3: _subnets(3, 2), 4: _subnets(4, 4, pools=pool)}


def test_growing_from_2_to_3_to_4_azs_keeps_every_existing_subnet(plans):
    assert len(plans[2]) == 6 and len(plans[3]) == 9 and len(plans[4]) == 12  # public, private, isolated per AZ
    for smaller, larger in ((2, 3), (3, 4), (2, 4)):
        kept = {logical_id: plans[larger][logical_id] for logical_id in plans[smaller]}
        assert kept == plans[smaller], f"{smaller} -> {larger} AZs renumbers a subnet"


def test_the_plan_written_out(plans):
    """Six AZs' worth of room in 10.0.0.0/16: public /24s, private /20s, isolated /24s, each group in order."""
    by_kind = {}
    for logical_id, cidr in sorted(plans[4].items()):
        kind = next(k for k in ("Public", "Private", "Isolated") if k in logical_id)
        by_kind.setdefault(kind, []).append(cidr)
    assert by_kind == {
        "Public": ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"],
        "Private": ["10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20", "10.0.64.0/20"],
        "Isolated": ["10.0.112.0/24", "10.0.113.0/24", "10.0.114.0/24", "10.0.115.0/24"],
    }


def test_a_plan_for_exactly_max_azs_renumbers_when_it_grows():
    """What planned_azs prevents: laid out for 2 AZs only, a third moves the isolated subnets (the issue's case)."""
    two, three = _subnets(2, 1, planned_azs=2), _subnets(3, 1, planned_azs=3)
    moved = {k: (two[k], three[k]) for k in two if two[k] != three[k]}
    assert moved and all("Isolated" in k for k in moved)
