"""LocustLoadTest: a Locust master task and a worker service, found through Cloud Map, for the pipeline's gate.

The master is a one-off task (the gate action runs it and registers its address in Cloud Map); the
workers are a service at zero tasks between runs (the gate action scales it to ``load.workers``). Both
carry the command lines of ``shipway.loadtest.commands.locust_commands``, the same the loopback runner
starts. The master's security group admits Locust's port from the workers only, and nothing else: its
web UI, when run by hand, is reached through ECS Exec port forwarding, never through a listener.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .. import checkov, nag, naming
from ..constructs import placement
from ..constructs.platform_imports import PlatformImports
from ..naming import LoadTestParam
from .commands import MASTER_PORT, Load, locust_commands
from .gate import Thresholds

if TYPE_CHECKING:
    from .props import LocustLoadTestProps

# Where the master writes its CSV stats inside the container (the task's ephemeral storage).
CSV_PREFIX = "/tmp/loadtest/stats"
# The containers' names: the pipeline's gate swaps their images and overrides the master's environment.
MASTER_CONTAINER = "master"
WORKER_CONTAINER = "worker"


@dataclass(frozen=True, kw_only=True)
class WorkerCapacity:
    """Where the workers run: capacity providers, and for EC2 pools the instances they may use.

    ``fargate`` with a FARGATE_SPOT strategy by default; for a pool, an EC2 task definition (awsvpc)
    with ``constraints``, and ``strategies`` empty for a Spot Fleet (launch type EC2).
    """

    fargate: bool = True
    strategies: list[ecs.CapacityProviderStrategy] = field(
        default_factory=lambda: [ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)]
    )
    constraints: list[ecs.PlacementConstraint] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Names:
    """The physical names the pipeline's gate action addresses (see ``naming``)."""

    master_family: str
    worker_family: str
    worker_service: str
    discovery: str
    results_bucket: str
    master_role: str
    master_execution_role: str
    worker_role: str
    worker_execution_role: str


class LocustLoadTest(Construct):
    """The load-test tasks of one app in one environment.

    :param load: what the test does; the master expects ``load.workers`` workers.
    :param thresholds: the gate's p95 and failure ratio, given to the master's entry point.
    :param image: the load-test image (Locust, the app's locustfile at ``load.locustfile``, shipway's gate).
    :param cpu, memory: the size of the master task and of each worker task.
    :param worker_capacity: where the workers run; default FARGATE_SPOT. The master runs on FARGATE.
    :param results_bucket: pass yours, or we create an encrypted, versioned, retained, TLS-only one
        named ``names.results_bucket``.
    :param publish_parameter: called with (key, value) for each ``LoadTestParam`` the gate reads at run time.

    Attributes: ``task_definition`` (the master's), ``worker_task_definition``, ``service`` (the workers),
    ``discovery_service``, ``master_security_group``, ``worker_security_group``, ``results_bucket``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        vpc: ec2.IVpc,
        namespace: servicediscovery.IPrivateDnsNamespace,
        image: ecs.ContainerImage,
        load: Load,
        thresholds: Thresholds,
        cpu: int,
        memory: int,
        names: Names,
        log_group: logs.ILogGroup,
        worker_capacity: WorkerCapacity | None = None,
        results_bucket: s3.IBucket | None = None,
        publish_parameter: Callable[[str, str], None] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        worker_capacity = worker_capacity or WorkerCapacity()
        self.cluster = cluster
        self.results_bucket = results_bucket or self._results_bucket(names.results_bucket)
        self.master_security_group, self.worker_security_group = self._security_groups(vpc)
        master_host = self._discovery(namespace, names.discovery)
        commands = locust_commands(load, master_host=master_host, csv_prefix=CSV_PREFIX)
        self.task_definition = self._master_task(
            names, image=image, command=commands.master, thresholds=thresholds, cpu=cpu, memory=memory,
            log_group=log_group,
        )
        self.worker_task_definition = self._worker_task(
            names, image=image, command=commands.worker, worker_capacity=worker_capacity, cpu=cpu, memory=memory,
            log_group=log_group,
        )
        self.service = self._worker_service(cluster, vpc, names.worker_service, worker_capacity)
        if publish_parameter is not None:
            publish_parameter(LoadTestParam.MASTER_SECURITY_GROUP, self.master_security_group.security_group_id)
            publish_parameter(LoadTestParam.DISCOVERY_SERVICE_ID, self.discovery_service.service_id)
            publish_parameter(LoadTestParam.DISCOVERY_SERVICE_ARN, self.discovery_service.service_arn)

    def _security_groups(self, vpc: ec2.IVpc) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup]:
        """The master's group, open to the workers' on Locust's port only, and the workers' (no inbound)."""
        master = ec2.SecurityGroup(
            self, "MasterSecurityGroup", vpc=vpc, allow_all_outbound=True,
            description="Locust master: the Locust port from the load-test workers only",
        )
        worker = ec2.SecurityGroup(
            self, "WorkerSecurityGroup", vpc=vpc, allow_all_outbound=True,
            description="Locust workers: no inbound; outbound to the master and the app under test",
        )
        master.add_ingress_rule(worker, ec2.Port.tcp(MASTER_PORT), "Locust workers to their master")
        return master, worker

    def _discovery(self, namespace: servicediscovery.IPrivateDnsNamespace, name: str) -> str:
        """The Cloud Map service of the running master (``discovery_service``); returns the host workers resolve."""
        # The gate action registers the master task's address here; workers resolve <discovery>.<namespace>.
        self.discovery_service = servicediscovery.Service(
            self, "MasterDiscovery", namespace=namespace, name=name,
            dns_record_type=servicediscovery.DnsRecordType.A, dns_ttl=cdk.Duration.seconds(10),
            description="The running Locust master's task address, registered by the load-test gate",
        )
        master_host = f"{name}.{namespace.namespace_name}"
        cdk.Tags.of(self.discovery_service).add(naming.DISCOVERY_TAG, master_host)
        return master_host

    def _master_task(self, names: Names, *, image: ecs.ContainerImage, command: list[str], thresholds: Thresholds,
                     cpu: int, memory: int, log_group: logs.ILogGroup) -> ecs.FargateTaskDefinition:
        """The master's roles, task definition and container, its role's grants and their acknowledgements."""
        master_role = self._role("MasterTaskRole", names.master_role, "ecs-tasks.amazonaws.com")
        master_execution_role = self._role("MasterExecutionRole", names.master_execution_role,
                                           "ecs-tasks.amazonaws.com")
        task_definition = ecs.FargateTaskDefinition(
            self, "MasterTask", family=names.master_family, cpu=cpu, memory_limit_mib=memory,
            task_role=master_role, execution_role=master_execution_role,
        )
        task_definition.add_container(
            MASTER_CONTAINER,
            image=image,
            entry_point=[
                "python", "-m", "shipway.loadtest.task",
                "--p95-ms", f"{thresholds.p95_ms:g}", "--failure-ratio", f"{thresholds.failure_ratio:g}",
                "--csv-prefix", CSV_PREFIX, "--",
            ],
            command=command,
            environment={"SHIPWAY_RESULTS_BUCKET": self.results_bucket.bucket_name},
            port_mappings=[ecs.PortMapping(container_port=MASTER_PORT, name="locust")],
            logging=ecs.LogDriver.aws_logs(stream_prefix=naming.LOADTEST_MASTER, log_group=log_group),
            essential=True,
        )
        # New objects only, under a run's key: no read, no delete, no ACLs.
        task_definition.add_to_task_role_policy(iam.PolicyStatement(
            actions=["s3:PutObject"], resources=[self.results_bucket.arn_for_objects("*")],
        ))
        # The web UI, when someone runs the master by hand, is reached through ECS Exec port forwarding.
        task_definition.add_to_task_role_policy(iam.PolicyStatement(
            actions=["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                     "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
            resources=["*"],
        ))
        nag.acknowledge(
            master_role, "AwsSolutions-IAM5[Resource::*]",
            "ssmmessages channels (ECS Exec, for the web UI by hand) have no resource-level permissions.",
        )
        bucket = self.results_bucket.node.default_child
        if isinstance(bucket, s3.CfnBucket):
            nag.acknowledge(
                master_role,
                f"AwsSolutions-IAM5[Resource::<{cdk.Stack.of(self).get_logical_id(bucket)}.Arn>/*]",
                "The master puts a run's CSV stats and summary as new objects under the run's execution ID.",
            )
        self._acknowledge_execution_role(master_execution_role)
        nag.acknowledge(
            task_definition, "AwsSolutions-ECS2",
            "The only variable is the results bucket's name, which is no secret.",
        )
        return task_definition

    def _worker_task(self, names: Names, *, image: ecs.ContainerImage, command: list[str],
                     worker_capacity: WorkerCapacity, cpu: int, memory: int,
                     log_group: logs.ILogGroup) -> ecs.TaskDefinition:
        """The workers' roles, task definition (Fargate, or EC2 in awsvpc for a pool) and container."""
        worker_role = self._role("WorkerTaskRole", names.worker_role, "ecs-tasks.amazonaws.com")
        worker_execution_role = self._role("WorkerExecutionRole", names.worker_execution_role,
                                           "ecs-tasks.amazonaws.com")
        task_definition: ecs.TaskDefinition
        if worker_capacity.fargate:
            task_definition = ecs.FargateTaskDefinition(
                self, "WorkerTask", family=names.worker_family, cpu=cpu, memory_limit_mib=memory,
                task_role=worker_role, execution_role=worker_execution_role,
            )
        else:
            # awsvpc on EC2 too: the workers wear their security group, which the master admits.
            task_definition = ecs.Ec2TaskDefinition(
                self, "WorkerTask", family=names.worker_family, network_mode=ecs.NetworkMode.AWS_VPC,
                task_role=worker_role, execution_role=worker_execution_role,
            )
        task_definition.add_container(
            WORKER_CONTAINER,
            image=image,
            entry_point=command[:1],
            command=command[1:],
            cpu=cpu if not worker_capacity.fargate else None,
            memory_limit_mib=memory if not worker_capacity.fargate else None,
            logging=ecs.LogDriver.aws_logs(stream_prefix=naming.LOADTEST_WORKER, log_group=log_group),
            essential=True,
        )
        self._acknowledge_execution_role(worker_execution_role)
        nag.acknowledge(
            task_definition, "AwsSolutions-ECS2",
            "CDK sets AWS_REGION for the awslogs driver on EC2; the workers carry no secret in variables.",
        )
        return task_definition

    def _worker_service(self, cluster: ecs.ICluster, vpc: ec2.IVpc, service_name: str,
                        worker_capacity: WorkerCapacity) -> ecs.BaseService:
        """The workers' service, at zero tasks between runs, on Fargate Spot or the pool's instances."""
        service_props: dict[str, Any] = {
            "cluster": cluster,
            "task_definition": self.worker_task_definition,
            "service_name": service_name,
            "desired_count": 0,  # between runs; the gate action scales to load.workers and back
            "min_healthy_percent": 0,
            "max_healthy_percent": 200,
            "security_groups": [self.worker_security_group],
            "vpc_subnets": ec2.SubnetSelection(subnets=vpc.private_subnets),
            "assign_public_ip": False,
            "capacity_provider_strategies": worker_capacity.strategies or None,
            # Fail a worker deployment fast, without rolling back to another locustfile: the master then
            # gives up waiting for its workers and the gate fails.
            "circuit_breaker": ecs.DeploymentCircuitBreaker(enable=True, rollback=False),
        }
        if worker_capacity.fargate:
            return ecs.FargateService(self, "Workers", **service_props)
        return ecs.Ec2Service(
            self, "Workers", placement_constraints=worker_capacity.constraints,
            placement_strategies=placement.placement_strategies(), **service_props,
        )

    def _role(self, construct_id: str, role_name: str, principal: str) -> iam.Role:
        return iam.Role(self, construct_id, role_name=role_name, assumed_by=iam.ServicePrincipal(principal))

    def _results_bucket(self, bucket_name: str) -> s3.Bucket:
        bucket = s3.Bucket(
            self, "Results", bucket_name=bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True, minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        nag.acknowledge(
            bucket, "AwsSolutions-S1",
            "Only the load-test master writes here and the pipeline's gate reads; each object is a run's result "
            "under its pipeline execution ID, and CloudTrail records the API calls. Access logs would add a "
            "second bucket per app and environment for no question they answer.",
        )
        checkov.skip(
            bucket, "CKV_AWS_18",
            "Only the load-test master writes here and the pipeline's gate reads; each object is a run's result "
            "under its pipeline execution ID, and CloudTrail records the API calls",
        )
        return bucket

    @staticmethod
    def _acknowledge_execution_role(role: iam.Role) -> None:
        nag.acknowledge(
            role, "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken, which pulling the load-test image needs, has no resource-level "
            "permissions.",
        )


def add_to_runtime(scope: Construct, *, project: str, app: str, env: str, platform: PlatformImports,
                   log_group: logs.ILogGroup, props: LocustLoadTestProps) -> LocustLoadTest:
    """``LocustLoadTest`` of ``app`` in ``env``, in the stack ``scope`` with what surrounds it there: its image is
    the load-test repository's tag the pipeline recorded (the gate registers a revision with the exact image it
    built), and the SSM parameters the gate reads at run time sit beside it."""
    repository = ecr.Repository.from_repository_name(scope, "LoadTestRepository",
                                                     naming.loadtest_repository(project, app))

    def publish(key: str, value: str) -> None:
        ssm.StringParameter(
            scope, "LoadTestParam" + "".join(part.capitalize() for part in key.split("-")),
            parameter_name=naming.loadtest_parameter(project, app, env, key), string_value=value,
            description=f"Load test of {app} in {env}: {key}, read by the pipeline's gate",
        )

    return LocustLoadTest(
        scope, "LoadTest",
        # PlatformImports reads each parameter on first use and the template lists them in that order: the
        # platform's first, then the image tag's.
        cluster=platform.cluster,
        vpc=platform.private_vpc,
        namespace=platform.namespace,
        image=ecs.ContainerImage.from_ecr_repository(repository, ssm.StringParameter.value_for_string_parameter(
            scope, naming.image_tag_parameter(project, app, env))),
        log_group=log_group,
        publish_parameter=publish,
        **props,
    )
