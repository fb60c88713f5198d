"""The environment's alarm topic: every app's alarms notify it; operators subscribe to it."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


class AlarmTopic(Construct):
    """An SNS topic encrypted with its own KMS key, TLS-only, that CloudWatch alarms may publish to.

    Its own key, not the AWS-managed ``alias/aws/sns``: CloudWatch can only publish to an encrypted topic
    whose key policy lets it use the key, and the AWS-managed key's policy cannot be changed.
    """

    def __init__(self, scope: Construct, construct_id: str, *, display_name: str) -> None:
        super().__init__(scope, construct_id)
        cloudwatch = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        account = cdk.Stack.of(self).account
        self.key = kms.Key(
            self, "Key", description=f"{display_name}: alarm topic", enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
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
