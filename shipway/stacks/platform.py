"""``<name>-<env>-platform``: what every app of one environment shares, slow to create, rarely changed.

Everything app stacks need from here is published as SSM parameters (``naming.Param``), never as
CloudFormation exports, so apps come and go without touching this stack and this stack changes without
an export lock.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from .. import naming
from ..constructs import parameters
from ..constructs.alarm_topic import AlarmTopic
from ..constructs.cluster import Cluster
from ..constructs.log_encryption import LogsKey, encrypt_log_groups
from ..constructs.network import Network
from ..constructs.pools import Pools
from ..constructs.registry import EcrScanOnPush, S3Registry
from ..constructs.retention import retention
from ..constructs.router import Router
from ..naming import Param
from ..props import platform as platform_props
from ..props import pools as pool_props
from ..spec import Spec
from ..spec.references import build_environment
from .base import ShipwayStack


class PlatformStack(ShipwayStack):
    def __init__(self, scope: Construct, *, spec: Spec, env: str) -> None:
        environment = spec.environments[env]
        super().__init__(
            scope,
            naming.platform_stack(spec.name, env),
            spec=spec,
            environment=environment,
            description=f"shipway {spec.name} {env}: network, cluster, pools, router and registry",
        )
        self.env_name = env
        self.logs_key = LogsKey(self, "LogsKey", description=f"shipway {spec.name} {env}: every log group's data")
        encrypt_log_groups(self, self.logs_key.key.key_arn)
        log_retention = retention(environment.log_retention_days)
        self.network = Network(self, "Network", **platform_props.network(spec, env))
        vpc = self.network.vpc
        self.app_security_group = ec2.SecurityGroup(
            self, "AppSecurityGroup", vpc=vpc, description="Worn by every app task of the environment",
            allow_all_outbound=True,
        )
        self.cluster = Cluster(self, "Cluster", vpc=vpc, **platform_props.cluster(spec, env))
        self.pools = Pools(
            self, "Pools", cluster_name=naming.cluster_name(spec.name, env), pools=pool_props.pools(spec, env),
            cluster=self.cluster.cluster, vpc=vpc,
        )
        for provider in self.pools.capacity_providers:
            self.cluster.add_capacity_provider(provider)
        self.router = Router(
            self, "Router", vpc=vpc, app_security_group=self.app_security_group,
            test_sources=self.network.egress_cidrs, **platform_props.router(spec, env),
        )
        self.registry = self._registry(spec, env, log_retention)
        self.alarm_topic = AlarmTopic(self, "Alarms", display_name=f"shipway {spec.name} {env} alarms")
        self.namespace = servicediscovery.PrivateDnsNamespace(
            self, "Namespace", name=naming.namespace(spec.name, env), vpc=vpc,
            description=f"Service discovery of shipway {spec.name} {env}",
        )
        self._publish(spec, env)

    def _publish(self, spec: Spec, env: str) -> None:
        """The SSM parameters app stacks import the platform by (``PlatformImports``), and the router's DNS name."""

        def publish(key: str, value: str, description: str) -> None:
            parameters.publish(self, project=spec.name, env=env, key=key, value=value, description=description)

        def ids(subnets: list[ec2.ISubnet]) -> str:
            return ",".join(s.subnet_id for s in subnets)

        vpc, router = self.network.vpc, self.router
        publish(Param.VPC_ID, vpc.vpc_id, "VPC of the environment")
        publish(Param.PRIVATE_SUBNETS, ids(vpc.private_subnets), "Private subnets with NAT egress, one per AZ")
        publish(Param.ISOLATED_SUBNETS, ids(vpc.isolated_subnets), "Isolated subnets, one per AZ")
        publish(Param.APP_SECURITY_GROUP, self.app_security_group.security_group_id, "Security group of app tasks")
        publish(Param.CLUSTER_ARN, self.cluster.cluster.cluster_arn, "ECS cluster of the environment")
        publish(Param.LOGS_KEY_ARN, self.logs_key.key.key_arn, "KMS key of every log group of the environment")
        publish(Param.EXEC_LOG_GROUP, self.cluster.exec_log_group.log_group_name, "Log group of ECS Exec sessions")
        publish(Param.LISTENER_ARN, router.listener.listener_arn, "Router listener that apps add host rules to")
        publish(
            Param.TEST_LISTENER_ARN, router.test_listener.listener_arn, "Router listener for blue/green test traffic"
        )
        publish(Param.ROUTER_SECURITY_GROUP, router.security_group.security_group_id, "Security group of the router")
        publish(
            Param.LOAD_BALANCER_FULL_NAME, router.load_balancer.load_balancer_full_name,
            "app/<name>/<id>: the LoadBalancer dimension of the router's metrics",
        )
        publish(Param.ROUTER_DNS_NAME, router.load_balancer.load_balancer_dns_name, "DNS name of the router")
        publish(Param.ALARM_TOPIC_ARN, self.alarm_topic.topic.topic_arn, "SNS topic that alarms notify")
        publish(Param.NAMESPACE_ID, self.namespace.namespace_id, "Cloud Map private DNS namespace ID")
        publish(Param.NAMESPACE_ARN, self.namespace.namespace_arn, "Cloud Map private DNS namespace ARN")
        namespace_resource = self.namespace.node.default_child
        assert isinstance(namespace_resource, servicediscovery.CfnPrivateDnsNamespace)
        publish(Param.NAMESPACE_HOSTED_ZONE_ID, namespace_resource.attr_hosted_zone_id,
                "Route 53 private hosted zone of the Cloud Map namespace")
        cdk.CfnOutput(self, "RouterDnsName", value=router.load_balancer.load_balancer_dns_name,
                      description="Point the apps' host names here (CNAME or alias)")

    def _registry(self, spec: Spec, env: str, log_retention) -> S3Registry | EcrScanOnPush | None:
        """registry: s3 runs registry:2 behind the router; with ECR, one stack per account and Region holds
        ECR's account-wide scan-on-push setting (see docs/registry.md)."""
        if spec.registry == "s3":
            host = spec.environments[env].router.registry_host
            assert host is not None, "references.py requires registry_host with registry: s3"
            # Tasks and instances pull through this environment's NAT addresses; the build pushes through those
            # of the environment it runs in (published by that platform stack, which deploys first).
            parameters.publish(self, project=spec.name, env=env, key=Param.EGRESS_CIDRS,
                               value=",".join(self.network.egress_cidrs),
                               description="The NAT gateways' addresses: the environment's egress, as CIDRs")
            sources = list(self.network.egress_cidrs)
            build = build_environment(spec)
            if build != env:
                sources += parameters.read_list(self, project=spec.name, env=build, key=Param.EGRESS_CIDRS,
                                                length=spec.environments[build].network.nat_gateways)
            registry = S3Registry(
                self, "Registry", cluster=self.cluster.cluster, listener=self.router.listener,
                router_security_group=self.router.security_group, host=host, source_cidrs=sources,
                log_retention=log_retention, access_logs_bucket=self.router.access_logs,
                credentials_secret_name=naming.registry_credentials_secret(spec.name, env),
            )
            parameters.publish(self, project=spec.name, env=env, key=Param.REGISTRY_CREDENTIALS_ARN,
                               value=registry.credentials.secret_arn,
                               description="The registry's user and password: app tasks pull with them")
            return registry
        if platform_props.holds_ecr_settings(spec, env):
            return EcrScanOnPush(self, "Registry")
        return None
