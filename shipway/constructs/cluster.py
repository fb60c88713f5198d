"""The environment's ECS cluster: Container Insights, ECS Exec logging, and its capacity providers."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct


class Cluster(Construct):
    """An ECS cluster with Container Insights and ECS Exec sessions logged to ``exec_log_group``.

    The capacity providers are associated here, in one ``AWS::ECS::ClusterCapacityProviderAssociations``:
    FARGATE and FARGATE_SPOT as asked, plus each ``add_capacity_provider``. No default strategy: every
    service and task names its capacity (see ``placement.capacity_provider_strategies``).

    :param vpc: the VPC of the cluster's instances and tasks.
    :param cluster_name: the physical name; app stacks address the cluster by it. Default: named by CloudFormation.
    :param fargate: associate the FARGATE capacity provider. Default: true.
    :param fargate_spot: associate the FARGATE_SPOT capacity provider. Default: true.
    :param log_retention: retention of the ECS Exec log group. Default: one month.

    Attributes: ``cluster``, ``exec_log_group``, ``associations``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, cluster_name: str | None = None,
                 fargate: bool = True, fargate_spot: bool = True,
                 log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH) -> None:
        super().__init__(scope, construct_id)
        self.exec_log_group = logs.LogGroup(
            self, "ExecLogs", retention=log_retention, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
        )
        self.cluster = ecs.Cluster(
            self,
            "Resource",
            cluster_name=cluster_name,
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
            execute_command_configuration=ecs.ExecuteCommandConfiguration(
                logging=ecs.ExecuteCommandLogging.OVERRIDE,
                log_configuration=ecs.ExecuteCommandLogConfiguration(cloud_watch_log_group=self.exec_log_group),
            ),
        )
        self.capacity_provider_names = [
            name for name, wanted in (("FARGATE", fargate), ("FARGATE_SPOT", fargate_spot)) if wanted
        ]
        self.associations = ecs.CfnClusterCapacityProviderAssociations(
            self,
            "CapacityProviders",
            cluster=self.cluster.cluster_name,
            capacity_providers=self.capacity_provider_names,
            default_capacity_provider_strategy=[],
        )

    def add_capacity_provider(self, provider: ecs.AsgCapacityProvider) -> None:
        """Associate an Auto Scaling group's capacity provider with the cluster."""
        self.capacity_provider_names.append(provider.capacity_provider_name)
        self.associations.capacity_providers = list(self.capacity_provider_names)
