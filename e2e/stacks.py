"""Deploy the synthesized stacks through CloudFormation's API, in the order their SSM parameters give.

A stack that reads a parameter (``AWS::SSM::Parameter::Value<...>``) goes after the stack that publishes it
(``AWS::SSM::Parameter`` with that ``Name``). A parameter no stack publishes fails first, with its name: in a
real account CloudFormation would refuse that stack, after the ones before it were created.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

from .emulator import Emulator

# AWS's public parameters (the ECS-optimized AMIs): every account has them, no stack publishes them.
AWS_PUBLIC = "/aws/service/"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class DeployFailed(Exception):
    """One line saying which stack failed and why."""


@dataclass(frozen=True)
class StackTemplate:
    name: str
    path: Path

    @property
    def template(self) -> dict:
        return json.loads(self.path.read_text())

    def publishes(self) -> set[str]:
        return {r["Properties"]["Name"] for r in self.template.get("Resources", {}).values()
                if r["Type"] == "AWS::SSM::Parameter" and isinstance(r["Properties"].get("Name"), str)}

    def reads(self) -> set[str]:
        return {p["Default"] for p in self.template.get("Parameters", {}).values()
                if p["Type"].startswith("AWS::SSM::Parameter::Value") and "Default" in p}


def stacks_of(assembly: Path) -> list[StackTemplate]:
    manifest = json.loads((assembly / "manifest.json").read_text())
    return [StackTemplate(name, assembly / art["properties"]["templateFile"])
            for name, art in manifest["artifacts"].items() if art.get("type") == "aws:cloudformation:stack"]


def deploy_order(stacks: list[StackTemplate]) -> list[StackTemplate]:
    """Publishers before readers; a parameter nobody publishes raises ``DeployFailed`` naming it and its reader."""
    publisher = {parameter: s.name for s in stacks for parameter in s.publishes()}
    graph: dict[str, set[str]] = {}
    for stack in stacks:
        reads = {p for p in stack.reads() if not p.startswith(AWS_PUBLIC)}
        missing = sorted(p for p in reads if p not in publisher)
        if missing:
            raise DeployFailed(f"{stack.name} reads SSM parameter {missing[0]}, which no stack publishes")
        graph[stack.name] = {publisher[p] for p in reads} - {stack.name}
    by_name = {s.name: s for s in stacks}
    # Ties keep the assembly's order, which is the order `cdk deploy --all` lists them in.
    ranks = {s.name: i for i, s in enumerate(stacks)}
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    order: list[StackTemplate] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=ranks.__getitem__)
        order += [by_name[n] for n in ready]
        sorter.done(*ready)
    return order


def deploy(emulator: Emulator, stack: StackTemplate) -> str:
    """Create the stack, or update it when it exists (as ``cdk deploy`` does); gives the final status."""
    cfn = emulator.client("cloudformation")
    body = stack.path.read_text()
    existing = [s for s in cfn.list_stacks()["StackSummaries"]
                if s["StackName"] == stack.name and s["StackStatus"] != "DELETE_COMPLETE"]
    try:
        if existing:
            cfn.update_stack(StackName=stack.name, TemplateBody=body, Capabilities=CAPABILITIES)
        else:
            cfn.create_stack(StackName=stack.name, TemplateBody=body, Capabilities=CAPABILITIES)
    except cfn.exceptions.ClientError as error:
        raise DeployFailed(f"{stack.name}: {error.response['Error']['Message']}") from None
    status = cfn.describe_stacks(StackName=stack.name)["Stacks"][0]["StackStatus"]
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise DeployFailed(f"{stack.name}: {status}")
    return status


def deploy_all(emulator: Emulator, assembly: Path) -> list[str]:
    """``cdk deploy --all`` through CloudFormation's API: every stack of the assembly, in parameter order."""
    order = deploy_order(stacks_of(assembly))
    for stack in order:
        deploy(emulator, stack)
    return [s.name for s in order]
