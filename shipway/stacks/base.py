"""What every shipway stack shares: its environment, its Availability Zones and its synthesizer."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from ..spec import Environment, Spec


class ShipwayStack(cdk.Stack):
    """A stack of one shipway environment.

    With neither ``account`` nor ``region`` in the spec the stack is environment-agnostic, and its AZs are
    ``Fn::Select`` over ``Fn::GetAZs`` (CDK's own agnostic default stops at two). With both, the spec may
    list ``availability_zones``; otherwise the same intrinsic is used, so synth never looks anything up
    and never falls back to dummy AZs.
    """

    def __init__(self, scope: Construct, stack_id: str, *, spec: Spec, environment: Environment | None,
                 description: str, termination_protection: bool = False) -> None:
        env = None
        if environment is not None and environment.account and environment.region:
            env = cdk.Environment(account=environment.account, region=environment.region)
        super().__init__(
            scope,
            stack_id,
            env=env,
            description=description,
            termination_protection=termination_protection,
            # Plain templates: no BootstrapVersion parameter or rule, so they deploy with
            # `aws cloudformation deploy` as well as with `cdk deploy`.
            synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
        )
        self.spec = spec
        self.environment_spec = environment
        cdk.Tags.of(self).add("shipway:project", spec.name)

    @property
    def availability_zones(self) -> list[str]:
        environment = self.environment_spec
        if environment is None:
            return super().availability_zones
        if environment.availability_zones:
            return list(environment.availability_zones[: environment.network.max_azs])
        return [cdk.Fn.select(i, cdk.Fn.get_azs()) for i in range(environment.network.max_azs)]
