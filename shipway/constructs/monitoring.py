"""``AppMonitoring``: an app's alarms (to the environment's SNS topic) and its dashboard, per environment.

Per web process: the target 5xx rate, the p95 target response time and unhealthy hosts, over all of its
target groups (a canary or blue/green deploy moves traffic to the alternate one), and the router's own 502,
503 and 504 rate. Per process: service CPU and memory. The 5xx-rate, router and p95 alarms are also the
service's deployment alarms: ECS rolls a deploy back when they fire. CPU, memory and unhealthy hosts only
notify: a traffic spike during a deploy, or a target the circuit breaker already handles, is no reason to roll
back a good release.

The router's own errors are those the ALB answers itself: 502 when a target closes or garbles the connection,
503 when the rule's target group has no healthy target (production pointed at an empty group), 504 when a
target does not answer in time. The targets never see these requests, so the target 5xx rate cannot: its
requests fall to zero and its alarm reads missing data. CloudWatch reports them per load balancer only (no
target group dimension), so the alarm watches the shared ALB: a share of its requests, 502/503/504 over
RequestCount plus themselves (RequestCount leaves out requests that never reached a target).

Alarm names are physical and derive from the stack and process names, so the service can name its
deployment alarms without a reference cycle (the alarms watch the service's metrics).

The construct knows nothing of shipway's spec: ``shipway.props.runtime.app_monitoring`` translates an app's
``alarms`` into these keyword props.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from .service import MINUTE, ProcessService


class AppMonitoring(Construct):
    """Alarms and a dashboard for one app in one environment; call ``add_process`` for each service.

    Every alarm notifies ``topic`` when it fires and when it clears.

    :param name_prefix: prefix of every alarm name, and the dashboard's name.
    :param topic: the alarm topic. Default: a new topic (pass yours to share one).
    :param cluster_name: the cluster's name (the ECS metrics' ClusterName dimension). Default: each service's
        cluster's name.
    :param error_rate_percent: a web process's target 5xx responses, and the router's own 502/503/504, as a
        percent of requests. Default: 5.
    :param p95_ms: a web process's p95 target response time. Default: 1000.
    :param cpu_percent: a service's CPU utilization. Default: 90.
    :param memory_percent: a service's memory utilization. Default: 90.
    :param evaluation_minutes: consecutive breaching minutes before an alarm fires. Default: 3.

    Attributes: ``alarms``, ``dashboard``, ``topic``.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, name_prefix: str, topic: sns.ITopic | None = None,
        cluster_name: str | None = None, error_rate_percent: float = 5, p95_ms: int = 1000, cpu_percent: int = 90,
        memory_percent: int = 90, evaluation_minutes: int = 3,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = topic if topic is not None else sns.Topic(self, "Topic", enforce_ssl=True)
        # One action serves every alarm: each new one is a jsii round-trip, two per alarm otherwise.
        self.action = actions.SnsAction(self.topic)
        self.error_rate_percent = error_rate_percent
        self.p95_ms = p95_ms
        self.cpu_percent = cpu_percent
        self.memory_percent = memory_percent
        self.evaluation_minutes = evaluation_minutes
        self.cluster_name = cluster_name
        self.name_prefix = name_prefix
        self.alarms: list[cloudwatch.Alarm] = []
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=name_prefix, default_interval=cdk.Duration.hours(3)
        )

    def add_process(self, process_name: str, service: ProcessService) -> list[cloudwatch.Alarm]:
        """Alarms and dashboard widgets for ``service``; returns the alarms that should roll a deploy back."""
        scope = Construct(self, process_name)
        dimensions = {
            "ClusterName": self.cluster_name if self.cluster_name is not None else service.cluster.cluster_name,
            "ServiceName": service.service_name,
        }

        def ecs_metric(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/ECS", metric_name=name, dimensions_map=dimensions, statistic="Average", period=MINUTE,
            )

        cpu, memory = ecs_metric("CPUUtilization"), ecs_metric("MemoryUtilization")
        self._alarm(scope, "Cpu", process_name, cpu, self.cpu_percent, f"CPU above {self.cpu_percent} %")
        self._alarm(scope, "Memory", process_name, memory, self.memory_percent, f"memory above {self.memory_percent} %")
        widgets: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(title=f"{process_name}: CPU and memory %", left=[cpu, memory], width=8),
        ]
        rollback: list[cloudwatch.Alarm] = []
        groups = service.target_groups
        if groups:
            metric = service.target_group_metric
            errors = {f"e{i}": metric(tg, "HTTPCode_Target_5XX_Count", "Sum") for i, tg in enumerate(groups)}
            requests = {f"r{i}": metric(tg, "RequestCount", "Sum") for i, tg in enumerate(groups)}
            p95 = {f"p{i}": metric(tg, "TargetResponseTime", "p95") for i, tg in enumerate(groups)}
            unhealthy = {f"u{i}": metric(tg, "UnHealthyHostCount", "Maximum") for i, tg in enumerate(groups)}
            def total(names: dict[str, cloudwatch.Metric]) -> str:
                return " + ".join(f"FILL({n}, 0)" for n in names)

            error_rate = cloudwatch.MathExpression(
                expression=f"100 * ({total(errors)}) / ({total(requests)})",
                using_metrics={**errors, **requests}, label="5xx %", period=MINUTE,
            )
            latency = cloudwatch.MathExpression(
                expression=f"1000 * MAX([{', '.join(p95)}])", using_metrics=p95, label="p95 ms", period=MINUTE
            )
            unhealthy_hosts = cloudwatch.MathExpression(
                expression=f"MAX([{total(unhealthy).replace(' + ', ', ')}])", using_metrics=unhealthy,
                label="unhealthy hosts", period=MINUTE,
            )
            rollback.append(self._alarm(scope, "ErrorRate", process_name, error_rate, self.error_rate_percent,
                                        f"5xx above {self.error_rate_percent} % of requests"))
            rollback.append(self._alarm(scope, "Latency", process_name, latency, self.p95_ms,
                                        f"p95 response time above {self.p95_ms} ms"))
            router_errors = self._router_errors(service)
            rollback.append(self._alarm(
                scope, "RouterErrorRate", process_name, router_errors, self.error_rate_percent,
                f"the router's own 502/503/504 above {self.error_rate_percent} % of its requests"))
            self._alarm(scope, "UnhealthyHosts", process_name, unhealthy_hosts, 1, "unhealthy targets",
                        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
            widgets += [
                cloudwatch.GraphWidget(title=f"{process_name}: requests", left=list(requests.values()), width=8),
                cloudwatch.GraphWidget(title=f"{process_name}: 5xx % and p95 ms", left=[error_rate],
                                       right=[latency], width=8),
            ]
        self.dashboard.add_widgets(*widgets)
        return rollback

    @staticmethod
    def _router_errors(service: ProcessService) -> cloudwatch.MathExpression:
        """The ALB's own 502, 503 and 504 responses as a percent of the requests it handled, per minute."""
        dimensions = {"LoadBalancer": service.alb_full_name()}

        def alb(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/ApplicationELB", metric_name=name, statistic="Sum", period=MINUTE,
                dimensions_map=dimensions,
            )

        own = {f"elb{code}": alb(f"HTTPCode_ELB_{code}_Count") for code in (502, 503, 504)}
        errors = " + ".join(f"FILL({n}, 0)" for n in own)
        return cloudwatch.MathExpression(
            expression=f"100 * ({errors}) / MAX([FILL(requests, 0) + {errors}, 1])",
            using_metrics={**own, "requests": alb("RequestCount")}, label="router 502/503/504 %", period=MINUTE,
        )

    def _alarm(self, scope: Construct, construct_id: str, process_name: str, metric: cloudwatch.IMetric,
               threshold: float, what: str, *,
               comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD) -> cloudwatch.Alarm:
        minutes = self.evaluation_minutes
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            alarm_name=f"{self.name_prefix}-{process_name}-{construct_id}",
            alarm_description=f"{self.name_prefix} {process_name}: {what} for {minutes} min",
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=minutes,
            datapoints_to_alarm=minutes,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self.action)
        alarm.add_ok_action(self.action)
        self.alarms.append(alarm)
        return alarm
