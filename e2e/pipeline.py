"""Run an app's pipeline as its template describes it, against the emulated account.

CodeBuild actions run for real: their buildspec's commands (from the deployed template) in real bash, with the
real AWS CLI talking to the emulator and the action's environment variables resolved as CloudFormation and
CodePipeline would. Docker and pack are replaced by e2e/bin's recorders. CodePipeline's own ECS deploy action
is AWS's code, not shipway's: ``ecs_deploy`` does what it documents (a new revision of the service's task
definition with the image from imagedefinitions.json, then UpdateService).
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .codebuild import buildspec_script
from .emulator import ACCOUNT, Emulator

BIN = Path(__file__).resolve().parent / "bin"
# The actions whose CodeBuild projects the emulated pipeline does not run, and why (docs/e2e.md).
NOT_RUN = {
    "LoadTest": "runs Locust tasks against the router; the emulator routes no traffic",
}


class ActionFailed(Exception):
    pass


class Resolver:
    """The values CloudFormation gives a template's intrinsic functions, read back from the deployed stack."""

    def __init__(self, emulator: Emulator, stack_name: str, template: dict) -> None:
        self.emulator = emulator
        self.template = template
        resources = emulator.client("cloudformation").describe_stack_resources(StackName=stack_name)
        self.physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources["StackResources"]
                         if "LogicalResourceId" in r}

    def __call__(self, value):
        if isinstance(value, str | int | float | bool) or value is None:
            return value
        if isinstance(value, list):
            return [self(v) for v in value]
        ((function, argument),) = value.items()
        if function == "Ref":
            return self.ref(argument)
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(str(self(p)) for p in parts)
        if function == "Fn::Select":
            index, items = argument
            return self(items)[int(index)]
        if function == "Fn::Split":
            separator, text = argument
            return self(text).split(separator)
        if function == "Fn::GetAtt":
            return self.attribute(*argument)
        raise ValueError(f"cannot resolve {function}")

    def ref(self, name: str) -> str:
        pseudo = {"AWS::URLSuffix": "amazonaws.com", "AWS::Region": self.emulator.region,
                  "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}
        return pseudo.get(name) or self.physical[name]

    def attribute(self, logical_id: str, name: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        if (kind, name) == ("AWS::ECR::Repository", "Arn"):
            return f"arn:aws:ecr:{self.emulator.region}:{ACCOUNT}:repository/{self.physical[logical_id]}"
        raise ValueError(f"cannot resolve Fn::GetAtt {logical_id}.{name} ({kind})")


@dataclass
class PipelineRun:
    """One execution: what the build exported, for ``#{Build.X}`` in later actions."""

    commit: str
    variables: dict[str, str] = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="shipway-e2e-")))

    def expand(self, text: str) -> str:
        values = {**{f"Build.{k}": v for k, v in self.variables.items()},
                  "codepipeline.PipelineExecutionId": f"e2e-{self.commit}"}

        def value(match: re.Match) -> str:
            name = match.group(1)
            # The source action's namespace is CDK's to name; its CommitId is the pushed commit.
            return self.commit if name.endswith(".CommitId") else values[name]

        return re.sub(r"#\{([^}]+)\}", value, text)


class AppPipeline:
    """The app's pipeline (``<name>-<app>`` stack) as deployed in the emulator."""

    def __init__(self, emulator: Emulator, stack_name: str, template: dict, pushes: Path) -> None:
        self.emulator = emulator
        self.template = template
        self.resolve = Resolver(emulator, stack_name, template)
        self.pushes = pushes
        (pipeline,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
        self.stages = pipeline["Properties"]["Stages"]
        self.projects = {logical_id: r for logical_id, r in template["Resources"].items()
                         if r["Type"] == "AWS::CodeBuild::Project"}

    def stage(self, name: str) -> list[list[dict]]:
        """The stage's actions, grouped by run order."""
        (stage,) = [s for s in self.stages if s["Name"] == name]
        orders = sorted({a.get("RunOrder", 1) for a in stage["Actions"]})
        return [[a for a in stage["Actions"] if a.get("RunOrder", 1) == o] for o in orders]

    def environments(self) -> list[str]:
        return [s["Name"] for s in self.stages[2:]]

    # --- actions ----------------------------------------------------------------------------------

    def codebuild(self, action: dict, run: PipelineRun, *, exported: tuple[str, ...] = ()) -> str:
        """Run the action's CodeBuild project's buildspec in real bash; gives its output."""
        project = self.projects[action["Configuration"]["ProjectName"]["Ref"]]["Properties"]
        spec = json.loads(project["Source"]["BuildSpec"])
        env = self.emulator.cli_environment()
        env["PATH"] = f"{BIN}:{env['PATH']}"
        env["E2E_PUSHES"] = str(self.pushes)
        env["CODEBUILD_RESOLVED_SOURCE_VERSION"] = run.commit
        for variable in project["Environment"].get("EnvironmentVariables", []):
            env[variable["Name"]] = str(self.resolve(variable["Value"]))
        overrides = action["Configuration"].get("EnvironmentVariables")
        if overrides is not None:
            for variable in json.loads(run.expand(self.resolve(overrides))):
                env[variable["name"]] = variable["value"]
        # `install` sets up buildx and downloads pack, which e2e/bin stands in for; CodeBuild exports the
        # variables of a build that succeeded.
        phases = {k: v for k, v in spec["phases"].items() if k != "install"}
        export = [f'printf "%s=%s\\n" {name} "${name}" >> exported.env' for name in exported]
        if export:
            last = phases.setdefault("post_build", {})
            last["commands"] = [*last.get("commands", []), *export]
        done = subprocess.run(["bash", "-c", buildspec_script({**spec, "phases": phases})], cwd=run.workdir,
                              env=env, text=True, capture_output=True, timeout=300, check=False)
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip()[-3000:]
            raise ActionFailed(f"{action['Name']} failed ({done.returncode}):\n{output}")
        if exported:
            for line in (run.workdir / "exported.env").read_text().splitlines():
                key, _, value = line.partition("=")
                run.variables[key] = value
        return done.stdout

    def ecs_deploy(self, action: dict, run: PipelineRun) -> None:
        """What CodePipeline's ECS deploy action does with imagedefinitions.json (AWS's code, emulated)."""
        ecs = self.emulator.client("ecs")
        cluster, service = action["Configuration"]["ClusterName"], action["Configuration"]["ServiceName"]
        images = {d["name"]: d["imageUri"] for d in json.loads((run.workdir / "imagedefinitions.json").read_text())}
        (current,) = ecs.describe_services(cluster=cluster, services=[service])["services"]
        definition = ecs.describe_task_definition(taskDefinition=current["taskDefinition"], include=["TAGS"])
        task = definition["taskDefinition"]
        for container in task["containerDefinitions"]:
            container["image"] = images.get(container["name"], container["image"])
        registrable = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
                       "placementConstraints", "requiresCompatibilities", "cpu", "memory", "runtimePlatform")
        revision = ecs.register_task_definition(
            **{k: task[k] for k in registrable if task.get(k) is not None},
            **({"tags": definition["tags"]} if definition.get("tags") else {}),
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.update_service(cluster=cluster, service=service, taskDefinition=revision)

    def step_functions(self, action: dict, run: PipelineRun) -> None:
        """CodePipeline's Step Functions invoke action (ProvisionDatabase): start an execution of the named state
        machine, which must exist in the account. moto runs no states: the provision task it would run is proven
        against a real PostgreSQL by tests/test_provision_database.py, not here."""
        arn = str(self.resolve(action["Configuration"]["StateMachineArn"]))
        client = self.emulator.client("stepfunctions")
        try:
            execution = client.start_execution(stateMachineArn=arn, name=f"{action['Name']}-{run.commit[:12]}"
                                               f"-{len(run.variables)}-{time.monotonic_ns()}"[:80])
        except client.exceptions.StateMachineDoesNotExist as exc:
            raise ActionFailed(f"{action['Name']}: {exc}") from None
        run.variables[f"{action['Name']}.ExecutionArn"] = execution["executionArn"]

    def deliver_deployment_events(self) -> None:
        """What EventBridge does when ECS reports SERVICE_DEPLOYMENT_COMPLETED: start each rule's CodeBuild target
        with the rule's input (after a stack update, every shifting service of the app has been redeployed)."""
        for rule in (r["Properties"] for r in self.template["Resources"].values() if r["Type"] == "AWS::Events::Rule"):
            if "SERVICE_DEPLOYMENT_COMPLETED" not in json.dumps(rule.get("EventPattern", {})):
                continue
            for target in rule["Targets"]:
                project = target["Arn"]["Fn::GetAtt"][0]
                overrides = json.loads(target["Input"])["environmentVariablesOverride"]
                action = {"Name": f"event for {project}", "Configuration": {
                    "ProjectName": {"Ref": project}, "EnvironmentVariables": json.dumps(overrides)}}
                self.codebuild(action, PipelineRun("event"))

    # --- an execution -----------------------------------------------------------------------------

    def run(self, commit: str, *, source: Sequence[str], approve: bool, skip: tuple[str, ...] = ()) -> list[str]:
        """One execution for ``commit``: the build, then each environment in order until an approval that
        ``approve`` does not give. Gives the environments it deployed to. ``source`` lists the files the pushed
        repository holds (empty stand-ins); ``skip`` names actions to leave out (the e2e's control cases)."""
        run = PipelineRun(commit)
        for name in source:
            (run.workdir / name).parent.mkdir(parents=True, exist_ok=True)
            (run.workdir / name).touch()
        (build,), = self.stage("Build")
        self.codebuild(build, run, exported=("IMAGE_TAG", "IMAGE_URI"))
        reached: list[str] = []
        for env in self.environments():
            for actions in self.stage(env):
                for action in actions:
                    provider = action["ActionTypeId"]["Provider"]
                    if action["Name"] in skip or action["Name"] in NOT_RUN:
                        continue
                    if provider == "Manual":
                        if not approve:
                            return reached
                    elif provider == "ECS":
                        self.ecs_deploy(action, run)
                    elif provider == "CodeBuild":
                        self.codebuild(action, run)
                    elif provider == "StepFunctions":
                        self.step_functions(action, run)
                    else:
                        raise ActionFailed(f"{env}: no emulation of a {provider} action ({action['Name']})")
            reached.append(env)
        return reached
