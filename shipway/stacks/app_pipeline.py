"""``<name>-<app>``: one app's source, images and pipeline across the environments."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from constructs import Construct

from .. import naming
from ..spec import Spec
from .base import ShipwayStack


class AppPipelineStack(ShipwayStack):
    def __init__(self, scope: Construct, *, spec: Spec, app: str) -> None:
        super().__init__(
            scope,
            naming.app_stack(spec.name, app),
            spec=spec,
            environment=None,
            description=f"shipway {spec.name} app {app}: source, images and pipeline",
        )
        self.app_name = app
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=naming.image_repository(spec.name, app),
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
