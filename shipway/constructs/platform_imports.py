"""What an app or data stack needs of its environment's platform, read from SSM, never from exports.

The construct knows nothing of shipway's spec: it takes the project's and environment's names, which name the
SSM parameters (``naming.parameter``), and the number of Availability Zones, which sizes the subnet lists;
``shipway.props.platform.platform_imports`` reads them from the spec.
"""

from __future__ import annotations

from functools import cached_property

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk import aws_sns as sns
from constructs import Construct

from .. import naming
from ..naming import Param
from . import parameters


@jsii.implements(cdk.IStableStringProducer)
class _OnDemand:
    """A string produced when first resolved.

    CDK resolves every token of every resource while it prepares the app (looking for cross-stack references),
    before any template is written: an SSM parameter created on first resolution is therefore in the template
    when something uses it, and absent when nothing does. Tests with both cases pass through cfn-lint.
    """

    def __init__(self, produce) -> None:
        self._produce = produce

    def produce(self) -> str:
        return self._produce()


class PlatformImports(Construct):
    """Lazy handles on one environment's platform (and data) resources.

    Each property reads its SSM parameters on first use, so a stack only gains the CloudFormation
    parameters it really uses (an unused one is a cfn-lint warning). Nothing here creates a resource.

    :param project: the project's name, the first part of every parameter's path (``/shipway/<project>/<env>/``).
    :param env: the environment's name.
    :param max_azs: how many Availability Zones (and so subnets of each kind) the environment's VPC has.
    """

    def __init__(self, scope: Construct, construct_id: str, *, project: str, env: str, max_azs: int) -> None:
        super().__init__(scope, construct_id)
        self.project = project
        self.env = env
        self.max_azs = max_azs

    def param(self, key: str) -> str:
        return parameters.read(self, project=self.project, env=self.env, key=key)

    def param_list(self, key: str) -> list[str]:
        return parameters.read_list(self, project=self.project, env=self.env, key=key, length=self.max_azs)

    @cached_property
    def private_vpc(self) -> ec2.IVpc:
        """The VPC with its private (NAT egress) subnets: where app tasks run."""
        return self._vpc("PrivateVpc", private_subnet_ids=self.param_list(Param.PRIVATE_SUBNETS))

    @cached_property
    def isolated_vpc(self) -> ec2.IVpc:
        """The VPC with its isolated subnets: where the database lives."""
        return self._vpc("IsolatedVpc", isolated_subnet_ids=self.param_list(Param.ISOLATED_SUBNETS))

    @cached_property
    def _vpc_id(self) -> str:
        return cdk.Lazy.string(_OnDemand(lambda: self.param(Param.VPC_ID)))

    def _vpc(
        self, construct_id: str, *, private_subnet_ids: list[str] | None = None,
        isolated_subnet_ids: list[str] | None = None,
    ) -> ec2.IVpc:
        # Only one subnet group per import: an SSM parameter read but unused is a cfn-lint warning.
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            construct_id,
            # On demand: a worker-only app places tasks in subnets and never names the VPC itself.
            vpc_id=self._vpc_id,
            availability_zones=cdk.Stack.of(self).availability_zones,
            private_subnet_ids=private_subnet_ids,
            isolated_subnet_ids=isolated_subnet_ids,
        )
        cdk.Annotations.of(vpc).acknowledge_warning(
            "@aws-cdk/aws-ec2:noSubnetRouteTableId",
            "App and data stacks place resources in subnets; they never read or change the platform's routes",
        )
        return vpc

    @cached_property
    def app_security_group(self) -> ec2.ISecurityGroup:
        """The security group every app task wears; the router reaches it and the database admits it."""
        return ec2.SecurityGroup.from_security_group_id(
            self, "AppSecurityGroup", self.param(Param.APP_SECURITY_GROUP), allow_all_outbound=True, mutable=False
        )

    @cached_property
    def cluster(self) -> ecs.ICluster:
        # The ARN derives from the fixed cluster name: no SSM parameter, so a stack that only names the
        # cluster (services do) carries no unused parameter.
        cluster_arn = cdk.Stack.of(self).format_arn(service="ecs", resource="cluster", resource_name=self.cluster_name)
        return ecs.Cluster.from_cluster_attributes(
            self, "Cluster", cluster_name=self.cluster_name, cluster_arn=cluster_arn,
            vpc=self.private_vpc, security_groups=[],
        )

    @property
    def cluster_name(self) -> str:
        return naming.cluster_name(self.project, self.env)

    @cached_property
    def router_security_group(self) -> ec2.ISecurityGroup:
        return ec2.SecurityGroup.from_security_group_id(
            self, "RouterSecurityGroup", self.param(Param.ROUTER_SECURITY_GROUP), mutable=False
        )

    @cached_property
    def listener(self) -> elbv2.IApplicationListener:
        """The shared ALB's production listener (HTTPS with a certificate, HTTP without).

        The platform owns the router-to-app rule and the app security group is immutable here, so the
        listener's security group is never rendered: its ID parameter is only read if something uses it.
        """
        return elbv2.ApplicationListener.from_application_listener_attributes(
            self, "Listener", listener_arn=self.param(Param.LISTENER_ARN),
            security_group=self._listener_security_group,
        )

    @cached_property
    def test_listener(self) -> elbv2.IApplicationListener:
        """The shared ALB's test listener, which blue/green deployments send test traffic through."""
        return elbv2.ApplicationListener.from_application_listener_attributes(
            self, "TestListener", listener_arn=self.param(Param.TEST_LISTENER_ARN),
            security_group=self._listener_security_group,
        )

    @cached_property
    def _listener_security_group(self) -> ec2.ISecurityGroup:
        # An unused SSM parameter is a cfn-lint warning (W2001): read the router's ID only on demand.
        group_id = cdk.Lazy.string(_OnDemand(lambda: self.param(Param.ROUTER_SECURITY_GROUP)))
        return ec2.SecurityGroup.from_security_group_id(self, "ListenerSecurityGroup", group_id, mutable=False)

    @property
    def load_balancer_full_name(self) -> str:
        """``app/<name>/<id>``: the LoadBalancer dimension of ALB metrics."""
        return self.param(Param.LOAD_BALANCER_FULL_NAME)

    @cached_property
    def alarm_topic(self) -> sns.ITopic:
        return sns.Topic.from_topic_arn(self, "AlarmTopic", self.param(Param.ALARM_TOPIC_ARN))

    @property
    def exec_log_group_name(self) -> str:
        """The log group the cluster writes ECS Exec sessions to; task roles must be allowed to write it."""
        return self.param(Param.EXEC_LOG_GROUP)

    @property
    def namespace_name(self) -> str:
        return naming.namespace(self.project, self.env)

    @cached_property
    def namespace(self) -> servicediscovery.IPrivateDnsNamespace:
        """The environment's Cloud Map private DNS namespace (``naming.namespace``).

        Its ARN derives from its ID, so only the ID's SSM parameter is read (an unused one is a warning).
        """
        namespace_id = self.param(Param.NAMESPACE_ID)
        return servicediscovery.PrivateDnsNamespace.from_private_dns_namespace_attributes(
            self, "Namespace", namespace_name=self.namespace_name, namespace_id=namespace_id,
            namespace_arn=cdk.Stack.of(self).format_arn(
                service="servicediscovery", resource="namespace", resource_name=namespace_id
            ),
        )

    @property
    def namespace_hosted_zone_id(self) -> str:
        """The Route 53 private hosted zone Cloud Map keeps the namespace's records in."""
        return self.param(Param.NAMESPACE_HOSTED_ZONE_ID)

    @property
    def logs_key_arn(self) -> str:
        """The KMS key every log group of the environment is encrypted with (``log_encryption.LogsKey``)."""
        return self.param(Param.LOGS_KEY_ARN)

    @property
    def registry_credentials_arn(self) -> str:
        """registry: s3: the complete ARN of the registry's user and password (ECS repository credentials)."""
        return self.param(Param.REGISTRY_CREDENTIALS_ARN)

    @property
    def database_secret_arn(self) -> str:
        return self.param(Param.DATABASE_SECRET_ARN)
