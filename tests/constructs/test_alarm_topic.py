"""``AlarmTopic`` in a bare stack: an encrypted, TLS-only topic that CloudWatch and EventBridge may publish to."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from shipway.constructs.alarm_topic import AlarmTopic


def test_cloudwatch_and_eventbridge_publish_with_its_own_key(stack):
    AlarmTopic(stack, "Alarms", display_name="acme prod alarms")
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::SNS::Topic", {
        "DisplayName": "acme prod alarms", "KmsMasterKeyId": Match.any_value(),
    })
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties("AWS::SNS::TopicPolicy", {
        "PolicyDocument": {"Statement": Match.array_with([
            Match.object_like({"Action": "sns:Publish", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                               "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}),
            Match.object_like({"Sid": "EventBridgePublishes", "Principal": {"Service": "events.amazonaws.com"}}),
        ])},
    })
