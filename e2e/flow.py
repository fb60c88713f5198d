"""The emulated deploy of a spec, from a fresh account to its second push and a later stack update.

1. ``cdk deploy --all``: every stack through CloudFormation's API, in the order the SSM parameters give.
   Every service runs 0 tasks (no image yet) with autoscaling suspended.
2. The first push: the build, then each environment until an approval, which is not given: the environments
   reached run every process at its count (or autoscaling minimum); the others still run nothing.
3. Autoscaling scales an autoscaled service out by one task where it runs (as Application Auto Scaling would).
4. The second push, approved all the way: every environment runs it; the scaled-out count is kept; an
   environment the first push did not reach comes up as the first one did.
5. ``cdk deploy --all`` again: every service redeployed with its stack's task definition (itself an ECS
   deployment that moves traffic); no count and no image changes.
6. ``cdk deploy --all`` with one more host on every web process: every listener rule is rewritten; production
   traffic stays on the target group with the live tasks, whatever the number of deployments before.

After each step, each service's desired count, its task definition's image and the recorded tag are checked
against what the spec says (never against what the templates say): ``Check.problems`` lists the mismatches.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shipway import naming
from shipway.assembly import read_assembly
from shipway.spec import Spec
from shipway.synth import synthesize

from . import moto_patches
from .emulator import ACCOUNT, Emulator, emulated_account
from .pipeline import AppPipeline
from .stacks import deploy_all


@dataclass
class ServiceState:
    env: str
    app: str
    service: str
    desired: int
    expected: int
    tag: str
    expected_tag: str

    def line(self) -> str:
        return f"{self.env:<12} {self.service:<28} {self.desired}/{self.expected:<6} {self.tag}"


@dataclass
class Check:
    step: str
    services: list[ServiceState]
    problems: list[str] = field(default_factory=list)


def expected_counts(spec: Spec) -> dict[tuple[str, str, str], int]:
    """(env, app, service) -> the tasks the spec asks for once there is an image."""
    return {
        (env, app, naming.service_name(app, p)): (proc.autoscale.min if proc.autoscale else proc.count)
        for app, app_spec in spec.apps.items() for p, proc in app_spec.processes.items() for env in spec.environments
    }


class EmulatedDeploy:
    def __init__(self, spec: Spec, emulator: Emulator, assembly: Path, *, skip: tuple[str, ...] = ()) -> None:
        self.spec = spec
        self.emulator = emulator
        self.assembly = assembly
        self.skip = skip
        self.expected = expected_counts(spec)
        self.tags: dict[tuple[str, str], str] = {}  # (env, app) -> the tag deployed there
        self.pushes = Path(tempfile.mkdtemp(prefix="shipway-e2e-")) / "pushes"
        self.pushes.touch()
        self.checks: list[Check] = []

    def pipelines(self) -> dict[str, AppPipeline]:
        templates = {name: stack.template for name, stack in read_assembly(self.assembly).items()}
        return {app: AppPipeline(self.emulator, naming.app_stack(self.spec.name, app),
                                 templates[naming.app_stack(self.spec.name, app)], self.pushes)
                for app in self.spec.apps}

    def push(self, commit: str, *, approve: bool) -> None:
        for app, pipeline in self.pipelines().items():
            spec = self.spec.apps[app]
            source = [f for f in (spec.build.dockerfile, spec.loadtest and spec.loadtest.locustfile) if f]
            for env in pipeline.run(commit, source=source, approve=approve, skip=self.skip):
                self.tags[(env, app)] = commit

    def scale_out(self) -> None:
        """Application Auto Scaling's part: one more task for each autoscaled service that runs."""
        ecs = self.emulator.client("ecs")
        for app, app_spec in self.spec.apps.items():
            for process, proc in app_spec.processes.items():
                for env in self.spec.environments:
                    key = (env, app, naming.service_name(app, process))
                    if proc.autoscale is None or (env, app) not in self.tags:
                        continue
                    self.expected[key] += 1
                    ecs.update_service(cluster=naming.cluster_name(self.spec.name, env), service=key[2],
                                       desiredCount=self.expected[key])

    def stack_task_definitions(self) -> dict[tuple[str, str], str]:
        """(env, service) -> the task definition ARN each runtime stack holds for it."""
        cfn, ecs = self.emulator.client("cloudformation"), self.emulator.client("ecs")
        held = {}
        for app in self.spec.apps:
            for env in self.spec.environments:
                resources = cfn.describe_stack_resources(StackName=naming.app_env_stack(self.spec.name, app, env))
                for r in resources["StackResources"]:
                    if r.get("ResourceType") == "AWS::ECS::TaskDefinition":
                        family = ecs.describe_task_definition(taskDefinition=r["PhysicalResourceId"])["taskDefinition"]
                        held[(env, family["family"])] = family["taskDefinitionArn"]
        return held

    def check_scaling(self, check: Check) -> None:
        """Autoscaling is suspended, at minimum 0, until an environment's first image; then at the spec's bounds."""
        scaling = self.emulator.client("application-autoscaling")
        described = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
        targets = {t["ResourceId"]: t for t in described}
        for app, app_spec in self.spec.apps.items():
            for process, proc in app_spec.processes.items():
                if proc.autoscale is None:
                    continue
                for env in self.spec.environments:
                    resource = f"service/{naming.cluster_name(self.spec.name, env)}/{naming.service_name(app, process)}"
                    live = (env, app) in self.tags
                    target = targets.get(resource)
                    if target is None:
                        check.problems.append(f"{check.step}: {env} {resource}: no scalable target")
                        continue
                    held = set(target.get("SuspendedState", {}).values()) == {True}
                    if target["MinCapacity"] != (proc.autoscale.min if live else 0) or held == live:
                        check.problems.append(
                            f"{check.step}: {env} {resource}: minimum {target['MinCapacity']}, "
                            f"{'suspended' if held else 'active'} (live: {live})")

    def check_traffic(self, check: Check) -> None:
        """Production traffic stays on the target group that holds each shifting service's live tasks."""
        from moto.ecs.models import ecs_backends

        check.problems += [f"{check.step}: {p}" for p in moto_patches.TRAFFIC_TO_EMPTY_GROUP]
        moto_patches.TRAFFIC_TO_EMPTY_GROUP.clear()
        for service in ecs_backends[ACCOUNT][self.emulator.region].services.values():
            groups = moto_patches.live_group(service)
            if groups is not None and groups[0] != groups[1]:
                check.problems.append(f"{check.step}: {service.cluster_name} {service.name}: production traffic goes "
                                      "to the target group without its live tasks")

    def check(self, step: str, *, stack_update: bool = False) -> Check:
        ecs, ssm = self.emulator.client("ecs"), self.emulator.client("ssm")
        check = Check(step, [])
        self.check_scaling(check)
        self.check_traffic(check)
        held = self.stack_task_definitions() if stack_update else {}
        for (env, app, service), count in self.expected.items():
            tag = self.tags.get((env, app), naming.NO_IMAGE_TAG)
            expected = count if tag != naming.NO_IMAGE_TAG else 0
            (described,) = ecs.describe_services(cluster=naming.cluster_name(self.spec.name, env),
                                                 services=[service])["services"]
            image = ecs.describe_task_definition(taskDefinition=described["taskDefinition"])["taskDefinition"][
                "containerDefinitions"][0]["image"]
            running_tag = image.rsplit(":", 1)[1]
            state = ServiceState(env, app, service, described["desiredCount"], expected, running_tag, tag)
            check.services.append(state)
            if state.desired != expected:
                check.problems.append(f"{step}: {env} {service} runs {state.desired} tasks, expected {expected}")
            if running_tag != tag:
                check.problems.append(f"{step}: {env} {service} runs image tag {running_tag}, expected {tag}")
            family = naming.task_family(self.spec.name, app, env, service.removeprefix(f"{app}-"))
            if stack_update and described["taskDefinition"] != held.get((env, family)):
                check.problems.append(f"{step}: {env} {service} runs {described['taskDefinition']}, "
                                      f"not its stack's {held.get((env, family))}")
            recorded_in = naming.image_tag_parameter(self.spec.name, app, env)
            recorded = ssm.get_parameter(Name=recorded_in)["Parameter"]["Value"]
            if recorded != tag:
                check.problems.append(f"{step}: {env} {app} recorded tag {recorded}, expected {tag}")
        self.checks.append(check)
        return check

    def run(self, steps: list[tuple[str, Callable[[], object]]]) -> list[Check]:
        for step, action in steps:
            action()
            self.check(step, stack_update=step.startswith("cdk deploy"))
        return self.checks

    def steps(self) -> list[tuple[str, Callable[[], object]]]:
        return [
            ("cdk deploy --all", lambda: deploy_all(self.emulator, self.assembly)),
            ("first push (approvals withheld)", lambda: self.push("c0ffee1", approve=False)),
            ("autoscaling scales out", self.scale_out),
            ("second push (approved)", lambda: self.push("c0ffee2", approve=True)),
            ("cdk deploy --all again", lambda: self.redeploy(self.assembly)),
            ("cdk deploy --all with a new host", self.redeploy_with_another_host),
        ]

    def redeploy(self, assembly: Path) -> None:
        """``cdk deploy --all`` on a live account: the stack updates, then what the ECS deployments they started
        make EventBridge do (unless the control case skips ``DeploymentCompleted``)."""
        deploy_all(self.emulator, assembly)
        if "DeploymentCompleted" not in self.skip:
            for pipeline in self.pipelines().values():
                pipeline.deliver_deployment_events()

    def redeploy_with_another_host(self) -> None:
        """A stack update that rewrites every web process's listener rule, as a change of ``hosts`` does."""
        spec = self.spec.model_copy(deep=True)
        for app_spec in spec.apps.values():
            for process in app_spec.web_processes.values():
                process.hosts = {env: [*hosts, f"next.{hosts[0]}"] for env in spec.environments
                                 if (hosts := process.hosts_in(env))}
        assembly = Path(tempfile.mkdtemp(prefix="shipway-e2e-"))
        synthesize(spec, assembly)
        self.redeploy(assembly)


def emulated_deploy(spec: Spec, assembly: Path, *, synthesized: bool = False, skip: tuple[str, ...] = (),
                    steps: int | None = None) -> list[Check]:
    """Run the flow (its first ``steps`` steps, or all) in a fresh emulated account on ``spec``'s cloud assembly,
    synthesized into ``assembly`` unless ``synthesized``. ``skip`` leaves pipeline actions out (control cases)."""
    if not synthesized:
        synthesize(spec, assembly)
    with emulated_account(spec) as emulator:
        deploy = EmulatedDeploy(spec, emulator, assembly, skip=skip)
        return deploy.run(deploy.steps()[:steps])
