"""The environment's alarm topic: every app's alarms notify it; operators subscribe to it."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class AlarmTopic(Construct):
    """An SNS topic encrypted with a customer-managed KMS key, TLS-only, that CloudWatch alarms may publish to.

    A customer-managed key, not the AWS-managed ``alias/aws/sns``: CloudWatch can only publish to an encrypted topic
    whose key policy lets it use the key, and the AWS-managed key's policy cannot be changed. EventBridge may
    publish too (rules that announce failures, such as shipway's pipelines').

    :param display_name: the topic's display name, the sender name of its email and SMS notifications.
        Default: none.
    :param key: the key that encrypts the topic; CloudWatch and EventBridge of this account are allowed to use it.
        The statements go into the policy of a key defined in this app; an imported key's policy must already
        allow them. Default: a new key with yearly rotation, retained when the stack goes.

    Attributes: ``topic``, ``key``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, display_name: str | None = None,
                 key: kms.IKey | None = None) -> None:
        super().__init__(scope, construct_id)
        cloudwatch = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        account = cdk.Stack.of(self).account
        if key is None:
            key = kms.Key(
                self, "Key", description=f"{display_name or self.node.path}: alarm topic", enable_key_rotation=True,
                removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            )
        self.key = key
        self.key.add_to_resource_policy(iam.PolicyStatement(
            principals=[cloudwatch], actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": account}},
        ))
        self.topic = sns.Topic(self, "Resource", display_name=display_name, master_key=self.key, enforce_ssl=True)
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            principals=[cloudwatch], actions=["sns:Publish"], resources=[self.topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": account}},
        ))
        # EventBridge delivers the app pipelines' failure notifications (shipway/constructs/pipeline.py).
        events = iam.ServicePrincipal("events.amazonaws.com")
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="EventBridgeUsesTheKey", principals=[events], actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"], conditions={"StringEquals": {"aws:SourceAccount": account}},
        ))
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            sid="EventBridgePublishes", principals=[events], actions=["sns:Publish"], resources=[self.topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": account}},
        ))
