"""``<name>-<app>-<env>``: what one app runs in one environment; fast to create, nothing slow inside."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct

from .. import naming
from ..constructs import loadtest
from ..constructs.platform_imports import PlatformImports
from ..constructs.retention import retention
from ..spec import Spec
from .base import ShipwayStack


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
        self.app_spec = spec.apps[app]
        self.platform = PlatformImports(self, "Platform", spec=spec, env=env)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=naming.log_group(spec.name, app, env),
            retention=retention(self.app_spec.log_retention_days),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.load_test = loadtest.add_to_runtime(
            self, spec=spec, app=app, env=env, platform=self.platform, log_group=self.log_group
        )
