"""EC2 capacity: pools of instances that join the cluster through one cloud-init document.

``provisioning: asg`` pools are Auto Scaling groups registered as ECS capacity providers (ECS scales them);
``provisioning: spot-fleet`` pools are ``AWS::EC2::SpotFleet`` requests held at a fixed target capacity.
Both boot the ECS-optimized Amazon Linux 2023 AMI from a launch template whose user data is
``render_user_data``: it names the cluster and writes the pool's metadata as ECS instance attributes.
"""

from __future__ import annotations

from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from .. import nag, naming
from ..spec.model import Pool
from ..templates import render

ROOT_DEVICE = "/dev/xvda"
"""The root device of Amazon Linux 2023 AMIs."""
FLEET_POLICY = "AmazonEC2SpotFleetTaggingRole"


def render_user_data(*, cluster: str, pool_name: str, pool: Pool) -> str:
    """The ``#cloud-config`` document an instance of ``pool_name`` boots with; deterministic."""
    return render(
        "ecs-instance.yaml.j2",
        cluster=cluster,
        pool_name=pool_name,
        attributes={**pool.metadata, naming.POOL_ATTRIBUTE: pool_name},
        spot=pool.spot,
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
    """An Auto Scaling group over ``instance_types`` registered as the ECS capacity provider ``capacity_provider_name``.

    Spot pools buy Spot only, capacity-optimized, with capacity rebalancing; on-demand pools buy on-demand
    in the listed order. ECS manages the group's size (managed scaling), keeps instances with tasks
    from being scaled in (managed termination protection) and drains instances before they go.

    :param user_data: the rendered cloud-init document (``render_user_data``).
    """

    def __init__(self, scope: Construct, construct_id: str, *, pool: Pool, capacity_provider_name: str,
                 vpc: ec2.IVpc, user_data: str, instance_profile: iam.IInstanceProfile,
                 security_group: ec2.ISecurityGroup) -> None:
        super().__init__(scope, construct_id)
        self.launch_template = _launch_template(
            self, user_data=user_data, instance_profile=instance_profile, security_group=security_group,
            root_volume_gb=pool.root_volume_gb,
        )
        if pool.spot:
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
            min_capacity=pool.min,
            max_capacity=pool.max,
            capacity_rebalance=pool.spot,
            mixed_instances_policy=autoscaling.MixedInstancesPolicy(
                launch_template=self.launch_template,
                launch_template_overrides=[
                    autoscaling.LaunchTemplateOverrides(instance_type=ec2.InstanceType(t)) for t in pool.instance_types
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
        self.capacity_provider = ecs.AsgCapacityProvider(
            self,
            "CapacityProvider",
            auto_scaling_group=self.auto_scaling_group,
            capacity_provider_name=capacity_provider_name,
            enable_managed_scaling=True,
            enable_managed_termination_protection=True,
            enable_managed_draining=True,
        )


class SpotFleetPool(Construct):
    """An ``AWS::EC2::SpotFleet`` over ``instance_types`` x the private subnets, capacity-optimized, at ``capacity``.

    A Spot Fleet is not a capacity provider: services reach its instances with launch type EC2 and the
    ``shipway.pool`` constraint (see ``placement``).
    """

    def __init__(self, scope: Construct, construct_id: str, *, pool: Pool, vpc: ec2.IVpc, user_data: str,
                 instance_profile: iam.IInstanceProfile, security_group: ec2.ISecurityGroup) -> None:
        super().__init__(scope, construct_id)
        self.launch_template = _launch_template(
            self, user_data=user_data, instance_profile=instance_profile, security_group=security_group,
            root_volume_gb=pool.root_volume_gb,
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
                target_capacity=pool.capacity,
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
                            for t in pool.instance_types
                            for subnet in subnets
                        ],
                    )
                ],
            ),
        )


class Pools(Construct):
    """Every pool of one environment, sharing one instance role and one instance security group.

    Instances take no inbound traffic: tasks run in awsvpc mode and wear the app security group on their
    own network interfaces. ``capacity_providers`` lists the ASG pools' providers for the cluster.
    """

    def __init__(self, scope: Construct, construct_id: str, *, project: str, env: str, pools: dict[str, Pool],
                 cluster: ecs.ICluster, vpc: ec2.IVpc) -> None:
        super().__init__(scope, construct_id)
        cluster_name = naming.cluster_name(project, env)
        instance_role = InstanceRole(self, "InstanceRole", cluster=cluster)
        self.instance_role = instance_role.role
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description=f"ECS container instances of {cluster_name}",
            allow_all_outbound=True,
        )
        self.asg_pools: dict[str, AsgPool] = {}
        self.spot_fleet_pools: dict[str, SpotFleetPool] = {}
        self.user_data: dict[str, str] = {}
        for name in sorted(pools):
            pool = pools[name]
            self.user_data[name] = render_user_data(cluster=cluster_name, pool_name=name, pool=pool)
            common = dict(
                pool=pool, vpc=vpc, user_data=self.user_data[name], instance_profile=instance_role.instance_profile,
                security_group=self.security_group,
            )
            child_id = "".join(part.capitalize() for part in name.split("-"))
            if pool.provisioning == "asg":
                self.asg_pools[name] = AsgPool(
                    self, child_id, capacity_provider_name=naming.capacity_provider_name(project, env, name),
                    **common,
                )
            else:
                self.spot_fleet_pools[name] = SpotFleetPool(self, child_id, **common)

    @property
    def capacity_providers(self) -> list[ecs.AsgCapacityProvider]:
        return [p.capacity_provider for p in self.asg_pools.values()]

