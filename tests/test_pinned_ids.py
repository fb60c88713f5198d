"""The logical ID of every stateful resource in the shipped spec's templates, pinned.

CloudFormation knows a resource by its logical ID. Renaming a construct (or moving it under another parent)
changes that ID, and CloudFormation then creates a new resource and deletes the old one: the database, its
secret, the bucket, the repository or the log group is gone with its data (or orphaned, when retained).
So the list below is explicit, and a change to it is a decision a reviewer makes, never a side effect.

Stateful here is what the review guard calls stateful (``shipway.review.compare.is_stateful``): the types in
``STATEFUL_TYPES``, and anything whose DeletionPolicy keeps it (Retain, RetainExceptOnCreate, Snapshot).
"""

from __future__ import annotations

import pytest

from shipway.review.compare import is_stateful

# stack -> {logical ID: type}. A new stateful resource: add it here. A vanished one: read the failure.
PINNED: dict[str, dict[str, str]] = {
    "acme-staging-platform": {
        "NetworkFlowLogs2BEC3212": "AWS::Logs::LogGroup",
        "ClusterExecLogs956D313E": "AWS::Logs::LogGroup",
        "RouterAccessLogsBE6D68A9": "AWS::S3::Bucket",
        "AlarmsKey3C2381B3": "AWS::KMS::Key",
        "LogsKey195F8DFC": "AWS::KMS::Key",
    },
    "acme-staging-data": {
        "DatabaseConnectionSecret3AAAD636": "AWS::SecretsManager::Secret",
        "DatabaseF44359DD": "AWS::RDS::DBInstance",
        "DatabaseLogsPostgresqlA9BDE778": "AWS::Logs::LogGroup",
        "DatabaseLogsUpgrade2579E242": "AWS::Logs::LogGroup",
    },
    "acme-production-platform": {
        "NetworkFlowLogs2BEC3212": "AWS::Logs::LogGroup",
        "ClusterExecLogs956D313E": "AWS::Logs::LogGroup",
        "RouterAccessLogsBE6D68A9": "AWS::S3::Bucket",
        "AlarmsKey3C2381B3": "AWS::KMS::Key",
        "LogsKey195F8DFC": "AWS::KMS::Key",
    },
    "acme-production-data": {
        "DatabaseConnectionSecret3AAAD636": "AWS::SecretsManager::Secret",
        "DatabaseF44359DD": "AWS::RDS::DBInstance",
        "DatabaseLogsPostgresqlA9BDE778": "AWS::Logs::LogGroup",
        "DatabaseLogsUpgrade2579E242": "AWS::Logs::LogGroup",
    },
    "acme-minne": {
        "Repository22E53BBD": "AWS::ECR::Repository",
        "BuildCache8E743806": "AWS::ECR::Repository",
        "LoadTestRepository789554E7": "AWS::ECR::Repository",
        "DeliveryArtifactsKey52943D36": "AWS::KMS::Key",
        "DeliveryArtifactsAC79D864": "AWS::S3::Bucket",
        "DeliveryLogsE7964E8F": "AWS::Logs::LogGroup",
        "SourceRepository841EE08B": "AWS::CodeCommit::Repository",
    },
    "acme-minne-staging": {
        "Logs6819BB44": "AWS::Logs::LogGroup",
        "LoadTestResultsB968C8BB": "AWS::S3::Bucket",
        "DatabaseSecret3B817195": "AWS::SecretsManager::Secret",
    },
    "acme-minne-production": {
        "Logs6819BB44": "AWS::Logs::LogGroup",
        "DatabaseSecret3B817195": "AWS::SecretsManager::Secret",
    },
    "acme-blog": {
        "Repository22E53BBD": "AWS::ECR::Repository",
        "BuildCache8E743806": "AWS::ECR::Repository",
        "DeliveryArtifactsKey52943D36": "AWS::KMS::Key",
        "DeliveryArtifactsAC79D864": "AWS::S3::Bucket",
        "DeliveryLogsE7964E8F": "AWS::Logs::LogGroup",
    },
    "acme-blog-staging": {
        "Logs6819BB44": "AWS::Logs::LogGroup",
        "DatabaseSecret3B817195": "AWS::SecretsManager::Secret",
    },
    "acme-blog-production": {
        "Logs6819BB44": "AWS::Logs::LogGroup",
        "DatabaseSecret3B817195": "AWS::SecretsManager::Secret",
    },
}


def stateful_ids(template: dict) -> dict[str, str]:
    return {i: r["Type"] for i, r in template.get("Resources", {}).items() if is_stateful(r)}


def explain(stack: str, template: dict, pinned: dict[str, str], actual: dict[str, str]) -> str:
    lines = [f"stateful logical IDs changed in {stack}:"]
    for logical_id, kind in sorted(pinned.items()):
        if logical_id not in actual:
            lines.append(f"  - {kind} {logical_id!r} is gone (or its ID changed). Deploying this makes CloudFormation "
                         "create a new resource and DELETE or ORPHAN the old one: a rename means DATA LOSS. Restore "
                         "the construct's ID and path (or pin the old ID with override_logical_id).")
        elif actual[logical_id] != kind:
            lines.append(f"  - {logical_id!r} changed type from {kind} to {actual[logical_id]}: that replaces it.")
    for logical_id, kind in sorted(actual.items()):
        if logical_id not in pinned:
            path = template["Resources"][logical_id].get("Metadata", {}).get("aws:cdk:path", "?")
            lines.append(f"  - new {kind} {logical_id!r} (construct {path}). If it is a renamed one, see above; if it "
                         f"is genuinely new, pin it: add {logical_id!r}: {kind!r} to PINNED[{stack!r}] in "
                         "tests/test_pinned_ids.py.")
    return "\n".join(lines)


@pytest.mark.parametrize("stack", sorted(PINNED))
def test_stateful_logical_ids_are_pinned(shipped_templates, stack):
    assert stack in shipped_templates, f"stack {stack} is gone: every stateful resource in it would be deleted"
    template = shipped_templates[stack]
    actual = stateful_ids(template)
    assert actual == PINNED[stack], explain(stack, template, PINNED[stack], actual)


def test_every_stack_is_pinned(shipped_templates):
    assert sorted(shipped_templates) == sorted(PINNED)


def test_a_rename_fails_with_a_message_that_says_what_changed(shipped_templates):
    template = shipped_templates["acme-minne"]
    renamed = {**template, "Resources": {("Renamed" if i == "Repository22E53BBD" else i): r
                                         for i, r in template["Resources"].items()}}
    message = explain("acme-minne", renamed, PINNED["acme-minne"], stateful_ids(renamed))
    assert "AWS::ECR::Repository 'Repository22E53BBD' is gone" in message
    assert "DATA LOSS" in message
    assert "new AWS::ECR::Repository 'Renamed' (construct acme-minne/Repository/Resource)" in message
