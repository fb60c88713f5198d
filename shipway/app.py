"""Build the CDK app for a spec: every stack of every environment and app, with the gates attached."""

from __future__ import annotations

import aws_cdk as cdk

from . import nag
from .selection import EVERYTHING, Selection
from .spec import Spec
from .spec.references import build_environment
from .stacks.app_pipeline import AppPipelineStack
from .stacks.app_runtime import AppRuntimeStack
from .stacks.data import DataStack
from .stacks.platform import PlatformStack


def build_app(spec: Spec, *, app: cdk.App | None = None, checks: bool = True,
              selection: Selection = EVERYTHING) -> cdk.App:
    """Add the stacks of ``spec`` that ``selection`` names (all by default) to ``app`` (a new one by default),
    with cdk-nag's AwsSolutions checks."""
    selection.check(spec)
    app = app or cdk.App()
    if checks:
        nag.add_checks(app)
    platforms: dict[str, PlatformStack] = {}
    datas: dict[str, DataStack] = {}
    if selection.platform:
        for env in spec.environments:
            platforms[env] = PlatformStack(app, spec=spec, env=env)
            datas[env] = DataStack(app, spec=spec, env=env)
            # SSM parameters carry the values; the dependency only orders deploys, and adds no exports.
            datas[env].add_stack_dependency(platforms[env])
            if spec.registry == "s3" and env != build_environment(spec):
                # Its registry admits the build's addresses, which the build environment's platform publishes.
                platforms[env].add_stack_dependency(platforms[build_environment(spec)])
    for app_name in selection.app_names(spec):
        pipeline = AppPipelineStack(app, spec=spec, app=app_name)
        for env in spec.environments:
            if selection.platform:
                # The pipeline reads each environment's alarm topic from the platform's SSM parameters.
                pipeline.add_stack_dependency(platforms[env])
            runtime = AppRuntimeStack(app, spec=spec, app=app_name, env=env)
            if selection.platform:
                runtime.add_stack_dependency(platforms[env])
                runtime.add_stack_dependency(datas[env])
            runtime.add_stack_dependency(pipeline)
    return app
