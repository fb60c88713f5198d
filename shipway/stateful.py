"""The stateful contract: which resources hold data, and the logical IDs shipway promises never to change.

CloudFormation knows a resource by its logical ID. Renaming a construct (or moving it under another parent)
changes that ID, and CloudFormation then creates a new resource and deletes the old one: the database, its
secret, the bucket, the repository or the log group is gone with its data (or orphaned, when retained).

Read by the review guard (``shipway.review``: what counts as data, and whether a vanished ID is one of
shipway's own), by tests/test_pinned_ids.py (every stateful ID of every stack kind is pinned below, and
nothing else is stateful) and by docs/review.md, whose list of types a test holds to ``STATEFUL_TYPES``.
"""

from __future__ import annotations

# The resource types that hold data.
STATEFUL_TYPES = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::SecretsManager::Secret",
        "AWS::S3::Bucket",
        "AWS::ECR::Repository",
        "AWS::CodeCommit::Repository",
        "AWS::Logs::LogGroup",
        "AWS::KMS::Key",
    }
)
# A resource whose author asked CloudFormation to keep it (or a snapshot of it) holds something worth keeping.
KEEPING_POLICIES = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})

# Stack kinds, as shipway.naming names the stacks: <name>-<env>-platform, <name>-<env>-data, <name>-<app>,
# <name>-<app>-<env>.
PLATFORM, DATA, APP, APP_ENV = "platform", "data", "app", "app-env"

# Stack kind -> {logical ID: type} of every stateful resource shipway's stacks create. A change to this table is a
# decision a reviewer makes (it deletes or orphans data in every deployed environment), never a side effect.
PINNED_IDS: dict[str, dict[str, str]] = {
    PLATFORM: {
        "NetworkFlowLogs2BEC3212": "AWS::Logs::LogGroup",
        "ClusterExecLogs956D313E": "AWS::Logs::LogGroup",
        "RouterAccessLogsBE6D68A9": "AWS::S3::Bucket",
        "AlarmsKey3C2381B3": "AWS::KMS::Key",
        "LogsKey195F8DFC": "AWS::KMS::Key",
        "RegistryBucket9C3667AF": "AWS::S3::Bucket",
        "RegistryCredentials1574D50A": "AWS::SecretsManager::Secret",
        "RegistryHttpSecret2AC721EF": "AWS::SecretsManager::Secret",
        "RegistryLogs1A035EBA": "AWS::Logs::LogGroup",
    },
    DATA: {
        "DatabaseConnectionSecret3AAAD636": "AWS::SecretsManager::Secret",
        "DatabaseF44359DD": "AWS::RDS::DBInstance",
        "DatabaseLogsPostgresqlA9BDE778": "AWS::Logs::LogGroup",
        "DatabaseLogsUpgrade2579E242": "AWS::Logs::LogGroup",
    },
    APP: {
        "Repository22E53BBD": "AWS::ECR::Repository",
        "BuildCache8E743806": "AWS::ECR::Repository",
        "LoadTestRepository789554E7": "AWS::ECR::Repository",
        "DeliveryArtifactsKey52943D36": "AWS::KMS::Key",
        "DeliveryArtifactsAC79D864": "AWS::S3::Bucket",
        "DeliveryLogsE7964E8F": "AWS::Logs::LogGroup",
        "SourceRepository841EE08B": "AWS::CodeCommit::Repository",
    },
    APP_ENV: {
        "Logs6819BB44": "AWS::Logs::LogGroup",
        "LoadTestResultsB968C8BB": "AWS::S3::Bucket",
        "DatabaseSecret3B817195": "AWS::SecretsManager::Secret",
    },
}
# Pinned IDs that only some stacks of a kind have, and what gives rise to them; every other one is in every
# stack of its kind.
CONDITIONAL_IDS: dict[str, str] = {
    "RegistryBucket9C3667AF": "registry: s3",
    "RegistryCredentials1574D50A": "registry: s3",
    "RegistryHttpSecret2AC721EF": "registry: s3",
    "RegistryLogs1A035EBA": "registry: s3",
    "Repository22E53BBD": "registry: ecr",
    "LoadTestRepository789554E7": "apps.<app>.loadtest",
    "SourceRepository841EE08B": "apps.<app>.source.codecommit",
    "LoadTestResultsB968C8BB": "apps.<app>.loadtest.environment",
}


def is_stateful(resource: dict) -> bool:
    return resource.get("Type") in STATEFUL_TYPES or resource.get("DeletionPolicy") in KEEPING_POLICIES


def stateful_ids(template: dict) -> dict[str, str]:
    """{logical ID: type} of every stateful resource of ``template``."""
    return {i: r["Type"] for i, r in template.get("Resources", {}).items() if is_stateful(r)}


def is_pinned(logical_id: str, resource_type: str) -> bool:
    """Whether ``logical_id`` is one of shipway's own pinned IDs, of that type, in some stack kind."""
    return any(pins.get(logical_id) == resource_type for pins in PINNED_IDS.values())
