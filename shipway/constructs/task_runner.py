"""One grant for every pipeline step that registers task definition revisions and runs them or deploys them.

The release step, the load-test gate and the ECS deploy actions all register a revision of a task family with a
new image, start it (``run-task``) or point services at it (``update-service``), watch its tasks and pass the
task's roles to ECS. ``TaskRunnerGrant`` says that once: which families, which cluster, which roles, and nothing
wider; its acknowledgements give cdk-nag the reason for each wildcard it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from .. import nag

# Registering a revision takes no resource ARN, and reading the family's latest one neither.
REGISTER_ACTIONS = ("ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition")
WATCH_AND_STOP = ("ecs:DescribeTasks", "ecs:StopTask")


def cluster_arn(stack: cdk.Stack, cluster: str) -> str:
    return stack.format_arn(service="ecs", resource="cluster", resource_name=cluster)


def role_arns(stack: cdk.Stack, roles: Sequence[str]) -> list[str]:
    """IAM role ARNs of ``roles`` (names): IAM is global, so the ARN has no Region."""
    return [stack.format_arn(service="iam", region="", resource="role", resource_name=role) for role in roles]


@dataclass(frozen=True)
class TaskRunnerGrant:
    """May register revisions of ``families``, run those of ``runs`` in the cluster(s), update ``services`` to
    them, watch (and stop) the tasks, and pass exactly ``roles`` to ECS tasks.

    :param clusters: the cluster name, or several (a step that serves several environments). The ``ecs:cluster``
        condition names them as given: one ARN for one name, a list for a sequence.
    :param families: task families whose revisions it registers; it may tag them only while registering them
        (``ecs:CreateAction``), so the revisions keep the family's tags.
    :param roles: names of the roles the revisions carry (task and execution): ``iam:PassRole`` names exactly
        them, towards ``ecs-tasks.amazonaws.com`` only.
    :param runs: of ``families``, those it starts with ``ecs:RunTask``, only in the cluster(s).
    :param services: services it updates to new revisions (``ecs:UpdateService``), in the cluster(s).
    :param task_actions: what it may do to the cluster's tasks, whose IDs are known only at run time.
    :param list_tasks: also ``ecs:ListTasks`` in the cluster(s) (CodePipeline's ECS deploy action lists them).
    """

    clusters: str | Sequence[str]
    families: Sequence[str]
    roles: Sequence[str]
    runs: Sequence[str] = ()
    services: Sequence[str] = ()
    task_actions: Sequence[str] = WATCH_AND_STOP
    list_tasks: bool = False

    def __post_init__(self) -> None:
        if not set(self.runs) <= set(self.families):
            raise ValueError(f"runs {sorted(set(self.runs) - set(self.families))}: a task runner runs only the "
                             "families whose revisions it registers")

    def grant(self, role: iam.IRole, *, services_first: bool = False) -> None:
        """Add the statements to ``role``'s policy and acknowledge their wildcards on it.

        ``services_first``: the services statement leads instead of following the tasks one. Only the ECS deploy
        roles ask for it: they have always listed their services first, and their templates stay byte-identical
        to those written before this grant existed (IAM does not care about the order).
        """
        for statement in self.statements(role, services_first=services_first):
            role.add_to_principal_policy(statement)
        self._acknowledge(role)

    def statements(self, scope: IConstruct, *, services_first: bool = False) -> list[iam.PolicyStatement]:
        """Register, [run], tag while registering, [list tasks], watch tasks, [update services], pass roles."""
        stack = cdk.Stack.of(scope)
        clusters = self._clusters()
        arns = [cluster_arn(stack, c) for c in clusters]
        in_clusters = {"ArnEquals": {"ecs:cluster": arns[0] if isinstance(self.clusters, str) else arns}}
        revisions = self._revisions(stack)
        services = [iam.PolicyStatement(
            actions=["ecs:DescribeServices", "ecs:UpdateService"],
            resources=[stack.format_arn(service="ecs", resource="service", resource_name=f"{cluster}/{s}")
                       for cluster in clusters for s in self.services],
        )] if self.services else []
        return [
            *(services if services_first else []),
            iam.PolicyStatement(actions=list(REGISTER_ACTIONS), resources=["*"]),
            *([iam.PolicyStatement(actions=["ecs:RunTask"], resources=[revisions[f] for f in self.runs],
                                   conditions=in_clusters)] if self.runs else []),
            iam.PolicyStatement(actions=["ecs:TagResource"], resources=list(revisions.values()),
                                conditions={"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}),
            *([iam.PolicyStatement(actions=["ecs:ListTasks"], resources=["*"], conditions=in_clusters)]
              if self.list_tasks else []),
            iam.PolicyStatement(actions=list(self.task_actions), resources=self._tasks(stack)),
            *(services if not services_first else []),
            iam.PolicyStatement(actions=["iam:PassRole"], resources=role_arns(stack, self.roles),
                                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
        ]

    def _clusters(self) -> list[str]:
        return [self.clusters] if isinstance(self.clusters, str) else list(self.clusters)

    def _revisions(self, stack: cdk.Stack) -> dict[str, str]:
        return {f: stack.format_arn(service="ecs", resource="task-definition", resource_name=f"{f}:*")
                for f in self.families}

    def _tasks(self, stack: cdk.Stack) -> list[str]:
        return [stack.format_arn(service="ecs", resource="task", resource_name=f"{c}/*") for c in self._clusters()]

    def _acknowledge(self, role: iam.IRole) -> None:
        stack = cdk.Stack.of(role)
        clusters = self.clusters if isinstance(self.clusters, str) else ", ".join(self.clusters)
        nag.acknowledge(role, "AwsSolutions-IAM5[Resource::*]",
                        "ecs:DescribeTaskDefinition and ecs:RegisterTaskDefinition take no resource ARN"
                        + (f"; ecs:ListTasks is held to {clusters} by its ecs:cluster condition"
                           if self.list_tasks else ""))
        for family, revisions in self._revisions(stack).items():
            reason = (f"ecs:RunTask of any revision of {family} (a new one is registered for each run), only in "
                      f"{clusters}; " if family in self.runs else "")
            nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", revisions),
                            reason + f"ecs:TagResource of the revisions of {family} only while registering them "
                            "(they keep the family's tags)")
        for tasks in self._tasks(stack):
            nag.acknowledge(role, nag.resource_finding(role, "AwsSolutions-IAM5", tasks),
                            f"{' and '.join(self.task_actions)} on the tasks of {clusters}: task IDs are only known "
                            "at run time")
