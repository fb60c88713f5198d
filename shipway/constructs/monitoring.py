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
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..spec.model import Alarms
from .service import MINUTE, ProcessService


class AppMonitoring(Construct):
    """Alarms and a dashboard for one app in one environment; call ``add_process`` for each service.

    :param topic: the environment's alarm topic.
    :param thresholds: the app's alarm thresholds.
    :param cluster_name: the cluster's name (the ECS metrics' ClusterName dimension).
    :param name_prefix: prefix of every alarm name, and the dashboard's name.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, topic: sns.ITopic, thresholds: Alarms, cluster_name: str,
        name_prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = topic
        # One action serves every alarm: each new one is a jsii round-trip, two per alarm otherwise.
        self.action = actions.SnsAction(topic)
        self.thresholds = thresholds
        self.cluster_name = cluster_name
        self.name_prefix = name_prefix
        self.alarms: list[cloudwatch.Alarm] = []
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=name_prefix, default_interval=cdk.Duration.hours(3)
        )

    def add_process(self, process_name: str, service: ProcessService) -> list[cloudwatch.Alarm]:
        """Alarms and dashboard widgets for ``service``; returns the alarms that should roll a deploy back."""
        scope = Construct(self, process_name)
        t = self.thresholds
        ecs_metric = lambda name: cloudwatch.Metric(  # noqa: E731
            namespace="AWS/ECS",
            metric_name=name,
            dimensions_map={"ClusterName": self.cluster_name, "ServiceName": service.service_name},
            statistic="Average",
            period=MINUTE,
        )
        cpu, memory = ecs_metric("CPUUtilization"), ecs_metric("MemoryUtilization")
        self._alarm(scope, "Cpu", process_name, cpu, t.cpu_percent, f"CPU above {t.cpu_percent} %")
        self._alarm(scope, "Memory", process_name, memory, t.memory_percent, f"memory above {t.memory_percent} %")
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
            total = lambda names: " + ".join(f"FILL({n}, 0)" for n in names)  # noqa: E731
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
            rollback.append(self._alarm(scope, "ErrorRate", process_name, error_rate, t.error_rate_percent,
                                        f"5xx above {t.error_rate_percent} % of requests"))
            rollback.append(self._alarm(scope, "Latency", process_name, latency, t.p95_ms,
                                        f"p95 response time above {t.p95_ms} ms"))
            router_errors = self._router_errors(service)
            rollback.append(self._alarm(
                scope, "RouterErrorRate", process_name, router_errors, t.error_rate_percent,
                f"the router's own 502/503/504 above {t.error_rate_percent} % of its requests"))
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
        alb = lambda name: cloudwatch.Metric(  # noqa: E731
            namespace="AWS/ApplicationELB", metric_name=name, statistic="Sum", period=MINUTE,
            dimensions_map={"LoadBalancer": service.load_balancer_full_name},
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
        minutes = self.thresholds.evaluation_minutes
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
