"""``ProcessService``: one process type of an app as one ECS service, in the style of aws-ecs-patterns.

Heroku's process types become services of their own (Herogate ran them all in one task definition, so
workers scaled with web). A process with ``hosts`` is web-like: it gets an IP target group and a
host-header rule on a shared listener; any other process gets no load balancer.

Deploys are fast without dropping requests: the target group checks every ``health_check_interval``
seconds and needs ``healthy_threshold`` passes, drains for ``deregistration_delay`` seconds, and the
container's ``stopTimeout`` covers the drain; ECS keeps 100 % healthy while starting up to
``max_healthy_percent``, with the circuit breaker rolling back a deploy whose tasks never get healthy.

Deploy strategies are ECS's own (``AWS::ECS::Service`` ``DeploymentConfiguration.Strategy``): rolling,
or for web processes canary, linear and blue/green, which shift the listener rule's weights between the
target group and an alternate one. Non-web processes always roll.

The construct knows nothing of shipway's spec: ``shipway.props.runtime`` translates a process of the spec into
these keyword props. Every default below is the construct's own; shipway passes every value explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from .. import naming
from .app_task import FARGATE, AppContainer, TaskPlacement

# Built once: every cdk.Duration is a jsii round-trip, and every metric of every process asks for this one.
MINUTE = cdk.Duration.minutes(1)

Strategy = Literal["rolling", "canary", "linear", "blue-green"]

_STRATEGIES = {
    "rolling": ecs.DeploymentStrategy.ROLLING,
    "canary": ecs.DeploymentStrategy.CANARY,
    "linear": ecs.DeploymentStrategy.LINEAR,
    "blue-green": ecs.DeploymentStrategy.BLUE_GREEN,
}


@dataclass(frozen=True)
class Deployment:
    """How a web service takes a new revision (ECS-native strategies); a service without hosts always rolls.

    :param strategy: ``rolling``, ``canary``, ``linear`` or ``blue-green``. Default: rolling.
    :param percent: canary: the share of traffic while baking; linear: each step. Default: 10.
    :param bake_minutes: minutes each shift (and the finished deploy) bakes before the next. Default: 5.
    """

    strategy: Strategy = "rolling"
    percent: int = 10
    bake_minutes: int = 5


@dataclass(frozen=True)
class ScheduledCapacity:
    """New autoscaling bounds from ``schedule`` (``cron(...)`` or ``rate(...)``, UTC) on; at least one of the two."""

    schedule: str
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class Autoscaling:
    """Target tracking between ``min`` and ``max`` tasks.

    :param max: most tasks.
    :param min: fewest tasks. Default: 1.
    :param cpu_percent: target CPU utilization. Default: 60; None: no CPU policy.
    :param memory_percent: target memory utilization. Default: none.
    :param requests_per_target: ALB requests per healthy target per minute, over all of the service's target
        groups (web services only). Default: none.
    :param schedules: scheduled changes of the bounds. Default: none.
    :param scale_in_cooldown: seconds. Default: 300.
    :param scale_out_cooldown: seconds. Default: 30.
    """

    max: int
    min: int = 1
    cpu_percent: int | None = 60
    memory_percent: int | None = None
    requests_per_target: int | None = None
    schedules: Sequence[ScheduledCapacity] = ()
    scale_in_cooldown: int = 300
    scale_out_cooldown: int = 30


@dataclass(frozen=True)
class _TargetGroupSettings:
    port: int
    path: str
    interval: int
    timeout: int
    healthy_threshold: int
    deregistration_delay: int
    slow_start: int


class ProcessService(Construct):
    """One ECS service (awsvpc) running one process of an app, with its task definition and routing.

    Pass yours or we create one: ``cluster`` (and ``vpc``), ``security_groups``, ``execution_role`` and
    ``task_role``.

    :param container: the app's shared container (image, environment, secrets, logs).
    :param cluster: the cluster the service runs in. Default: a new cluster in ``vpc``.
    :param vpc: the VPC whose private subnets the tasks run in (and the target groups live in).
        Default: the cluster's VPC (a new cluster creates one).
    :param security_groups: what the tasks wear. Default: a new security group.
    :param service_name: the service's name in the cluster. Default: named by CloudFormation.
    :param family: the task definition family. Default: derived from the construct path.
    :param placement: where tasks run (Fargate or a pool, with constraints and strategies).
        Default: ``FARGATE``, by launch type.
    :param execution_role: the task execution role. Default: one is created.
    :param task_role: the task role. Default: one is created.
    :param cpu: task CPU units. Default: 256.
    :param memory: task memory, MiB. Default: 512.
    :param command: run with ``/bin/sh -c`` (or the buildpacks launcher). Default: the image's command.
    :param port: the container port; with it the container gets ``PORT``. Required with ``hosts``.
        Default: none.
    :param desired_count: tasks to run, unless ``autoscaling`` says otherwise. Default: 1.
    :param autoscaling: target tracking and scheduled bounds. Default: none, a fixed ``desired_count``.
    :param max_healthy_percent: a deploy starts new tasks up to this percent before stopping old ones.
        Default: 200.
    :param stop_timeout: seconds the container gets between SIGTERM and SIGKILL. Default: ECS's (30 s).
    :param hosts: the host names routed to it; with them the process is web-like. Default: none (no load
        balancer).
    :param listener: the shared production listener; required with ``hosts``.
    :param priority: the listener rule priority; required with ``hosts``.
    :param test_listener: the shared test listener, used by a blue/green deploy. Default: none.
    :param load_balancer_full_name: ``app/<name>/<id>`` of the listener's ALB, for request-based scaling and
        the router's metrics. Default: the listener's load balancer when ``listener`` is an ``ApplicationListener``.
    :param health_check_path: the ALB health check path. Default: ``/``.
    :param health_check_interval: seconds between health checks. Default: 5.
    :param health_check_timeout: seconds; shorter than the interval. Default: 4.
    :param healthy_threshold: passing checks before a target takes traffic. Default: 2.
    :param health_check_grace: seconds ECS ignores failing health checks at start (web only). Default: 30.
    :param deregistration_delay: seconds a draining target keeps its connections. Default: 30.
    :param slow_start: ALB slow-start seconds, 0 for none. Default: 30.
    :param deployment: the deploy strategy of a web service; others always roll. Default: rolling.
    :param alternate_live: for canary, linear and blue/green: while this condition is true the alternate target
        group holds the live tasks, and the listener rules say so (0/100), so a stack update never writes 100/0
        over an odd number of ECS deployments (aws/aws-cdk#36649). Default: the primary group, always.
    :param running: while this condition is false the service keeps no task (desired count and
        autoscaling minimum 0, and autoscaling suspended, scheduled actions included), e.g. before the first
        image exists; ``counts`` says what to start with once it is true. Default: always running.

    Attributes: ``service``, ``task_definition``, ``container``, ``cluster``, ``listener``, ``target_group`` (and
    ``alternate_target_group``, ``listener_rule``, ``test_listener_rule``) for a web process, ``scaling``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        container: AppContainer,
        cluster: ecs.ICluster | None = None,
        vpc: ec2.IVpc | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        service_name: str | None = None,
        family: str | None = None,
        placement: TaskPlacement = FARGATE,
        execution_role: iam.IRole | None = None,
        task_role: iam.IRole | None = None,
        cpu: int = 256,
        memory: int = 512,
        command: str | None = None,
        port: int | None = None,
        desired_count: int = 1,
        autoscaling: Autoscaling | None = None,
        max_healthy_percent: int = 200,
        stop_timeout: int | None = None,
        hosts: Sequence[str] = (),
        listener: elbv2.IApplicationListener | None = None,
        priority: int | None = None,
        test_listener: elbv2.IApplicationListener | None = None,
        load_balancer_full_name: str | None = None,
        health_check_path: str = "/",
        health_check_interval: int = 5,
        health_check_timeout: int = 4,
        healthy_threshold: int = 2,
        health_check_grace: int = 30,
        deregistration_delay: int = 30,
        slow_start: int = 30,
        deployment: Deployment = Deployment(),
        alternate_live: cdk.CfnCondition | None = None,
        running: cdk.CfnCondition | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.hosts = list(hosts)
        self.web = bool(self.hosts)
        if self.web and (listener is None or priority is None or port is None):
            raise ValueError("a process with hosts needs a port, the listener and a listener rule priority")
        if cluster is None:
            cluster = ecs.Cluster(self, "Cluster", vpc=vpc)
        if vpc is None:
            vpc = cluster.vpc
        self.cluster = cluster
        self.listener = listener if self.web else None
        self.load_balancer_full_name = self._load_balancer_full_name(listener, load_balancer_full_name)
        self.desired_count = desired_count
        self.autoscaling = autoscaling
        self.strategy: Strategy = deployment.strategy if self.web else "rolling"
        self._health = _TargetGroupSettings(
            port=port or 0, path=health_check_path, interval=health_check_interval, timeout=health_check_timeout,
            healthy_threshold=healthy_threshold, deregistration_delay=deregistration_delay, slow_start=slow_start,
        )
        self.task_definition = self._task_definition(
            family=family, placement=placement, cpu=cpu, memory=memory, execution_role=execution_role,
            task_role=task_role,
        )
        self.container = container.add_to(
            self.task_definition,
            stream_prefix=service_name or construct_id,
            memory=memory,
            command=command,
            process_type=construct_id,  # the process's name: its Procfile type in a buildpacks image
            port=port,
            stop_timeout=stop_timeout,
        )
        self.service = self._service(
            cluster, vpc, service_name=service_name, security_groups=security_groups, placement=placement,
            max_healthy_percent=max_healthy_percent, deployment=deployment, health_check_grace=health_check_grace,
        )
        self.service_name = service_name if service_name is not None else self.service.service_name

        self.target_group: elbv2.ApplicationTargetGroup | None = None
        self.alternate_target_group: elbv2.ApplicationTargetGroup | None = None
        self.listener_rule: elbv2.ApplicationListenerRule | None = None
        self.test_listener_rule: elbv2.ApplicationListenerRule | None = None
        if self.web:
            assert listener is not None and priority is not None and port is not None
            self._route(vpc, listener, priority, port, test_listener, alternate_live)

        self.scaling: ecs.ScalableTaskCount | None = None
        self._scalable_target: appscaling.CfnScalableTarget | None = None
        if autoscaling is not None:
            self._autoscale(autoscaling)
        self._hold_until(running)

    @staticmethod
    def _load_balancer_full_name(listener: elbv2.IApplicationListener | None, given: str | None) -> str | None:
        """``given``, else that of the listener's load balancer when CDK knows it (an ``ApplicationListener``)."""
        if given is None and isinstance(listener, elbv2.ApplicationListener):
            alb = listener.load_balancer
            if isinstance(alb, elbv2.ApplicationLoadBalancer):
                return alb.load_balancer_full_name
        return given

    def _task_definition(self, *, family: str | None, placement: TaskPlacement, cpu: int, memory: int,
                         execution_role: iam.IRole | None, task_role: iam.IRole | None) -> ecs.TaskDefinition:
        """The awsvpc task definition, compatible with where ``placement`` runs it."""
        return ecs.TaskDefinition(
            self,
            "TaskDefinition",
            family=family,
            compatibility=placement.compatibility(),
            network_mode=ecs.NetworkMode.AWS_VPC,
            cpu=str(cpu),
            memory_mib=str(memory),
            execution_role=execution_role,
            task_role=task_role,
        )

    def _service(self, cluster: ecs.ICluster, vpc: ec2.IVpc, *, service_name: str | None,
                 security_groups: Sequence[ec2.ISecurityGroup] | None, placement: TaskPlacement,
                 max_healthy_percent: int, deployment: Deployment, health_check_grace: int) -> ecs.BaseService:
        """The ECS service in the private subnets: Fargate, or EC2 with the pool's constraints and strategies."""
        options: dict[str, Any] = dict(
            cluster=cluster,
            task_definition=self.task_definition,
            service_name=service_name,
            security_groups=list(security_groups) if security_groups is not None else None,
            vpc_subnets=ec2.SubnetSelection(subnets=vpc.private_subnets),
            capacity_provider_strategies=list(placement.capacity_provider_strategies) or None,
            min_healthy_percent=100,
            max_healthy_percent=max_healthy_percent,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            enable_execute_command=True,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            deployment_strategy=_STRATEGIES[self.strategy],
            **self._traffic_shift(self.strategy, deployment),
        )
        if self.web:
            options["health_check_grace_period"] = cdk.Duration.seconds(health_check_grace)
        if placement.ec2:
            return ecs.Ec2Service(
                self,
                "Service",
                placement_constraints=list(placement.placement_constraints),
                placement_strategies=list(placement.placement_strategies),
                **options,
            )
        return ecs.FargateService(self, "Service", **options)

    @property
    def counts(self) -> dict:
        """What the service runs once ``running`` holds: its count, or its autoscaling bounds (starting at min)."""
        scale = self.autoscaling
        if scale is None:
            return {"service": self.service_name, "count": self.desired_count}
        return {"service": self.service_name, "count": scale.min, "min": scale.min, "max": scale.max}

    @property
    def target_groups(self) -> list[elbv2.ApplicationTargetGroup]:
        """The process's target groups: one when rolling, two when ECS shifts traffic between them."""
        return [tg for tg in (self.target_group, self.alternate_target_group) if tg is not None]

    @staticmethod
    def _traffic_shift(strategy: Strategy, deployment: Deployment) -> dict:
        if strategy == "rolling":
            return {}
        bake = cdk.Duration.minutes(deployment.bake_minutes)
        shift = ecs.TrafficShiftConfig(step_percent=deployment.percent, step_bake_time=bake)
        # bake_time: how long the old revision stays ready for an instant rollback after the last shift.
        if strategy == "canary":
            return {"canary_configuration": shift, "bake_time": bake}
        if strategy == "linear":
            return {"linear_configuration": shift, "bake_time": bake}
        return {"bake_time": bake}

    def _new_target_group(self, construct_id: str, vpc: ec2.IVpc) -> elbv2.ApplicationTargetGroup:
        s = self._health
        return elbv2.ApplicationTargetGroup(
            self,
            construct_id,
            vpc=vpc,
            target_type=elbv2.TargetType.IP,
            protocol=elbv2.ApplicationProtocol.HTTP,
            port=s.port,
            deregistration_delay=cdk.Duration.seconds(s.deregistration_delay),
            slow_start=cdk.Duration.seconds(s.slow_start) if s.slow_start else None,
            health_check=elbv2.HealthCheck(
                path=s.path,
                interval=cdk.Duration.seconds(s.interval),
                timeout=cdk.Duration.seconds(s.timeout),
                healthy_threshold_count=s.healthy_threshold,
            ),
        )

    def _route(
        self, vpc: ec2.IVpc, listener: elbv2.IApplicationListener, priority: int, port: int,
        test_listener: elbv2.IApplicationListener | None, alternate_live: cdk.CfnCondition | None,
    ) -> None:
        strategy = self.strategy
        self.target_group = target_group = self._new_target_group("TargetGroup", vpc)
        alternate_group: elbv2.ApplicationTargetGroup | None = None
        if strategy != "rolling":
            # ECS moves the weights between the two groups on every deploy; the template writes the weights that
            # hold now (alternate_live), so a stack update that touches the rule keeps traffic on the live tasks.
            self.alternate_target_group = alternate_group = self._new_target_group("AlternateTargetGroup", vpc)
            primary: float = 100
            alternate: float = 0
            if alternate_live is not None:
                primary = cdk.Token.as_number(cdk.Fn.condition_if(alternate_live.logical_id, 0, 100))
                alternate = cdk.Token.as_number(cdk.Fn.condition_if(alternate_live.logical_id, 100, 0))
            action = elbv2.ListenerAction.weighted_forward(
                [
                    elbv2.WeightedTargetGroup(target_group=target_group, weight=primary),
                    elbv2.WeightedTargetGroup(target_group=alternate_group, weight=alternate),
                ]
            )
        else:
            action = elbv2.ListenerAction.forward([target_group])
        conditions = [elbv2.ListenerCondition.host_headers(self.hosts)]
        self.listener_rule = elbv2.ApplicationListenerRule(
            self, "ListenerRule", listener=listener, priority=priority, conditions=conditions, action=action
        )
        alternate_target = None
        if alternate_group is not None:
            test_rule = None
            if strategy == "blue-green" and test_listener is not None:
                self.test_listener_rule = elbv2.ApplicationListenerRule(
                    self, "TestListenerRule", listener=test_listener, priority=priority, conditions=conditions,
                    action=action,
                )
                test_rule = ecs.ListenerRuleConfiguration.application_listener_rule(self.test_listener_rule)
            alternate_target = ecs.AlternateTarget(
                "Alternate",
                alternate_target_group=alternate_group,
                production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(self.listener_rule),
                test_listener=test_rule,
            )
        self.service.load_balancer_target(
            container_name=naming.CONTAINER_NAME, container_port=port, alternate_target=alternate_target
        ).attach_to_application_target_group(target_group)
        if alternate_group is not None:
            # CDK makes the service depend on the rules forwarding to its target group, which the
            # AdvancedConfiguration already Refs: cfn-lint's redundant-DependsOn warning, and nothing else.
            self._cfn_service.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})

    @property
    def _cfn_service(self) -> ecs.CfnService:
        child = self.service.node.default_child
        assert isinstance(child, ecs.CfnService)
        return child

    def _autoscale(self, scale: Autoscaling) -> None:
        in_cooldown = cdk.Duration.seconds(scale.scale_in_cooldown)
        out_cooldown = cdk.Duration.seconds(scale.scale_out_cooldown)
        self.scaling = scaling = self.service.auto_scale_task_count(min_capacity=scale.min, max_capacity=scale.max)
        if scale.cpu_percent is not None:
            scaling.scale_on_cpu_utilization(
                "Cpu", target_utilization_percent=scale.cpu_percent, scale_in_cooldown=in_cooldown,
                scale_out_cooldown=out_cooldown,
            )
        if scale.memory_percent is not None:
            scaling.scale_on_memory_utilization(
                "Memory", target_utilization_percent=scale.memory_percent, scale_in_cooldown=in_cooldown,
                scale_out_cooldown=out_cooldown,
            )
        self._scalable_target = next(
            c for c in scaling.node.find_all() if isinstance(c, appscaling.CfnScalableTarget)
        )
        if scale.requests_per_target is not None:
            self._scale_on_requests(
                scaling, self._scalable_target, scale.requests_per_target, scale.scale_in_cooldown,
                scale.scale_out_cooldown,
            )
        for i, when in enumerate(scale.schedules):
            scaling.scale_on_schedule(
                f"Schedule{i}",
                schedule=appscaling.Schedule.expression(when.schedule),
                min_capacity=when.min,
                max_capacity=when.max,
            )

    def target_group_metric(self, target_group: elbv2.ApplicationTargetGroup, metric_name: str,
                            statistic: str) -> cloudwatch.Metric:
        """An ALB metric of one of this process's target groups, per minute."""
        return cloudwatch.Metric(
            namespace="AWS/ApplicationELB",
            metric_name=metric_name,
            dimensions_map={
                "LoadBalancer": self.alb_full_name(),
                "TargetGroup": target_group.target_group_full_name,
            },
            statistic=statistic,
            period=MINUTE,
        )

    def alb_full_name(self) -> str:
        """``app/<name>/<id>`` of the listener's ALB: the LoadBalancer dimension of its metrics."""
        if self.load_balancer_full_name is None:
            raise ValueError("ALB metrics need load_balancer_full_name (or an ApplicationListener as listener)")
        return self.load_balancer_full_name

    def _scale_on_requests(
        self, scaling: ecs.ScalableTaskCount, target: appscaling.CfnScalableTarget, per_target: int,
        scale_in_cooldown: int, scale_out_cooldown: int,
    ) -> None:
        """Target tracking on requests per healthy target per minute, across the process's target groups.

        ALB's predefined ``ALBRequestCountPerTarget`` watches one target group; after a canary or
        blue/green deploy the traffic lives in the other one, so the policy sums both with metric math
        (CDK's L2 only tracks single metrics, hence the L1 policy).
        """
        P = appscaling.CfnScalingPolicy
        load_balancer = self.alb_full_name()

        def stat(query_id: str, tg: elbv2.ApplicationTargetGroup, metric_name: str, statistic: str):
            dimensions = [
                P.TargetTrackingMetricDimensionProperty(name="LoadBalancer", value=load_balancer),
                P.TargetTrackingMetricDimensionProperty(name="TargetGroup", value=tg.target_group_full_name),
            ]
            metric = P.TargetTrackingMetricProperty(
                namespace="AWS/ApplicationELB", metric_name=metric_name, dimensions=dimensions
            )
            return P.TargetTrackingMetricDataQueryProperty(
                id=query_id, metric_stat=P.TargetTrackingMetricStatProperty(metric=metric, stat=statistic),
                return_data=False,
            )

        queries, requests, hosts = [], [], []
        for i, tg in enumerate(self.target_groups):
            queries += [stat(f"r{i}", tg, "RequestCount", "Sum"), stat(f"h{i}", tg, "HealthyHostCount", "Average")]
            requests.append(f"FILL(r{i}, 0)")
            hosts.append(f"FILL(h{i}, 0)")
        expression = f"({' + '.join(requests)}) / MAX([{' + '.join(hosts)}, 1])"
        queries.append(
            P.TargetTrackingMetricDataQueryProperty(
                id="perTarget", expression=expression, label="Requests per target", return_data=True
            )
        )
        P(
            scaling,
            "Requests",
            policy_name=f"{cdk.Names.unique_id(scaling)}Requests",
            policy_type="TargetTrackingScaling",
            scaling_target_id=target.ref,
            target_tracking_scaling_policy_configuration=P.TargetTrackingScalingPolicyConfigurationProperty(
                target_value=per_target,
                scale_in_cooldown=scale_in_cooldown,
                scale_out_cooldown=scale_out_cooldown,
                customized_metric_specification=P.CustomizedMetricSpecificationProperty(metrics=queries),
            ),
        )

    def _hold_until(self, running: cdk.CfnCondition | None) -> None:
        """Desired count from ``desired_count``; with autoscaling, none at all, so a redeploy keeps a scaled-out
        count.

        Under ``running`` false both the desired count and the autoscaling minimum are 0, and autoscaling is
        suspended: no scheduled action raises the minimum and no policy scales out before there is an image.
        """
        cfn_service = self._cfn_service
        scale, target = self.autoscaling, self._scalable_target
        if running is None:
            cfn_service.desired_count = None if scale is not None else self.desired_count
            return
        count = cdk.Aws.NO_VALUE if scale is not None else self.desired_count
        cfn_service.desired_count = cdk.Token.as_number(cdk.Fn.condition_if(running.logical_id, count, 0))
        if scale is not None and target is not None:
            target.min_capacity = cdk.Token.as_number(cdk.Fn.condition_if(running.logical_id, scale.min, 0))
            kinds = ("DynamicScalingIn", "DynamicScalingOut", "ScheduledScaling")
            suspended = {f"{kind}Suspended": True for kind in kinds}
            target.suspended_state = cdk.Fn.condition_if(
                running.logical_id, dict.fromkeys(suspended, False), suspended
            )
