"""``Router`` in a bare stack: a shared ALB with a 404 default, a test listener, and its access logs."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Match, Template

from shipway.constructs.router import Router


def test_without_a_certificate_it_serves_http_and_keeps_the_test_port_to_your_sources(stack):
    router = Router(stack, "Router", test_sources=["198.51.100.7/32"])
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::VPC", 1)  # none given: its own
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
        "Scheme": "internet-facing",
        "LoadBalancerAttributes": Match.array_with([
            {"Key": "idle_timeout.timeout_seconds", "Value": "60"},
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
            {"Key": "access_logs.s3.enabled", "Value": "true"},
        ]),
    })
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::Listener", {
        "Port": 80, "Protocol": "HTTP",
        "DefaultActions": [Match.object_like({"Type": "fixed-response",
                                              "FixedResponseConfig": Match.object_like({"StatusCode": "404"})})],
    })
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::Listener", {"Port": 8080, "Protocol": "HTTP"})
    groups = template.find_resources("AWS::EC2::SecurityGroup")
    rules = [rule for group in groups.values() for rule in group["Properties"].get("SecurityGroupIngress", [])]
    assert {"CidrIp": "198.51.100.7/32", "FromPort": 8080, "ToPort": 8080, "IpProtocol": "tcp",
            "Description": "Test traffic from egress address 1"} in rules
    assert not any(r.get("FromPort") == 8080 and r.get("CidrIp") == "0.0.0.0/0" for r in rules)
    template.has_resource_properties("AWS::S3::Bucket", {
        "LifecycleConfiguration": {"Rules": [Match.object_like({"ExpirationInDays": 90})]},
    })
    assert router.redirect_listener is None


def test_with_a_certificate_it_serves_https_redirects_http_and_reaches_your_apps(stack):
    network = ec2.Vpc(stack, "Network", max_azs=2, nat_gateways=1)
    apps = ec2.SecurityGroup(stack, "Apps", vpc=network)
    router = Router(
        stack, "Router", vpc=network, load_balancer_name="acme-prod", app_security_group=apps, idle_timeout=120,
        certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666",
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::VPC", 1)  # yours
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::LoadBalancer", {"Name": "acme-prod"})
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::Listener", {
        "Port": 443, "Protocol": "HTTPS", "SslPolicy": Match.any_value(),
    })
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::Listener", {
        "Port": 80, "DefaultActions": [Match.object_like({"Type": "redirect"})],
    })
    template.has_resource_properties("AWS::ElasticLoadBalancingV2::Listener", {"Port": 8443, "Protocol": "HTTPS"})
    template.has_resource_properties("AWS::EC2::SecurityGroupEgress", {
        "FromPort": 1, "ToPort": 65535,
        "DestinationSecurityGroupId": {"Fn::GetAtt": [Match.string_like_regexp("^Apps"), "GroupId"]},
    })
    assert router.redirect_listener is not None
