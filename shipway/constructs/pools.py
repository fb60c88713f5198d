"""EC2 capacity: pools of instances that join the cluster through one cloud-init document.

Each pool kind is one props class, which alone decides what the kind builds, how tasks reach it and what it
buys: ``AsgPoolProps`` builds an ``AsgPool``, an Auto Scaling group registered as an ECS capacity provider (ECS
scales it); ``SpotFleetPoolProps`` builds a ``SpotFleetPool``, an ``AWS::EC2::SpotFleet`` request held at a fixed
target capacity, which tasks reach with launch type EC2. Both are a ``placement.Capacity``. Both boot the
ECS-optimized Amazon Linux 2023 AMI from a launch template whose user data is ``render_user_data``: it names the
cluster and writes the pool's metadata as ECS instance attributes. A new kind is one props class here (with its
construct) and its case in ``shipway.props.pools``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from .. import nag, naming
from ..templates import render
from .placement import Capacity, placement_constraints, placement_strategies, pool_constraint

ROOT_DEVICE = "/dev/xvda"
"""The root device of Amazon Linux 2023 AMIs."""
FLEET_POLICY = "AmazonEC2SpotFleetTaggingRole"


class PoolConstruct(Protocol):
    """What every pool kind's construct offers."""

    launch_template: ec2.LaunchTemplate
    capacity_provider: ecs.AsgCapacityProvider | None
    """The pool's capacity provider, for the cluster; None for a kind that is none."""


@dataclass(frozen=True, kw_only=True)
class PoolProps(Capacity, ABC):
    """One pool of the cluster: what every kind takes, and what each kind decides.

    :param name: the pool's name: its instances' ``shipway.pool`` attribute.
    :param instance_types: the EC2 instance types its instances may be.
    :param metadata: fleet metadata, written as ECS instance attributes beside ``shipway.pool``.
    :param root_volume_gb: the size of each instance's encrypted gp3 root volume.
    :param stop_timeout: ``ECS_CONTAINER_STOP_TIMEOUT`` seconds.
    """

    name: str
    instance_types: Sequence[str]
    metadata: Mapping[str, str]
    root_volume_gb: int
    stop_timeout: int
    on_instances: ClassVar[bool] = True

    @property
    @abstractmethod
    def buys_spot(self) -> bool:
        """Its instances are Spot Instances: their ECS agent drains them on an interruption notice."""

    @abstractmethod
    def build(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, user_data: str,
              instance_profile: iam.IInstanceProfile, security_group: ec2.ISecurityGroup) -> PoolConstruct:
        """The pool's construct."""

    def placement_constraints(self, placement: Mapping[str, str]) -> list[ecs.PlacementConstraint]:
        return placement_constraints(placement)

    def placement_strategies(self) -> list[ecs.PlacementStrategy]:
        return placement_strategies()


@dataclass(frozen=True, kw_only=True)
class AsgPoolProps(PoolProps):
    """An Auto Scaling group of ``min_capacity`` to ``max_capacity`` instances, the ECS capacity provider
    ``capacity_provider_name``; Spot when ``spot``, on demand otherwise."""

    capacity_provider_name: str
    spot: bool
    min_capacity: int
    max_capacity: int

    @property
    def buys_spot(self) -> bool:
        return self.spot

    def capacity_provider_strategies(self) -> list[ecs.CapacityProviderStrategy]:
        return [ecs.CapacityProviderStrategy(capacity_provider=self.capacity_provider_name, weight=1)]

    def build(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, user_data: str,
              instance_profile: iam.IInstanceProfile, security_group: ec2.ISecurityGroup) -> AsgPool:
        return AsgPool(scope, construct_id, props=self, vpc=vpc, user_data=user_data,
                       instance_profile=instance_profile, security_group=security_group)


@dataclass(frozen=True, kw_only=True)
class SpotFleetPoolProps(PoolProps):
    """A Spot Fleet held at ``target_capacity`` Spot Instances. It is no capacity provider: tasks reach it with
    launch type EC2 and the ``shipway.pool`` constraint."""

    target_capacity: int
    launch_type: ClassVar[str | None] = "EC2"

    @property
    def buys_spot(self) -> bool:
        return True

    def capacity_provider_strategies(self) -> list[ecs.CapacityProviderStrategy]:
        return []

    def placement_constraints(self, placement: Mapping[str, str]) -> list[ecs.PlacementConstraint]:
        return [pool_constraint(self.name), *placement_constraints(placement)]

    def build(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, user_data: str,
              instance_profile: iam.IInstanceProfile, security_group: ec2.ISecurityGroup) -> SpotFleetPool:
        return SpotFleetPool(scope, construct_id, props=self, vpc=vpc, user_data=user_data,
                             instance_profile=instance_profile, security_group=security_group)


def render_user_data(*, cluster: str, pool: PoolProps) -> str:
    """The ``#cloud-config`` document an instance of ``pool`` boots with; deterministic."""
    return render(
        "ecs-instance.yaml.j2",
        cluster=cluster,
        pool_name=pool.name,
        attributes={**pool.metadata, naming.POOL_ATTRIBUTE: pool.name},
        spot=pool.buys_spot,
        stop_timeout=pool.stop_timeout,
    )


class InstanceRole(Construct):
    """The role of every pool instance: what the ECS agent needs on one cluster, and nothing else.

    The equivalent of AmazonEC2ContainerServiceforEC2Role narrowed to ``cluster``: no ECR and no
    CloudWatch Logs, because tasks pull images and write logs with their execution role.
    """

    def __init__(self, scope: Construct, construct_id: str, *, cluster: ecs.ICluster) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self, "Resource", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description=f"ECS container instances of {cluster.cluster_name}",
        )
        self.role.add_to_policy(iam.PolicyStatement(
            actions=[
                "ecs:RegisterContainerInstance", "ecs:DeregisterContainerInstance",
                "ecs:SubmitAttachmentStateChanges", "ecs:SubmitContainerStateChange", "ecs:SubmitTaskStateChange",
            ],
            resources=[cluster.cluster_arn],
        ))
        self.role.add_to_policy(iam.PolicyStatement(
            # UpdateContainerInstancesState: the agent sets its instance DRAINING on a Spot interruption notice.
            actions=["ecs:Poll", "ecs:StartTelemetrySession", "ecs:UpdateContainerInstancesState"],
            resources=["*"],
            conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
        ))
        self.role.add_to_policy(iam.PolicyStatement(actions=["ecs:DiscoverPollEndpoint"], resources=["*"]))
        self.instance_profile = iam.InstanceProfile(self, "InstanceProfile", role=self.role)
        nag.acknowledge(
            self.role, "AwsSolutions-IAM5[Resource::*]",
            "ecs:DiscoverPollEndpoint supports no resource-level permissions; Poll, StartTelemetrySession and "
            "UpdateContainerInstancesState act on container instances whose ARNs exist only after registration, "
            "so they are scoped to this cluster by the ecs:cluster condition key instead",
        )


def _launch_template(scope: Construct, *, user_data: str, instance_profile: iam.IInstanceProfile,
                     security_group: ec2.ISecurityGroup,
                     root_volume_gb: int) -> ec2.LaunchTemplate:
    return ec2.LaunchTemplate(
        scope,
        "LaunchTemplate",
        # The SSM public parameter of the recommended image: resolved at deploy time, never looked up at synth.
        machine_image=ecs.EcsOptimizedImage.amazon_linux2023(),
        user_data=ec2.UserData.custom(user_data),
        instance_profile=instance_profile,
        security_group=security_group,
        require_imdsv2=True,
        # One hop: containers behind the instance's bridge cannot reach the instance role's credentials.
        http_put_response_hop_limit=1,
        block_devices=[
            ec2.BlockDevice(
                device_name=ROOT_DEVICE,
                volume=ec2.BlockDeviceVolume.ebs(
                    root_volume_gb, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3, delete_on_termination=True
                ),
            )
        ],
    )


class AsgPool(Construct):
    """An Auto Scaling group over ``instance_types`` registered as the ECS capacity provider ``capacity_provider_name``
    (``AsgPoolProps``).

    Spot pools buy Spot only, capacity-optimized, with capacity rebalancing; on-demand pools buy on-demand
    in the listed order. ECS manages the group's size (managed scaling), keeps instances with tasks
    from being scaled in (managed termination protection) and drains instances before they go.

    :param user_data: the rendered cloud-init document (``render_user_data``).
    """

    def __init__(self, scope: Construct, construct_id: str, *, props: AsgPoolProps, vpc: ec2.IVpc, user_data: str,
                 instance_profile: iam.IInstanceProfile, security_group: ec2.ISecurityGroup) -> None:
        super().__init__(scope, construct_id)
        self.launch_template = _launch_template(
            self, user_data=user_data, instance_profile=instance_profile, security_group=security_group,
            root_volume_gb=props.root_volume_gb,
        )
        if props.spot:
            distribution = autoscaling.InstancesDistribution(
                on_demand_base_capacity=0,
                on_demand_percentage_above_base_capacity=0,
                spot_allocation_strategy=autoscaling.SpotAllocationStrategy.CAPACITY_OPTIMIZED,
            )
        else:
            distribution = autoscaling.InstancesDistribution(
                on_demand_base_capacity=0,
                on_demand_percentage_above_base_capacity=100,
                on_demand_allocation_strategy=autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
            )
        self.auto_scaling_group = autoscaling.AutoScalingGroup(
            self,
            "Resource",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            min_capacity=props.min_capacity,
            max_capacity=props.max_capacity,
            capacity_rebalance=props.spot,
            mixed_instances_policy=autoscaling.MixedInstancesPolicy(
                launch_template=self.launch_template,
                launch_template_overrides=[
                    autoscaling.LaunchTemplateOverrides(instance_type=ec2.InstanceType(t)) for t in props.instance_types
                ],
                instances_distribution=distribution,
            ),
        )
        nag.acknowledge(
            self.auto_scaling_group, "AwsSolutions::AwsSolutions-EC26",
            "cdk-nag cannot follow the mixed-instances policy to its launch template; that template's only "
            "block device is an encrypted gp3 volume (tests/test_platform.py asserts it)",
        )
        nag.acknowledge(
            self.auto_scaling_group, "AwsSolutions-AS3",
            "ECS owns this group's scaling through its capacity provider; scaling activity is visible in ECS "
            "and CloudTrail, and the apps' own alarms notify the environment's alarm topic",
        )
        self.capacity_provider: ecs.AsgCapacityProvider | None = ecs.AsgCapacityProvider(
            self,
            "CapacityProvider",
            auto_scaling_group=self.auto_scaling_group,
            capacity_provider_name=props.capacity_provider_name,
            enable_managed_scaling=True,
            enable_managed_termination_protection=True,
            enable_managed_draining=True,
        )


class SpotFleetPool(Construct):
    """An ``AWS::EC2::SpotFleet`` over ``instance_types`` x the private subnets, capacity-optimized, at
    ``target_capacity`` (``SpotFleetPoolProps``).

    A Spot Fleet is not a capacity provider: services reach its instances with launch type EC2 and the
    ``shipway.pool`` constraint (see ``placement``).
    """

    capacity_provider: ecs.AsgCapacityProvider | None = None

    def __init__(self, scope: Construct, construct_id: str, *, props: SpotFleetPoolProps, vpc: ec2.IVpc,
                 user_data: str, instance_profile: iam.IInstanceProfile, security_group: ec2.ISecurityGroup) -> None:
        super().__init__(scope, construct_id)
        self.launch_template = _launch_template(
            self, user_data=user_data, instance_profile=instance_profile, security_group=security_group,
            root_volume_gb=props.root_volume_gb,
        )
        self.fleet_role = iam.Role(
            self, "FleetRole", assumed_by=iam.ServicePrincipal("spotfleet.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(f"service-role/{FLEET_POLICY}")],
        )
        nag.acknowledge(
            self.fleet_role,
            f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/{FLEET_POLICY}]",
            "The AWS-maintained role policy for Spot Fleet: it follows the service's needs (launch, tag, terminate, "
            "pass the instance role to EC2) as AWS changes them",
        )
        subnets = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids
        self.fleet = ec2.CfnSpotFleet(
            self,
            "Resource",
            spot_fleet_request_config_data=ec2.CfnSpotFleet.SpotFleetRequestConfigDataProperty(
                iam_fleet_role=self.fleet_role.role_arn,
                allocation_strategy="capacityOptimized",
                target_capacity=props.target_capacity,
                type="maintain",
                replace_unhealthy_instances=True,
                instance_interruption_behavior="terminate",
                launch_template_configs=[
                    ec2.CfnSpotFleet.LaunchTemplateConfigProperty(
                        launch_template_specification=ec2.CfnSpotFleet.FleetLaunchTemplateSpecificationProperty(
                            launch_template_id=self.launch_template.launch_template_id,
                            version=self.launch_template.latest_version_number,
                        ),
                        overrides=[
                            ec2.CfnSpotFleet.LaunchTemplateOverridesProperty(instance_type=t, subnet_id=subnet)
                            for t in props.instance_types
                            for subnet in subnets
                        ],
                    )
                ],
            ),
        )


class Pools(Construct):
    """Every pool of one environment, sharing one instance role and one instance security group.

    Instances take no inbound traffic: tasks run in awsvpc mode and wear the app security group on their
    own network interfaces. ``capacity_providers`` lists the providers of the pools that are one, for the cluster.

    :param pools: each pool's props; its kind decides what it builds.
    """

    def __init__(self, scope: Construct, construct_id: str, *, cluster_name: str, pools: Sequence[PoolProps],
                 cluster: ecs.ICluster, vpc: ec2.IVpc) -> None:
        super().__init__(scope, construct_id)
        instance_role = InstanceRole(self, "InstanceRole", cluster=cluster)
        self.instance_role = instance_role.role
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description=f"ECS container instances of {cluster_name}",
            allow_all_outbound=True,
        )
        self.pools: dict[str, PoolConstruct] = {}
        self.user_data: dict[str, str] = {}
        for pool in sorted(pools, key=lambda p: p.name):
            self.user_data[pool.name] = render_user_data(cluster=cluster_name, pool=pool)
            self.pools[pool.name] = pool.build(
                self, "".join(part.capitalize() for part in pool.name.split("-")), vpc=vpc,
                user_data=self.user_data[pool.name], instance_profile=instance_role.instance_profile,
                security_group=self.security_group,
            )

    @property
    def capacity_providers(self) -> list[ecs.AsgCapacityProvider]:
        return [p.capacity_provider for p in self.pools.values() if p.capacity_provider is not None]
