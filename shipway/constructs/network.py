"""The environment's VPC: fixed egress through NAT gateways with Elastic IPs."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct


class Network(Construct):
    """A VPC with public, private-with-egress and isolated subnets across ``max_azs`` AZs.

    :param max_azs: Availability Zones to span. Default: 2.
    :param planned_azs: Availability Zones the address plan lays every subnet group out for (CDK's reserved
        AZs make up the difference), so a later ``max_azs`` up to it adds subnets without moving any.
        Default: ``max_azs`` (no room to grow).
    :param nat_gateways: NAT gateways; each has an Elastic IP, and those addresses are the environment's
        fixed egress, exposed as ``egress_ips`` and as stack outputs. Default: 1.
    :param flow_log_retention: retention of the VPC flow log group. Default: one month.

    Attributes: ``vpc``, ``flow_log_group``, ``egress_ips``, ``egress_cidrs``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, max_azs: int = 2, nat_gateways: int = 1,
                 flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
                 planned_azs: int | None = None) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Resource",
            max_azs=max_azs,
            reserved_azs=max(0, (planned_azs or max_azs) - max_azs),
            nat_gateways=nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
                ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)},
            restrict_default_security_group=False,
        )
        self.flow_log_group = logs.LogGroup(
            self, "FlowLogs", retention=flow_log_retention, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
        )
        self.vpc.add_flow_log(
            "FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group)
        )
        self.egress_ips: list[str] = []
        """The NAT gateways' Elastic IPs."""
        self.egress_cidrs: list[str] = []
        """The same addresses as ``/32`` CIDRs, for security group rules that admit the environment's own traffic."""
        for i, subnet in enumerate(self.vpc.public_subnets[:nat_gateways]):
            eip = subnet.node.find_child("EIP")
            assert isinstance(eip, ec2.CfnEIP)
            self.egress_ips.append(eip.attr_public_ip)
            self.egress_cidrs.append(cdk.Fn.join("", [eip.attr_public_ip, "/32"]))
            cdk.CfnOutput(
                self, f"EgressIp{i + 1}", value=eip.attr_public_ip,
                description=f"Fixed egress address {i + 1}: allow-list it at partners",
            )
