"""``<name>-<app>-<env>``: what one app runs in one environment; fast to create, nothing slow inside.

Services (one per process), their target groups and listener rules, autoscaling, the one-off task
definition, cron schedules, the log group, alarms and a dashboard. The platform (VPC, cluster, ALB,
alarm topic) and the data stack's secrets are read through ``PlatformImports``' SSM parameters, so
adding or removing an app never changes another stack.

The image is the app repository's tag the pipeline recorded in SSM for this environment
(``naming.image_tag_parameter``), read at deploy time: a ``cdk deploy`` therefore keeps the image the
pipeline last deployed. Until the first deploy the tag is ``naming.NO_IMAGE_TAG``, and the ``ImageBuilt`` condition
keeps every service at zero tasks with autoscaling suspended, so the stack creates without pulling an image that
does not exist; the pipeline's GoLive step then starts them at the counts published in ``ServiceCounts``.

``shipway.loadtest.locust_construct.add_to_runtime`` adds the Locust tasks of the environment the app's
``loadtest`` names.
"""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .. import naming
from ..constructs.app_database import AppDatabase, RedeployOnRotation
from ..constructs.app_task import AppContainer
from ..constructs.cron import CronJobs
from ..constructs.log_encryption import encrypt_log_groups
from ..constructs.monitoring import AppMonitoring
from ..constructs.one_off import OneOffTask
from ..constructs.platform_imports import PlatformImports
from ..constructs.retention import retention
from ..constructs.service import ProcessService
from ..loadtest import locust_construct
from ..loadtest import props as loadtest_props
from ..nag import acknowledge, resource_finding
from ..naming import Param
from ..props import data, runtime
from ..props.platform import platform_imports
from ..spec import Spec
from .base import ShipwayStack

# A complete Secrets Manager ARN ends in the six random characters Secrets Manager appends to the name.
_COMPLETE_SECRET_ARN = re.compile(r"^arn:[^:]+:secretsmanager:.*-[A-Za-z0-9]{6}$")


class AppRuntimeStack(ShipwayStack):
    def __init__(self, scope: Construct, *, spec: Spec, app: str, env: str) -> None:
        environment = spec.environments[env]
        super().__init__(
            scope,
            naming.app_env_stack(spec.name, app, env),
            spec=spec,
            environment=environment,
            description=f"shipway {spec.name} app {app} in {env}: services, scaling, schedules and alarms",
        )
        self.app_name = app
        self.env_name = env
        self.app_spec = app_spec = spec.apps[app]
        self.platform = platform = PlatformImports(self, "Platform", **platform_imports(spec, env))
        encrypt_log_groups(self, platform.logs_key_arn)
        self.log_group = self._log_group()
        load_test = loadtest_props.locust_load_test(spec, app, env)
        self.load_test = locust_construct.add_to_runtime(
            self, project=spec.name, app=app, env=env, platform=self.platform, log_group=self.log_group,
            props=load_test,
        ) if load_test else None

        tag = ssm.StringParameter.value_for_string_parameter(self, naming.image_tag_parameter(spec.name, app, env))
        self.image_built = cdk.CfnCondition(
            self, "ImageBuilt", expression=cdk.Fn.condition_not(cdk.Fn.condition_equals(tag, naming.NO_IMAGE_TAG))
        )
        self.execution_role, self.task_role = self._roles()
        self._allow_exec_logging()
        self.database = self._database()
        self.container = self._container(tag)
        roles = {"execution_role": self.execution_role, "task_role": self.task_role}

        self.one_off = OneOffTask(
            self, "OneOff", container=self.container, **runtime.one_off_task(spec, app, env), **roles,
        )
        self.monitoring = AppMonitoring(
            self, "Monitoring", topic=platform.alarm_topic, cluster_name=platform.cluster_name,
            **runtime.app_monitoring(spec, app, env),
        )
        self.services: dict[str, ProcessService] = {}
        for proc_name in app_spec.processes:
            self.services[proc_name] = self._service(proc_name, roles)

        self.service_counts = self._service_counts()
        self.redeploy_on_rotation = RedeployOnRotation(
            self, "RedeployOnRotation", secret_arn=self.database.secret.secret_arn,
            cluster_arn=platform.cluster.cluster_arn, cluster_name=platform.cluster_name,
            services=[naming.service_name(app, p) for p in self.services], log_group=self.log_group,
        )
        self.cron = self._cron() if app_spec.cron else None

    def _log_group(self) -> logs.LogGroup:
        """The app's log group in this environment, retained."""
        return logs.LogGroup(
            self,
            "Logs",
            log_group_name=naming.log_group(self.spec.name, self.app_name, self.env_name),
            retention=retention(self.app_spec.log_retention_days),
            removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        )

    def _roles(self) -> tuple[iam.Role, iam.Role]:
        """The app's execution role and task role in this environment."""
        spec, app, env = self.spec, self.app_name, self.env_name
        # Named, so the pipeline passes exactly these roles (naming.app_role). Naming them replaced the roles
        # once; roles hold no state, and their logical IDs stay.
        execution_role = iam.Role(
            self, "ExecutionRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            role_name=naming.app_role(spec.name, app, env, "execution"),
            description="Pulls the app's image and reads exactly its secrets when a task starts",
        )
        task_role = iam.Role(
            self, "TaskRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            role_name=naming.app_role(spec.name, app, env, "task"),
            description="What the app's tasks may do: ECS Exec sessions, logged",
        )
        acknowledge(
            execution_role, "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken has no resource-level permissions; image pulls stay scoped to the app's "
            "repository and secret reads to the app's own secret ARNs",
        )
        return execution_role, task_role

    def _container(self, tag: str) -> AppContainer:
        """The container every task of the app shares: the image with ``tag``, its config and secrets."""
        container = AppContainer(
            image=self._image(tag),
            environment=dict(self.app_spec.config),
            secrets=self._secrets(),
            log_group=self.log_group,
            buildpacks=self.app_spec.build.buildpacks is not None,
        )
        acknowledge(
            self, "AwsSolutions-ECS2",
            "config holds the app's non-secret settings by design (Heroku config vars); every secret reaches the "
            "container as an ECS secret from Secrets Manager or SSM, never as a plain environment variable",
        )
        return container

    def _service(self, proc_name: str, roles: dict[str, iam.Role]) -> ProcessService:
        """One process's service, its alarms (rolling back a deploy) and, when ECS shifts its traffic, the record
        of its routing for the pipeline."""
        platform, app_spec = self.platform, self.app_spec
        props = runtime.process_service(self.spec, self.app_name, self.env_name, proc_name)
        web = bool(props["hosts"])
        service = ProcessService(
            self,
            proc_name,
            cluster=platform.cluster,
            vpc=platform.private_vpc,
            security_groups=[platform.app_security_group],
            container=self.container,
            listener=platform.listener if web else None,
            test_listener=platform.test_listener if web and app_spec.deploy.strategy == "blue-green" else None,
            load_balancer_full_name=platform.load_balancer_full_name if web else None,
            alternate_live=self._alternate_live(proc_name) if proc_name in app_spec.shifting_processes else None,
            running=self.image_built,
            **props,
            **roles,
        )
        rollback_alarms = self.monitoring.add_process(proc_name, service)
        if rollback_alarms:
            # CDK notes (INFO, no id to acknowledge it by) that alarm names by Ref may make a cycle; these
            # alarms never refer to the service: the answer is in shipway/acknowledged.py.
            service.service.enable_deployment_alarms(
                [a.alarm_name for a in rollback_alarms], behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM
            )
        if service.alternate_target_group is not None:
            self._publish_routing(proc_name, service)
            acknowledge(
                service.service,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "AmazonECSInfrastructureRolePolicyForLoadBalancers]",
                "The AWS-managed infrastructure policy is what ECS documents for shifting listener-rule weights "
                "in native canary, linear and blue/green deploys, and AWS keeps it current with the API",
            )
        return service

    def _service_counts(self) -> ssm.StringParameter:
        """GoLive (the pipeline's step after the first deploy to this environment) starts the services at these."""
        app, env = self.app_name, self.env_name
        return ssm.StringParameter(
            self, "ServiceCounts",
            parameter_name=naming.service_counts_parameter(self.spec.name, app, env),
            string_value=json.dumps([s.counts for s in self.services.values()], separators=(",", ":")),
            description=f"The {app} services' counts in {env}, which the pipeline starts them at with the first image",
        )

    def _cron(self) -> CronJobs:
        """The app's schedules, running the one-off task definition, and their acknowledgements."""
        platform = self.platform
        cron = CronJobs(
            self, "Cron", cluster=platform.cluster, vpc=platform.private_vpc,
            security_groups=[platform.app_security_group], task_definition=self.one_off.task_definition,
            buildpacks=self.container.buildpacks,
        )
        for job_name in self.app_spec.cron:
            cron.add_job(job_name, **runtime.cron_job(self.spec, self.app_name, self.env_name, job_name))
        acknowledge(
            cron.dead_letter_queue, "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the app's cron schedules",
        )
        acknowledge(
            cron.role, "AwsSolutions-IAM5[Resource::*]",
            "ecs:TagResource is limited by condition to tagging the tasks RunTask creates, whose ARNs are unknown",
        )
        acknowledge(
            cron.role,
            resource_finding(self, "AwsSolutions-IAM5", cron.task_definition_family_arn + ":*"),
            "Schedules run the latest revision of the one-off family, which the pipeline re-registers with "
            "each release's image; RunTask is also limited by condition to the environment's cluster",
        )
        return cron

    def _image(self, tag: str) -> ecs.ContainerImage:
        """The app's image with ``tag``: from its ECR repository, or with ``registry: s3`` from the environment's
        registry, pulled with the registry's credentials (ECS ``repositoryCredentials``, read by the execution
        role at each start)."""
        spec, repository = self.spec, naming.image_repository(self.spec.name, self.app_name)
        if spec.registry == "s3":
            host = spec.environments[self.env_name].router.registry_host
            credentials = secretsmanager.Secret.from_secret_complete_arn(
                self, "RegistryCredentials", self.platform.registry_credentials_arn
            )
            return ecs.ContainerImage.from_registry(f"{host}/{repository}:{tag}", credentials=credentials)
        ecr_repository = ecr.Repository.from_repository_name(self, "Repository", repository)
        return ecs.ContainerImage.from_ecr_repository(ecr_repository, tag)

    def _alternate_live(self, process: str) -> cdk.CfnCondition:
        """True while the pipeline's record says the alternate target group holds the process's live tasks."""
        live = ssm.StringParameter.value_for_string_parameter(
            self, naming.live_target_group_parameter(self.spec.name, self.app_name, self.env_name, process))
        return cdk.CfnCondition(self, f"{process}AlternateLive",
                                expression=cdk.Fn.condition_equals(live, naming.LIVE_ALTERNATE))

    def _publish_routing(self, process: str, service: ProcessService) -> None:
        """The production rule and both target groups, for the pipeline's record of which group is live."""
        rule, primary, alternate = service.listener_rule, service.target_group, service.alternate_target_group
        assert rule is not None and primary is not None and alternate is not None
        ssm.StringParameter(
            self, f"{process}Routing",
            parameter_name=naming.routing_parameter(self.spec.name, self.app_name, self.env_name, process),
            string_value=cdk.Fn.sub('{"rule":"${Rule}","primary":"${Primary}","alternate":"${Alternate}"}', {
                "Rule": rule.listener_rule_arn,
                "Primary": primary.target_group_arn,
                "Alternate": alternate.target_group_arn,
            }),
            description=f"{self.app_name}-{process} in {self.env_name}: its production listener rule and target groups",
        )


    def _database(self) -> AppDatabase:
        """The app's own database and role in this environment, their secret and the step that provisions them."""
        platform = self.platform
        return AppDatabase(
            self, "Database",
            host=platform.param(Param.DATABASE_HOST), port=platform.param(Param.DATABASE_PORT),
            master_secret=secretsmanager.Secret.from_secret_complete_arn(
                self, "MasterSecret", platform.database_secret_arn,
            ),
            cluster=platform.cluster, vpc=platform.private_vpc,
            subnets=ec2.SubnetSelection(subnets=platform.private_vpc.private_subnets),
            security_group=platform.app_security_group,
            log_group=self.log_group,
            **data.app_database(self.spec, self.app_name, self.env_name),
        )

    def _secrets(self) -> dict[str, ecs.Secret]:
        """``secrets`` plus the app's own ``DATABASE_URL`` and libpq variables, as ECS secrets.

        Each grant names its own ARN, so the execution role reads exactly these and nothing else: the master
        secret is not among them.
        """
        scope = Construct(self, "Secrets")
        secrets: dict[str, ecs.Secret] = {}
        for key, arn in sorted(self.app_spec.secrets.items()):
            if ":ssm:" in arn:
                parameter = ssm.StringParameter.from_string_parameter_arn(scope, key, arn)
                secrets[key] = ecs.Secret.from_ssm_parameter(parameter)
            elif _COMPLETE_SECRET_ARN.match(arn):
                secrets[key] = ecs.Secret.from_secrets_manager(
                    secretsmanager.Secret.from_secret_complete_arn(scope, key, arn)
                )
            else:
                secrets[key] = ecs.Secret.from_secrets_manager(
                    secretsmanager.Secret.from_secret_partial_arn(scope, key, arn)
                )
        return secrets | self.database.container_secrets()

    def _allow_exec_logging(self) -> None:
        """ECS Exec writes each session's transcript to the cluster's exec log group as the task role."""
        self.exec_log_group_arn = self.format_arn(
            service="logs", resource="log-group", resource_name=self.platform.exec_log_group_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self.task_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                resources=[f"{self.exec_log_group_arn}:*"],
            )
        )
        self.task_role.add_to_principal_policy(iam.PolicyStatement(actions=["logs:DescribeLogGroups"], resources=["*"]))
        acknowledge(
            self.task_role, "AwsSolutions-IAM5[Resource::*]",
            "ECS Exec's ssmmessages channels and logs:DescribeLogGroups have no resource-level permissions",
        )
        acknowledge(
            self.task_role, resource_finding(self, "AwsSolutions-IAM5", self.exec_log_group_arn + ":*"),
            "ECS Exec writes one log stream per session into the cluster's exec log group; streams are "
            "created per session, so only the group can be named",
        )
