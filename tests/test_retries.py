"""A failed first create can be run again: nothing a stack creates survives its own create rollback.

``DeletionPolicy: Retain`` keeps a resource when its stack's create fails and rolls back; a named one (a log
group, a repository, a bucket) then makes every retry fail with "already exists". ``RetainExceptOnCreate`` keeps
it on later deletes and replacements, and lets the rollback of a failed create remove it. The database keeps
``Snapshot``.
"""

from __future__ import annotations

import pytest

from shipway.review.compare import KEEPING_POLICIES

SPECS = ["shipped", "minimal", "pinned", "s3_registry"]


def _resources(request, name):
    for stack, template in request.getfixturevalue(name).templates().items():
        for logical_id, resource in template.get("Resources", {}).items():
            yield stack, logical_id, resource


@pytest.mark.parametrize("name", SPECS)
def test_no_resource_is_retained_on_a_failed_create(request, name):
    retained = [f"{stack}/{logical_id} ({resource['Type']})"
                for stack, logical_id, resource in _resources(request, name)
                if resource.get("DeletionPolicy") == "Retain"]
    assert retained == []


@pytest.mark.parametrize("name", SPECS)
def test_what_is_kept_still_outlives_its_stack(request, name):
    """Whatever is kept on delete keeps its data on replacement too: RetainExceptOnCreate, or the database's
    Snapshot."""
    kept = {f"{stack}/{logical_id}": (resource["Type"], resource["DeletionPolicy"], resource.get("UpdateReplacePolicy"))
            for stack, logical_id, resource in _resources(request, name)
            if resource.get("DeletionPolicy") in KEEPING_POLICIES}
    assert kept
    for where, (kind, deletion, replace) in kept.items():
        if kind == "AWS::RDS::DBInstance":
            assert (deletion, replace) == ("Snapshot", "Snapshot"), where
        else:
            assert (deletion, replace) == ("RetainExceptOnCreate", "Retain"), where
    databases = [policy for kind, policy, _ in kept.values() if kind == "AWS::RDS::DBInstance"]
    assert databases == ["Snapshot"] * len(databases)


def test_the_named_kinds_the_issue_lists_are_among_them(shipped_templates):
    kinds = {resource["Type"] for template in shipped_templates.values()
             for resource in template["Resources"].values() if resource.get("DeletionPolicy") == "RetainExceptOnCreate"}
    assert {"AWS::Logs::LogGroup", "AWS::ECR::Repository", "AWS::CodeCommit::Repository", "AWS::S3::Bucket"} <= kinds
