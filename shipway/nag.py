"""cdk-nag 3.x wiring: AwsSolutions checks as a CDK validation plugin, acknowledgements with reasons.

cdk-nag 3 has no NagSuppressions: findings are acknowledged through ``cdk.Validations``, one
``Acknowledgment`` per finding id, and synth fails on any finding that is not acknowledged.
"""

from __future__ import annotations

import functools
import re
import weakref
from typing import Any

import aws_cdk as cdk
import jsii
from cdk_nag import AwsSolutionsChecks
from constructs import Construct, IConstruct


def add_checks(app: cdk.App) -> None:
    """cdk-nag's AwsSolutions checks on every stack of ``app``, with the acknowledgements made on its constructs."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    cdk.Aspects.of(Construct(app, "NagAcknowledgements")).add(_Acknowledge())


# Each acknowledgement is held here until synth, then a scope's are given to cdk-nag in one request: a scope
# often takes several (a 10-app spec makes about 1,000 acknowledgements on about 340 scopes). Strong keys: a
# construct made in JavaScript (a project's role) may have no other Python reference until then.
_pending: dict[IConstruct, list[cdk.Acknowledgment]] = {}


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge ``finding`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) on ``scope`` and its children.

    Recorded when the app synthesizes (:func:`add_checks`), before cdk-nag runs.
    """
    if not reason.strip():
        raise ValueError(f"acknowledging {finding} needs a written reason")
    _pending.setdefault(scope, []).append(cdk.Acknowledgment(id=finding, reason=reason))


@jsii.implements(cdk.IAspect)
class _Acknowledge:
    """Records the held acknowledgements. It sits on a leaf of the app, so CDK calls it once, in the prepare
    phase that precedes the validation plugins (an aspect on the app would be called for every construct)."""

    def visit(self, node: IConstruct) -> None:
        while _pending:
            scope, acknowledgements = _pending.popitem()
            cdk.Validations.of(scope).acknowledge(*acknowledgements)


def resource_finding(scope: IConstruct, rule: str, arn: str) -> str:
    """The finding id cdk-nag reports for ``arn`` under ``rule``, e.g. ``AwsSolutions-IAM5[Resource::...]``.

    cdk-nag writes an ``Fn::Join`` ARN by its parts, each ``Ref`` as ``<LogicalId>`` and each ``Fn::GetAtt`` as
    ``<LogicalId.Attr>``, so a resource built from tokens (partition, region, account, logical IDs) still gets
    one exact id. Pseudo parameters (``Stack.format_arn``'s partition, region and account) are spelled in
    Python; any other string token is resolved once per stack (one jsii request) and its spelling kept.
    """
    spelled = arn
    for token, spelling in _pseudo_parameters().items():
        spelled = spelled.replace(token, spelling)
    tokens = _STRING_TOKEN.findall(spelled)
    if tokens:
        stack = _stack_of(scope)
        known = _spellings.setdefault(stack, {})
        for token in tokens:
            if token not in known:
                known[token] = _flat(stack.resolve(token))
            spelled = spelled.replace(token, known[token])
    if "{Token[" in spelled:  # a list token or another encoding: let CDK resolve the whole string
        spelled = _flat(_stack_of(scope).resolve(arn))
    return f"{rule}[Resource::{spelled}]"


_STRING_TOKEN = re.compile(r"\$\{Token\[[^\]]*\]\}")
_stacks: weakref.WeakKeyDictionary[IConstruct, cdk.Stack] = weakref.WeakKeyDictionary()
_spellings: weakref.WeakKeyDictionary[cdk.Stack, dict[str, str]] = weakref.WeakKeyDictionary()


def _stack_of(scope: IConstruct) -> cdk.Stack:
    stack = _stacks.get(scope)
    if stack is None:
        stack = _stacks[scope] = cdk.Stack.of(scope)
    return stack


@functools.cache
def _pseudo_parameters() -> dict[str, str]:
    """CDK's tokens for the pseudo parameters (one per process, whatever the stack) as cdk-nag spells them."""
    return {cdk.Aws.PARTITION: "<AWS::Partition>", cdk.Aws.REGION: "<AWS::Region>",
            cdk.Aws.ACCOUNT_ID: "<AWS::AccountId>", cdk.Aws.URL_SUFFIX: "<AWS::URLSuffix>"}


def _flat(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "Ref" in node:
        return f"<{node['Ref']}>"
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        return f"<{'.'.join(node['Fn::GetAtt'])}>"
    if isinstance(node, dict) and "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(_flat(part) for part in parts)
    raise ValueError(f"cannot spell {node!r} as cdk-nag does")
