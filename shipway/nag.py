"""cdk-nag 3.x wiring: AwsSolutions checks as a CDK validation plugin, acknowledgements with reasons.

cdk-nag 3 has no NagSuppressions: findings are acknowledged through ``cdk.Validations``, one call per
finding id, and synth fails on any finding that is not acknowledged.
"""

from __future__ import annotations

import weakref

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


# Validations.of is a jsii round-trip; a scope often takes several findings (708 acknowledgements fall on
# 203 scopes in a 10-app spec), so each scope's handle is fetched once.
_validations: weakref.WeakKeyDictionary[IConstruct, cdk.Validations] = weakref.WeakKeyDictionary()


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge ``finding`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope`` and its children."""
    if not reason.strip():
        raise ValueError(f"acknowledging {finding} needs a written reason")
    validations = _validations.get(scope)
    if validations is None:
        validations = _validations[scope] = cdk.Validations.of(scope)
    validations.acknowledge(cdk.Acknowledgment(id=finding, reason=reason))


def resource_finding(scope: IConstruct, rule: str, arn: str) -> str:
    """The finding id cdk-nag reports for ``arn`` under ``rule``, e.g. ``AwsSolutions-IAM5[Resource::...]``.

    cdk-nag writes an ``Fn::Join`` ARN by its parts, each ``Ref`` as ``<LogicalId>`` and each ``Fn::GetAtt`` as
    ``<LogicalId.Attr>``, so a resource built from tokens (partition, region, account, logical IDs) still gets
    one exact id.
    """

    def flat(node) -> str:
        if isinstance(node, str):
            return node
        if isinstance(node, dict) and "Ref" in node:
            return f"<{node['Ref']}>"
        if isinstance(node, dict) and "Fn::GetAtt" in node:
            return f"<{'.'.join(node['Fn::GetAtt'])}>"
        if isinstance(node, dict) and "Fn::Join" in node:
            separator, parts = node["Fn::Join"]
            return separator.join(flat(part) for part in parts)
        raise ValueError(f"cannot spell {node!r} as cdk-nag does")

    return f"{rule}[Resource::{flat(cdk.Stack.of(scope).resolve(arn))}]"
