"""``AlarmTopic`` in a bare stack: an encrypted, TLS-only topic that CloudWatch and EventBridge may publish to."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
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


def test_by_default_it_has_no_display_name_and_a_retained_rotating_key_of_its_own(stack):
    alarms = AlarmTopic(stack, "Alarms")
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::SNS::Topic", {
        "DisplayName": Match.absent(),
        "KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^AlarmsKey"), "Arn"]},
    })
    template.has_resource("AWS::KMS::Key", {
        "DeletionPolicy": "RetainExceptOnCreate",
        "Properties": Match.object_like({"EnableKeyRotation": True, "Description": "Test/Alarms: alarm topic"}),
    })
    assert isinstance(alarms.key, kms.Key)


def test_with_your_key_it_encrypts_with_it_and_lets_cloudwatch_and_eventbridge_use_it(stack):
    key = kms.Key(stack, "SharedKey", enable_key_rotation=True)
    alarms = AlarmTopic(stack, "Alarms", key=key)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource_properties("AWS::SNS::Topic", {
        "KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^SharedKey"), "Arn"]},
    })
    template.has_resource_properties("AWS::KMS::Key", {"KeyPolicy": {"Statement": Match.array_with([
        Match.object_like({"Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                           "Principal": {"Service": "cloudwatch.amazonaws.com"}}),
        Match.object_like({"Sid": "EventBridgeUsesTheKey", "Principal": {"Service": "events.amazonaws.com"}}),
    ])}})
    assert alarms.key is key
