"""Every log group of an environment encrypted with the environment's own KMS key.

CloudWatch Logs encrypts log data at rest by default; with a customer key, who may read the logs is also a
question of the key's policy, and revoking the key makes the data unreadable. One key per environment, in its
platform stack (``LogsKey``), serves every log group of every stack of that environment: the key policy lets the
Logs service use it for the log groups of this account and Region only (the encryption context names the log
group). ``encrypt_log_groups`` sets the key on each ``AWS::Logs::LogGroup`` of a stack that has none, including
the ones CDK creates inside its constructs.
"""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct


class LogsKey(Construct):
    """A rotating, retained KMS key that CloudWatch Logs may use for this account's log groups in this Region.

    Attributes: ``key``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, description: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.key = kms.Key(self, "Resource", description=description, enable_key_rotation=True,
                           removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        self.key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                service="logs", resource="log-group", resource_name="*", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )}},
        ))


@jsii.implements(cdk.IAspect)
class _EncryptLogGroups:
    """Sets the key on every log group of ``stack`` that names none, in one visit.

    An aspect on the stack itself would be a Node-to-Python callback for every construct in it (about 130 per
    stack, most of a synth's round trips); this one sits on a leaf of the stack, so CDK calls it once, in
    the same prepare phase, and it walks the stack's tree in Python: one request, plus two per log group.
    """

    def __init__(self, stack: cdk.Stack, key_arn: str) -> None:
        self.stack = stack
        self.key_arn = key_arn

    def visit(self, node: IConstruct) -> None:
        for child in self.stack.node.find_all():
            if isinstance(child, logs.CfnLogGroup) and child.kms_key_id is None:
                child.kms_key_id = self.key_arn


def encrypt_log_groups(stack: cdk.Stack, key_arn: str) -> None:
    """Encrypt every log group of ``stack`` that names no key with ``key_arn`` (the environment's logs key)."""
    cdk.Aspects.of(Construct(stack, "EncryptLogGroups")).add(_EncryptLogGroups(stack, key_arn))
