"""``ProcessService``: one process type of an app as one ECS service, in the style of aws-ecs-patterns.

Heroku's process types become services of their own (Herogate ran them all in one task definition, so
workers scaled with web). A process with ``hosts`` is web-like: it gets an IP target group and a
host-header rule on the environment's shared listener; any other process gets no load balancer.

Deploys are fast without dropping requests: the target group checks every ``health_check_interval``
seconds and needs ``healthy_threshold`` passes, drains for ``deregistration_delay`` seconds, and the
container's ``stopTimeout`` covers the drain; ECS keeps 100 % healthy while starting up to 200 %, with
the circuit breaker rolling back a deploy whose tasks never get healthy.

Deploy strategies are ECS's own (``AWS::ECS::Service`` ``DeploymentConfiguration.Strategy``): rolling,
or for web processes canary, linear and blue/green, which shift the listener rule's weights between the
target group and an alternate one. Non-web processes always roll.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from .. import naming
from ..spec.model import ROLLING_MAX_PERCENT, Deploy, Process
from .app_task import AppContainer, TaskPlacement

# Built once: every cdk.Duration is a jsii round-trip, and every metric of every process asks for this one.
MINUTE = cdk.Duration.minutes(1)

_STRATEGIES = {
    "rolling": ecs.DeploymentStrategy.ROLLING,
    "canary": ecs.DeploymentStrategy.CANARY,
    "linear": ecs.DeploymentStrategy.LINEAR,
    "blue-green": ecs.DeploymentStrategy.BLUE_GREEN,
}


class ProcessService(Construct):
    """One ECS service (awsvpc) running one process of an app, with its task definition and routing.

    :param cluster: the environment's cluster.
    :param vpc: the VPC whose private subnets the tasks run in (and the target groups live in).
    :param security_groups: what the tasks wear.
    :param container: the app's shared container (image, environment, secrets, logs).
    :param process: the process's spec: command, port, size, count, health checks, autoscale.
    :param hosts: the host names routed to it in this environment; with them the process is web-like.
        Default: none (no load balancer).
    :param service_name: the service's name in the cluster; the pipeline's deploy actions address it.
    :param family: the task definition family.
    :param placement: where tasks run (Fargate or a pool, with constraints and strategies).
    :param execution_role: the app's task execution role. Default: one is created.
    :param task_role: the app's task role. Default: one is created.
    :param listener: the shared production listener; required with ``hosts``.
    :param priority: the listener rule priority; required with ``listener``.
    :param test_listener: the shared test listener, used by a blue/green deploy. Default: none.
    :param load_balancer_full_name: ``app/<name>/<id>`` of the listener's ALB, for request-based scaling.
    :param deploy: the app's deploy strategy; non-web processes always roll. Default: rolling.
    :param alternate_live: for canary, linear and blue/green: while this condition is true the alternate target
        group holds the live tasks, and the listener rules say so (0/100), so a stack update never writes 100/0
        over an odd number of ECS deployments (aws/aws-cdk#36649). Default: the primary group, always.
    :param running: while this condition is false the service keeps no task (desired count and
        autoscaling minimum 0, and autoscaling suspended, scheduled actions included), e.g. before the first
        image exists; ``counts`` says what to start with once it is true. Default: always running.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        vpc: ec2.IVpc,
        security_groups: Sequence[ec2.ISecurityGroup],
        container: AppContainer,
        process: Process,
        hosts: Sequence[str] = (),
        service_name: str,
        family: str,
        placement: TaskPlacement,
        execution_role: iam.IRole | None = None,
        task_role: iam.IRole | None = None,
        listener: elbv2.IApplicationListener | None = None,
        priority: int | None = None,
        test_listener: elbv2.IApplicationListener | None = None,
        load_balancer_full_name: str | None = None,
        deploy: Deploy | None = None,
        alternate_live: cdk.CfnCondition | None = None,
        running: cdk.CfnCondition | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.hosts = list(hosts)
        self.web = bool(self.hosts)
        if self.web and (listener is None or priority is None):
            raise ValueError("a process with hosts needs the listener and a listener rule priority")
        self.process = process
        self.service_name = service_name
        self.cluster = cluster
        self.listener = listener if self.web else None
        self.load_balancer_full_name = load_balancer_full_name
        strategy = deploy.strategy if deploy is not None and self.web else "rolling"
        self.strategy = strategy

        self.task_definition = ecs.TaskDefinition(
            self,
            "TaskDefinition",
            family=family,
            compatibility=placement.compatibility(),
            network_mode=ecs.NetworkMode.AWS_VPC,
            cpu=str(process.size.cpu),
            memory_mib=str(process.size.memory),
            execution_role=execution_role,
            task_role=task_role,
        )
        self.container = container.add_to(
            self.task_definition,
            stream_prefix=service_name,
            size=process.size,
            command=process.command,
            process_type=construct_id,  # the process's name: its Procfile type in a buildpacks image
            port=process.port,
            stop_timeout=process.stop_timeout,
        )

        options = dict(
            cluster=cluster,
            task_definition=self.task_definition,
            service_name=service_name,
            security_groups=list(security_groups),
            vpc_subnets=ec2.SubnetSelection(subnets=vpc.private_subnets),
            capacity_provider_strategies=list(placement.capacity_provider_strategies) or None,
            min_healthy_percent=100,
            max_healthy_percent=ROLLING_MAX_PERCENT,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            enable_execute_command=True,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            deployment_strategy=_STRATEGIES[strategy],
            **self._traffic_shift(strategy, deploy),
        )
        if self.web:
            options["health_check_grace_period"] = cdk.Duration.seconds(process.health_check_grace)
        if placement.ec2:
            self.service: ecs.BaseService = ecs.Ec2Service(
                self,
                "Service",
                placement_constraints=list(placement.placement_constraints),
                placement_strategies=list(placement.placement_strategies),
                **options,
            )
        else:
            self.service = ecs.FargateService(self, "Service", **options)

        self.target_group: elbv2.ApplicationTargetGroup | None = None
        self.alternate_target_group: elbv2.ApplicationTargetGroup | None = None
        self.listener_rule: elbv2.ApplicationListenerRule | None = None
        self.test_listener_rule: elbv2.ApplicationListenerRule | None = None
        if self.web:
            self._route(vpc, priority, strategy, test_listener, alternate_live)

        self.scaling: ecs.ScalableTaskCount | None = None
        if process.autoscale is not None:
            self._autoscale()
        self._hold_until(running)

    @property
    def counts(self) -> dict:
        """What the service runs once ``running`` holds: its count, or its autoscaling bounds (starting at min)."""
        scale = self.process.autoscale
        if scale is None:
            return {"service": self.service_name, "count": self.process.count}
        return {"service": self.service_name, "count": scale.min, "min": scale.min, "max": scale.max}

    @property
    def target_groups(self) -> list[elbv2.ApplicationTargetGroup]:
        """The process's target groups: one when rolling, two when ECS shifts traffic between them."""
        return [tg for tg in (self.target_group, self.alternate_target_group) if tg is not None]

    @staticmethod
    def _traffic_shift(strategy: str, deploy: Deploy | None) -> dict:
        if strategy == "rolling" or deploy is None:
            return {}
        bake = cdk.Duration.minutes(deploy.bake_minutes)
        shift = ecs.TrafficShiftConfig(step_percent=deploy.percent, step_bake_time=bake)
        # bake_time: how long the old revision stays ready for an instant rollback after the last shift.
        if strategy == "canary":
            return {"canary_configuration": shift, "bake_time": bake}
        if strategy == "linear":
            return {"linear_configuration": shift, "bake_time": bake}
        return {"bake_time": bake}

    def _new_target_group(self, construct_id: str, vpc: ec2.IVpc) -> elbv2.ApplicationTargetGroup:
        p = self.process
        return elbv2.ApplicationTargetGroup(
            self,
            construct_id,
            vpc=vpc,
            target_type=elbv2.TargetType.IP,
            protocol=elbv2.ApplicationProtocol.HTTP,
            port=p.port,
            deregistration_delay=cdk.Duration.seconds(p.deregistration_delay),
            slow_start=cdk.Duration.seconds(p.slow_start) if p.slow_start else None,
            health_check=elbv2.HealthCheck(
                path=p.health_check,
                interval=cdk.Duration.seconds(p.health_check_interval),
                timeout=cdk.Duration.seconds(p.health_check_timeout),
                healthy_threshold_count=p.healthy_threshold,
            ),
        )

    def _route(self, vpc, priority, strategy, test_listener, alternate_live) -> None:
        p = self.process
        self.target_group = self._new_target_group("TargetGroup", vpc)
        shifting = strategy != "rolling"
        if shifting:
            # ECS moves the weights between the two groups on every deploy; the template writes the weights that
            # hold now (alternate_live), so a stack update that touches the rule keeps traffic on the live tasks.
            self.alternate_target_group = self._new_target_group("AlternateTargetGroup", vpc)
            primary, alternate = 100, 0
            if alternate_live is not None:
                primary = cdk.Token.as_number(cdk.Fn.condition_if(alternate_live.logical_id, 0, 100))
                alternate = cdk.Token.as_number(cdk.Fn.condition_if(alternate_live.logical_id, 100, 0))
            action = elbv2.ListenerAction.weighted_forward(
                [
                    elbv2.WeightedTargetGroup(target_group=self.target_group, weight=primary),
                    elbv2.WeightedTargetGroup(target_group=self.alternate_target_group, weight=alternate),
                ]
            )
        else:
            action = elbv2.ListenerAction.forward([self.target_group])
        conditions = [elbv2.ListenerCondition.host_headers(self.hosts)]
        self.listener_rule = elbv2.ApplicationListenerRule(
            self, "ListenerRule", listener=self.listener, priority=priority, conditions=conditions, action=action
        )
        alternate = None
        if shifting:
            test_rule = None
            if strategy == "blue-green" and test_listener is not None:
                self.test_listener_rule = elbv2.ApplicationListenerRule(
                    self, "TestListenerRule", listener=test_listener, priority=priority, conditions=conditions,
                    action=action,
                )
                test_rule = ecs.ListenerRuleConfiguration.application_listener_rule(self.test_listener_rule)
            alternate = ecs.AlternateTarget(
                "Alternate",
                alternate_target_group=self.alternate_target_group,
                production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(self.listener_rule),
                test_listener=test_rule,
            )
        self.service.load_balancer_target(
            container_name=naming.CONTAINER_NAME, container_port=p.port, alternate_target=alternate
        ).attach_to_application_target_group(self.target_group)
        if shifting:
            # CDK makes the service depend on the rules forwarding to its target group, which the
            # AdvancedConfiguration already Refs: cfn-lint's redundant-DependsOn warning, and nothing else.
            self.service.node.default_child.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})

    def _autoscale(self) -> None:
        scale = self.process.autoscale
        cooldowns = dict(
            scale_in_cooldown=cdk.Duration.seconds(scale.scale_in_cooldown),
            scale_out_cooldown=cdk.Duration.seconds(scale.scale_out_cooldown),
        )
        self.scaling = self.service.auto_scale_task_count(min_capacity=scale.min, max_capacity=scale.max)
        if scale.cpu is not None:
            self.scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=scale.cpu, **cooldowns)
        if scale.memory is not None:
            self.scaling.scale_on_memory_utilization("Memory", target_utilization_percent=scale.memory, **cooldowns)
        if scale.requests_per_target is not None:
            self._scale_on_requests(scale.requests_per_target, scale.scale_in_cooldown, scale.scale_out_cooldown)
        for i, when in enumerate(scale.schedules):
            self.scaling.scale_on_schedule(
                f"Schedule{i}",
                schedule=appscaling.Schedule.expression(when.cron),
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
                "LoadBalancer": self.load_balancer_full_name,
                "TargetGroup": target_group.target_group_full_name,
            },
            statistic=statistic,
            period=MINUTE,
        )

    def _scale_on_requests(self, per_target: int, scale_in_cooldown: int, scale_out_cooldown: int) -> None:
        """Target tracking on requests per healthy target per minute, across the process's target groups.

        ALB's predefined ``ALBRequestCountPerTarget`` watches one target group; after a canary or
        blue/green deploy the traffic lives in the other one, so the policy sums both with metric math
        (CDK's L2 only tracks single metrics, hence the L1 policy).
        """
        P = appscaling.CfnScalingPolicy

        def stat(query_id: str, tg: elbv2.ApplicationTargetGroup, metric_name: str, statistic: str):
            dimensions = [
                P.TargetTrackingMetricDimensionProperty(name="LoadBalancer", value=self.load_balancer_full_name),
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
        target = next(c for c in self.scaling.node.find_all() if isinstance(c, appscaling.CfnScalableTarget))
        P(
            self.scaling,
            "Requests",
            policy_name=f"{cdk.Names.unique_id(self.scaling)}Requests",
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
        """Desired count from ``count``; with autoscale, none at all, so a redeploy keeps a scaled-out count.

        Under ``running`` false both the desired count and the autoscaling minimum are 0, and autoscaling is
        suspended: no scheduled action raises the minimum and no policy scales out before there is an image.
        """
        cfn_service: ecs.CfnService = self.service.node.default_child
        autoscaled = self.scaling is not None
        count = cdk.Aws.NO_VALUE if autoscaled else self.process.count
        if running is None:
            cfn_service.desired_count = None if autoscaled else self.process.count
            return
        cfn_service.desired_count = cdk.Token.as_number(cdk.Fn.condition_if(running.logical_id, count, 0))
        if autoscaled:
            target = next(c for c in self.scaling.node.find_all() if isinstance(c, appscaling.CfnScalableTarget))
            target.min_capacity = cdk.Token.as_number(
                cdk.Fn.condition_if(running.logical_id, self.process.autoscale.min, 0)
            )
            kinds = ("DynamicScalingIn", "DynamicScalingOut", "ScheduledScaling")
            suspended = {f"{kind}Suspended": True for kind in kinds}
            target.suspended_state = cdk.Fn.condition_if(
                running.logical_id, {k: False for k in suspended}, suspended
            )
