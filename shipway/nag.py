"""cdk-nag 3.x wiring: AwsSolutions checks as a CDK validation plugin, acknowledgements with reasons.

cdk-nag 3 has no NagSuppressions: findings are acknowledged through ``cdk.Validations``, one call per
finding id, and synth fails on any finding that is not acknowledged.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge ``finding`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope`` and its children."""
    if not reason.strip():
        raise ValueError(f"acknowledging {finding} needs a written reason")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


def resource_finding(scope: IConstruct, rule: str, arn: str) -> str:
    """The finding id cdk-nag reports for ``arn`` under ``rule``, e.g. ``AwsSolutions-IAM5[Resource::...]``.

    cdk-nag writes an ``Fn::Join`` ARN by its parts, each ``Ref`` as ``<LogicalId>``.
    """
    resolved = cdk.Stack.of(scope).resolve(arn)
    if isinstance(resolved, dict) and "Fn::Join" in resolved:
        separator, parts = resolved["Fn::Join"]
        resolved = separator.join(f"<{p['Ref']}>" if isinstance(p, dict) else p for p in parts)
    return f"{rule}[Resource::{resolved}]"
