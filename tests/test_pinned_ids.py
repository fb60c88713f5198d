"""The logical ID of every stateful resource shipway creates, pinned (shipway/stateful.py, the one contract).

CloudFormation knows a resource by its logical ID: a renamed construct is a new resource, and the old one is
deleted with its data (or orphaned, when retained). So every stateful ID of every stack kind is listed in
``shipway.stateful.PINNED_IDS``, and a change to that table is a decision a reviewer makes, never a side
effect. Stateful is what the review guard calls stateful (``shipway.stateful.is_stateful``): the types in
``STATEFUL_TYPES``, and anything whose DeletionPolicy keeps it (Retain, RetainExceptOnCreate, Snapshot).

Checked on the shipped spec, tests/specs/minimal.yaml and tests/specs/s3-registry.yaml, which between them
give rise to every pinned ID (the conditional ones included).
"""

from __future__ import annotations

import re

import pytest

from shipway import naming
from shipway.spec import Spec, load_spec
from shipway.stateful import APP, APP_ENV, CONDITIONAL_IDS, DATA, PINNED_IDS, PLATFORM, STATEFUL_TYPES, stateful_ids
from shipway.synth import ROOT

from .conftest import SHIPPED, SPECS

SPEC_FILES = {"shipped": SHIPPED, "minimal": SPECS / "minimal.yaml", "s3_registry": SPECS / "s3-registry.yaml"}


def stack_kinds(spec: Spec) -> dict[str, str]:
    """Stack name -> kind (``shipway.stateful``'s PLATFORM, DATA, APP, APP_ENV), by shipway.naming."""
    kinds = {}
    for env in spec.environments:
        kinds[naming.platform_stack(spec.name, env)] = PLATFORM
        kinds[naming.data_stack(spec.name, env)] = DATA
    for app in spec.apps:
        kinds[naming.app_stack(spec.name, app)] = APP
        for env in spec.environments:
            kinds[naming.app_env_stack(spec.name, app, env)] = APP_ENV
    return kinds


def explain(stack: str, template: dict, pinned: dict[str, str], actual: dict[str, str]) -> str:
    lines = [f"stateful logical IDs changed in {stack}:"]
    for logical_id, kind in sorted(pinned.items()):
        if logical_id not in actual and logical_id not in CONDITIONAL_IDS:
            lines.append(f"  - {kind} {logical_id!r} is gone (or its ID changed). Deploying this makes CloudFormation "
                         "create a new resource and DELETE or ORPHAN the old one: a rename means DATA LOSS. Restore "
                         "the construct's ID and path (or pin the old ID with override_logical_id).")
        elif logical_id in actual and actual[logical_id] != kind:
            lines.append(f"  - {logical_id!r} changed type from {kind} to {actual[logical_id]}: that replaces it.")
    for logical_id, kind in sorted(actual.items()):
        if logical_id not in pinned:
            path = template["Resources"][logical_id].get("Metadata", {}).get("aws:cdk:path", "?")
            absent = sorted(i for i, k in pinned.items() if k == kind and i not in actual)
            lines.append(f"  - new {kind} {logical_id!r} (construct {path}). If it is a renamed one (pinned {kind} "
                         f"not here: {', '.join(absent) or 'none'}), restore the old ID: a rename means DATA LOSS; "
                         f"if it is genuinely new, pin it: add {logical_id!r}: {kind!r} to its stack kind's table in "
                         "shipway/stateful.py (PINNED_IDS), and to CONDITIONAL_IDS if only some stacks have it.")
    return "\n".join(lines)


def kept(pinned: dict[str, str], actual: dict[str, str]) -> bool:
    """Every unconditional pin is there with its type, and nothing stateful is unpinned."""
    required = {i: kind for i, kind in pinned.items() if i not in CONDITIONAL_IDS}
    return required.items() <= actual.items() <= pinned.items()


@pytest.mark.parametrize("spec", sorted(SPEC_FILES))
def test_stateful_logical_ids_are_pinned(request, spec):
    kinds = stack_kinds(load_spec(SPEC_FILES[spec]))
    templates = request.getfixturevalue(spec).templates()
    assert sorted(templates) == sorted(kinds), "a stack is gone: every stateful resource in it would be deleted"
    for stack, template in templates.items():
        pinned, actual = PINNED_IDS[kinds[stack]], stateful_ids(template)
        assert kept(pinned, actual), explain(stack, template, pinned, actual)


def test_every_pinned_id_is_in_some_stack_of_the_checked_specs(request):
    """A conditional pin that no checked spec gives rise to would go unchecked: it must show up somewhere."""
    seen: set[tuple[str, str, str]] = set()
    for spec, path in SPEC_FILES.items():
        kinds = stack_kinds(load_spec(path))
        for stack, template in request.getfixturevalue(spec).templates().items():
            seen |= {(kinds[stack], i, kind) for i, kind in stateful_ids(template).items()}
    pinned = {(stack_kind, i, kind) for stack_kind, pins in PINNED_IDS.items() for i, kind in pins.items()}
    assert pinned - seen == set()


def test_a_rename_fails_with_a_message_that_says_what_changed(shipped_templates):
    template = shipped_templates["acme-minne"]
    renamed = {**template, "Resources": {("Renamed" if i == "Repository22E53BBD" else i): r
                                         for i, r in template["Resources"].items()}}
    actual = stateful_ids(renamed)
    assert not kept(PINNED_IDS[APP], actual)
    message = explain("acme-minne", renamed, PINNED_IDS[APP], actual)
    assert "new AWS::ECR::Repository 'Renamed' (construct acme-minne/Repository/Resource)" in message
    assert "pinned AWS::ECR::Repository not here: Repository22E53BBD), restore the old ID: a rename means DATA LOSS" \
        in message


def test_a_vanished_unconditional_pin_says_data_loss(shipped_templates):
    template = shipped_templates["acme-staging-data"]
    renamed = {**template, "Resources": {("Renamed" if i == "DatabaseF44359DD" else i): r
                                         for i, r in template["Resources"].items()}}
    message = explain("acme-staging-data", renamed, PINNED_IDS[DATA], stateful_ids(renamed))
    assert "AWS::RDS::DBInstance 'DatabaseF44359DD' is gone" in message and "DATA LOSS" in message
    assert "new AWS::RDS::DBInstance 'Renamed'" in message


def test_docs_list_exactly_the_stateful_types():
    """docs/review.md says what stateful means; it lists the contract's types, no more and no fewer."""
    text = (ROOT / "docs" / "review.md").read_text()
    paragraph = next(p for p in text.split("\n\n") if p.startswith("**Stateful** means"))
    assert set(re.findall(r"`(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)`", paragraph)) == STATEFUL_TYPES
