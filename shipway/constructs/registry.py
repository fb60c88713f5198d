"""Where the environment's images live: the platform side of ECR, or a CNCF distribution registry on S3.

``registry: ecr`` needs nothing of the platform by default: ECR encrypts every repository, and the app stacks
create their repositories with scan on push. A spec may opt in to a registry-wide scanning rule that scans every
repository of the account and Region on push (``ecr_registry_scanning``, ``EcrScanOnPush``).

``registry: s3`` runs ``registry:2`` (CNCF distribution) as a Fargate service behind the shared ALB, its storage
an encrypted, versioned, retained bucket (``S3Registry``). The configuration is rendered by ``registry_config``
from ``cloud-init/registry-config.yml.j2``, for the service and for the loopback test alike. Every request needs
the user and password of the environment's Secrets Manager secret (htpasswd auth): the build logs in with it to
push, app tasks pull with it as ECS repository credentials.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .. import checkov, nag, naming
from ..defaults import HTPASSWD_IMAGE, REGISTRY_IMAGE
from ..listener_rules import LOWEST_PRIORITY, registry_rules
from ..templates import render

REGISTRY_PORT = 5000
CONFIG_PATH = "/etc/docker/registry/config.yml"
AUTH_DIRECTORY = "/auth"
HTPASSWD_PATH = f"{AUTH_DIRECTORY}/htpasswd"
# Not REGISTRY_*: distribution reads every REGISTRY_* variable as an override of its configuration.
CONFIG_VARIABLE = "SHIPWAY_REGISTRY_CONFIG"


def registry_config(*, bucket: str, region: str, address: str = f":{REGISTRY_PORT}", endpoint: str | None = None,
                    force_path_style: bool = False, secure: bool = True, htpasswd: str | None = HTPASSWD_PATH) -> str:
    """The registry's config.yml: storage in ``bucket``, listening on ``address``, every request authenticated
    against the bcrypt ``htpasswd`` file (None: anonymous, for nothing but a comparison in tests).

    ``endpoint``, ``force_path_style`` and ``secure`` point the S3 driver at another S3 implementation (the
    tests' moto server); on AWS the defaults apply.
    """
    return render(
        "registry-config.yml.j2", bucket=bucket, region=region, address=address, endpoint=endpoint,
        force_path_style=force_path_style, secure=secure, htpasswd=htpasswd,
    )


def htpasswd_command(user_variable: str, password_variable: str, path: str) -> str:
    """The shell command that writes ``path`` with one bcrypt entry; the password goes through stdin, never argv."""
    return (f'printf "%s" "${password_variable}" | htpasswd -niB "${user_variable}" > {path}'
            f' && test -s {path}')


def registry_statements(bucket: s3.IBucket) -> list[iam.PolicyStatement]:
    """What distribution's S3 driver calls, on ``bucket`` and nothing else."""
    return [
        iam.PolicyStatement(
            actions=["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
            resources=[bucket.bucket_arn],
        ),
        iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListMultipartUploadParts",
                     "s3:AbortMultipartUpload"],
            resources=[bucket.arn_for_objects("*")],
        ),
    ]


class EcrScanOnPush(Construct):
    """Basic scanning of every repository on push: ECR's registry scanning configuration.

    The setting belongs to the account and Region, not to a stack: create it in one stack per account and
    Region. Repository encryption has no registry-wide switch; each repository sets its own.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.resource = ecr.CfnRegistryScanningConfiguration(
            self, "Resource", scan_type="BASIC",
            rules=[ecr.CfnRegistryScanningConfiguration.ScanningRuleProperty(
                scan_frequency="SCAN_ON_PUSH",
                repository_filters=[ecr.CfnRegistryScanningConfiguration.RepositoryFilterProperty(
                    filter="*", filter_type="WILDCARD",
                )],
            )],
        )


class S3Registry(Construct):
    """``registry:2`` on Fargate behind the shared ALB, its storage in S3.

    :param cluster: the environment's ECS cluster (with its VPC: the service runs in the private subnets).
    :param listener: the ALB listener (HTTPS) that routes ``host`` to the registry.
    :param router_security_group: the ALB's security group, the only one let in to the tasks.
    :param host: the host name clients address the registry by; the listener's certificate covers it.
    :param source_cidrs: who may reach the registry through the ALB, e.g. the environment's NAT addresses.
    :param priority: listener-rule priority of the first rule; each further ``SOURCES_PER_RULE``
        source addresses take the next lower number (shipway.listener_rules). Default: ``LOWEST_PRIORITY``, the
        lowest there is.
    :param desired_count: registry tasks. Default: 2, one per AZ of the first two.
    :param cpu: task CPU units. Default: 256.
    :param memory_mib: task memory. Default: 512.
    :param log_retention: retention of the registry's log group. Default: one month.
    :param access_logs_bucket: where the bucket's server access logs go. Default: none (acknowledged).
    :param credentials_secret_name: name of the secret (``username``, ``password``) that every request must
        present. Default: a generated name.

    Attributes: ``bucket``, ``service``, ``task_definition``, ``target_group``, ``rules``, ``config``,
    ``credentials`` (the secret).
    """

    def __init__(self, scope: Construct, construct_id: str, *, cluster: ecs.ICluster,
                 listener: elbv2.IApplicationListener, router_security_group: ec2.ISecurityGroup, host: str,
                 source_cidrs: Sequence[str], priority: int = LOWEST_PRIORITY, desired_count: int = 2,
                 cpu: int = 256, memory_mib: int = 512,
                 log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
                 access_logs_bucket: s3.IBucket | None = None, credentials_secret_name: str | None = None) -> None:
        super().__init__(scope, construct_id)
        if not source_cidrs:
            raise ValueError("S3Registry needs at least one source CIDR")
        self.bucket = self._storage(access_logs_bucket)
        self.http_secret, self.credentials = self._secrets(credentials_secret_name)
        self.config = registry_config(bucket=self.bucket.bucket_name, region=cdk.Stack.of(self).region)
        self.task_definition = self._task_definition(cpu, memory_mib)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )
        self._containers()
        self.security_group, self.service = self._service(cluster, router_security_group, desired_count)
        self.target_group, self.rules = self._routing(cluster, listener, host, source_cidrs, priority)

    def _storage(self, access_logs_bucket: s3.IBucket | None) -> s3.Bucket:
        """The encrypted, versioned, retained bucket that holds every blob and manifest."""
        bucket = s3.Bucket(
            self, "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix="registry-bucket/" if access_logs_bucket else None,
            lifecycle_rules=[s3.LifecycleRule(
                id="Housekeeping",
                abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                noncurrent_version_expiration=cdk.Duration.days(30),
            )],
        )
        if access_logs_bucket is None:
            nag.acknowledge(
                bucket, "AwsSolutions-S1",
                "No access-log bucket was given; the registry's own JSON logs record every request",
            )
        return bucket

    def _secrets(self, credentials_secret_name: str | None) -> tuple[secretsmanager.Secret, secretsmanager.Secret]:
        """http.secret and the registry's one user, each acknowledged for its key and its rotation."""
        # Shared by every task so an upload begun on one can finish on another.
        http_secret = secretsmanager.Secret(
            self, "HttpSecret", description="registry:2 http.secret, shared by its tasks",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
        )
        # The one user of the registry: the build pushes with it, app tasks pull with it.
        credentials = secretsmanager.Secret(
            self, "Credentials", secret_name=credentials_secret_name,
            description="registry:2 user and password: the build pushes with them, app tasks pull with them",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": naming.REGISTRY_USER}),
                generate_string_key="password", password_length=40, exclude_punctuation=True,
            ),
        )
        for secret, what in ((credentials, "the registry password"), (http_secret, "http.secret")):
            checkov.skip(
                secret, "CKV_AWS_149",
                f"Secrets Manager's AWS-managed key encrypts {what}; whoever IAM lets read the secret can "
                "decrypt it, and a customer key would add a key policy to keep in step with every reader's role",
            )
        nag.acknowledge(
            credentials, "AwsSolutions-SMG4",
            "Rotating the registry password needs the build, every app task definition and the registry itself to "
            "change together; rotate it by hand as docs/registry.md describes",
        )
        nag.acknowledge(
            http_secret, "AwsSolutions-SMG4",
            "http.secret only signs upload state between tasks; a new value merely restarts uploads in flight",
        )
        return http_secret, credentials

    def _task_definition(self, cpu: int, memory_mib: int) -> ecs.FargateTaskDefinition:
        """The task definition and its role's grant on the bucket, with their acknowledgements."""
        task_definition = ecs.FargateTaskDefinition(
            self, "TaskDefinition", cpu=cpu, memory_limit_mib=memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        for statement in registry_statements(self.bucket):
            task_definition.add_to_task_role_policy(statement)
        nag.acknowledge(
            task_definition, "AwsSolutions-ECS2",
            "The one variable is the registry's rendered config.yml, which holds no secret; http.secret comes "
            "from Secrets Manager",
        )
        nag.acknowledge(
            task_definition, nag.resource_finding(self, "AwsSolutions-IAM5", self.bucket.arn_for_objects("*")),
            "distribution's S3 driver reads and writes any blob or manifest key in its own bucket, and only there",
        )
        return task_definition

    def _containers(self) -> None:
        """The htpasswd init container and the registry, sharing the task-scoped password volume."""
        # The password file lives in a task-scoped volume: written at each start from the secret, by an init
        # container the registry waits for, so a rotated password takes effect with the next task.
        self.task_definition.add_volume(name="auth")
        htpasswd = self.task_definition.add_container(
            "Htpasswd",
            image=ecs.ContainerImage.from_registry(HTPASSWD_IMAGE),
            essential=False,
            entry_point=["/bin/sh", "-c"],
            command=[htpasswd_command("REGISTRY_USERNAME", "REGISTRY_PASSWORD", HTPASSWD_PATH)],
            secrets={
                "REGISTRY_USERNAME": ecs.Secret.from_secrets_manager(self.credentials, field="username"),
                "REGISTRY_PASSWORD": ecs.Secret.from_secrets_manager(self.credentials, field="password"),
            },
            logging=ecs.LogDrivers.aws_logs(stream_prefix="htpasswd", log_group=self.log_group),
        )
        htpasswd.add_mount_points(ecs.MountPoint(container_path=AUTH_DIRECTORY, source_volume="auth", read_only=False))
        registry = self.task_definition.add_container(
            "Registry",
            image=ecs.ContainerImage.from_registry(REGISTRY_IMAGE),
            # The image's sh writes the rendered config where registry looks for it, then becomes registry.
            entry_point=["/bin/sh", "-c"],
            command=[f'printf "%s" "${CONFIG_VARIABLE}" > {CONFIG_PATH} && exec registry serve {CONFIG_PATH}'],
            environment={CONFIG_VARIABLE: self.config},
            secrets={"REGISTRY_HTTP_SECRET": ecs.Secret.from_secrets_manager(self.http_secret)},
            port_mappings=[ecs.PortMapping(container_port=REGISTRY_PORT)],
            logging=ecs.LogDrivers.aws_logs(stream_prefix="registry", log_group=self.log_group),
        )
        registry.add_mount_points(ecs.MountPoint(container_path=AUTH_DIRECTORY, source_volume="auth", read_only=True))
        registry.add_container_dependencies(
            ecs.ContainerDependency(container=htpasswd, condition=ecs.ContainerDependencyCondition.SUCCESS)
        )

    def _service(self, cluster: ecs.ICluster, router_security_group: ec2.ISecurityGroup,
                 desired_count: int) -> tuple[ec2.SecurityGroup, ecs.FargateService]:
        """The tasks' security group, open to the ALB only, and the Fargate service in the private subnets."""
        security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=cluster.vpc, description="registry:2 tasks: the ALB only",
            allow_all_outbound=True,
        )
        # Both sides: the tasks' ingress and, where the router's group is ours to change, its egress.
        security_group.connections.allow_from(
            router_security_group, ec2.Port.tcp(REGISTRY_PORT), "registry from the ALB"
        )
        service = ecs.FargateService(
            self, "Service",
            cluster=cluster,
            task_definition=self.task_definition,
            desired_count=desired_count,
            security_groups=[security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
        )
        return security_group, service

    def _routing(self, cluster: ecs.ICluster, listener: elbv2.IApplicationListener, host: str,
                 source_cidrs: Sequence[str],
                 priority: int) -> tuple[elbv2.ApplicationTargetGroup, list[elbv2.ApplicationListenerRule]]:
        """The target group and its listener rules, ``SOURCES_PER_RULE`` source addresses each
        (shipway.listener_rules, which the spec's check reads too)."""
        target_group = elbv2.ApplicationTargetGroup(
            self, "TargetGroup",
            vpc=cluster.vpc,
            port=REGISTRY_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            targets=[self.service],
            # The API root answers an anonymous GET with its 401 challenge once the registry is up; distribution's
            # health wrapper answers 503 instead while its storage check fails.
            health_check=elbv2.HealthCheck(path="/v2/", healthy_http_codes="401", interval=cdk.Duration.seconds(10)),
            deregistration_delay=cdk.Duration.seconds(30),
        )
        rules = [
            elbv2.ApplicationListenerRule(
                self, f"Rule{n}",
                listener=listener,
                priority=rule_priority,
                conditions=[
                    elbv2.ListenerCondition.host_headers([host]),
                    elbv2.ListenerCondition.source_ips(list(cidrs)),
                ],
                target_groups=[target_group],
            )
            for n, (rule_priority, cidrs) in enumerate(registry_rules(list(source_cidrs), priority), start=1)
        ]
        return target_group, rules
