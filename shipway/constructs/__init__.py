"""Reusable L3 constructs, in the style of aws-cdk-lib's aws-ecs-patterns (docs/constructs.md).

Props are keyword-only with documented defaults; where a construct needs a resource a user would share (a
cluster, a VPC, security groups, roles, an alarm topic) it accepts yours or creates one. None of them reads
shipway's spec: ``shipway.props`` translates the spec into their props, and the stacks call them.

Exported here: the constructs that stand on their own in any CDK app. Modules not listed (the pipeline, the
load test, the platform's pools) are shipway's own wiring and may change without notice.
"""

from .alarm_topic import AlarmTopic
from .app_database import AppDatabase, RedeployOnRotation
from .app_task import FARGATE, AppContainer, TaskPlacement
from .cluster import Cluster
from .cron import CronJobs
from .database import Database
from .monitoring import AppMonitoring
from .network import Network
from .one_off import OneOffTask
from .platform_imports import PlatformImports
from .registry import EcrScanOnPush, S3Registry
from .router import Router
from .service import Autoscaling, Deployment, ProcessService, ScheduledCapacity

__all__ = [
    "FARGATE",
    "AlarmTopic",
    "AppContainer",
    "AppDatabase",
    "AppMonitoring",
    "Autoscaling",
    "Cluster",
    "CronJobs",
    "Database",
    "Deployment",
    "EcrScanOnPush",
    "Network",
    "OneOffTask",
    "PlatformImports",
    "ProcessService",
    "RedeployOnRotation",
    "Router",
    "S3Registry",
    "ScheduledCapacity",
    "TaskPlacement",
]
