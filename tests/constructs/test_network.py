"""``Network`` in a bare stack: three subnet tiers, fixed egress addresses, flow logs."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from shipway.constructs.network import Network


def test_two_azs_one_nat_gateway_by_default_and_its_address_is_the_egress(stack):
    network = Network(stack, "Network")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::Subnet", 6)  # public, private, isolated in each of two AZs
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    template.resource_count_is("AWS::EC2::EIP", 1)
    template.has_resource_properties("AWS::EC2::FlowLog", {"LogDestinationType": "cloud-watch-logs"})
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    template.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})
    outputs = template.find_outputs("*", {"Description": Match.string_like_regexp("^Fixed egress address 1")})
    assert [o["Value"]["Fn::GetAtt"][1] for o in outputs.values()] == ["PublicIp"]
    assert len(network.egress_ips) == len(network.egress_cidrs) == 1


def test_planned_azs_keep_room_for_more_subnets(stack):
    two = Network(stack, "Two", max_azs=2, nat_gateways=2, planned_azs=3)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::NatGateway", 2)
    assert len(two.vpc.private_subnets) == 2 and len(two.egress_cidrs) == 2
