"""The one reader of a synthesized cloud assembly (``cdk.out``): its stacks, their templates, how they depend.

Everything that looks at synthesized output reads it here: the review guard, the stand-alone templates, the
synth summary, the session fixtures of the tests, the emulated deploy, the bench and the architecture diagram.

Stacks find each other through SSM parameters, never through exports (README, Stacks): a stack *publishes* a
parameter with an ``AWS::SSM::Parameter`` resource whose ``Name`` is a literal path, and *reads* one with a
template parameter typed ``AWS::SSM::Parameter::Value<...>`` whose default is that path. So the deploy order
is: every publisher before its readers.

This module imports no CDK: reading an assembly needs neither jsii nor Node.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path

SSM_PARAMETER = "AWS::SSM::Parameter"
SSM_VALUE_TYPE = "AWS::SSM::Parameter::Value"
# AWS's public parameters (the ECS-optimized AMIs): every account has them, no stack publishes them.
AWS_PUBLIC_PARAMETERS = "/aws/service/"


class AssemblyError(Exception):
    """The directory is not a readable cloud assembly."""


class UnpublishedParameter(AssemblyError):
    """A stack reads an SSM parameter that no stack of the assembly publishes."""


@dataclass(frozen=True)
class StackTemplate:
    name: str
    template: dict
    region: str | None
    template_file: Path
    # Stacks to deploy first, the stack's tags and its termination protection, as the manifest records them.
    dependencies: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    termination_protection: bool = False
    # The stack's asset manifest: what `cdk deploy` uploads to the bootstrap bucket before deploying.
    asset_manifest: Path | None = None

    @property
    def resources(self) -> dict[str, dict]:
        return self.template.get("Resources", {})

    @property
    def parameters(self) -> dict[str, dict]:
        return self.template.get("Parameters", {})

    def published(self) -> dict[str, str]:
        """SSM parameter path -> logical ID of the ``AWS::SSM::Parameter`` that writes it."""
        return {r["Properties"]["Name"]: logical_id for logical_id, r in self.resources.items()
                if r.get("Type") == SSM_PARAMETER and isinstance(r.get("Properties", {}).get("Name"), str)}

    def read(self) -> dict[str, str]:
        """Template parameter name -> the SSM parameter path CloudFormation resolves it from at deploy time."""
        return {name: p["Default"] for name, p in self.parameters.items()
                if str(p.get("Type", "")).startswith(SSM_VALUE_TYPE) and isinstance(p.get("Default"), str)}


def read_assembly(outdir: Path) -> dict[str, StackTemplate]:
    """Every CloudFormation stack of the assembly in ``outdir``, by stack name, in ``manifest.json``'s order
    (the order ``cdk deploy --all`` lists them in); nested assemblies (stages) are read too."""
    manifest_path = Path(outdir) / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise AssemblyError(f"{outdir}: not a synthesized cloud assembly ({exc})") from None
    artifacts = manifest.get("artifacts", {})
    stacks = {}
    for artifact_id, artifact in artifacts.items():
        if artifact.get("type") == "aws:cloudformation:stack":
            properties = artifact.get("properties", {})
            name = properties.get("stackName") or artifact.get("displayName") or artifact_id
            # "aws://123456789012/ap-northeast-1", or "aws://unknown-account/unknown-region" when agnostic
            region = artifact.get("environment", "").rsplit("/", 1)[-1]
            template_file = Path(outdir) / properties["templateFile"]
            depends = [d for d in artifact.get("dependencies", []) if d in artifacts]
            asset_manifests = [Path(outdir) / artifacts[d]["properties"]["file"] for d in depends
                               if artifacts[d].get("type") == "cdk:asset-manifest"]
            stacks[name] = StackTemplate(
                name, json.loads(template_file.read_text()), None if region.startswith("unknown") else region or None,
                template_file,
                dependencies=tuple(d for d in depends if artifacts[d].get("type") == "aws:cloudformation:stack"),
                tags=properties.get("tags", {}),
                termination_protection=properties.get("terminationProtection", False),
                asset_manifest=asset_manifests[0] if asset_manifests else None,
            )
        elif artifact.get("type") == "cdk:cloud-assembly":
            stacks.update(read_assembly(Path(outdir) / artifact["properties"]["directoryName"]))
    return stacks


def templates(outdir: Path) -> dict[str, dict]:
    """Stack name -> template, in the manifest's order."""
    return {name: stack.template for name, stack in read_assembly(outdir).items()}


def publishers(stacks: Iterable[StackTemplate]) -> dict[str, tuple[str, str]]:
    """SSM parameter path -> (stack, logical ID) of the ``AWS::SSM::Parameter`` that writes it."""
    return {path: (stack.name, logical_id) for stack in stacks for path, logical_id in stack.published().items()}


def deploy_order(stacks: Iterable[StackTemplate]) -> list[StackTemplate]:
    """Publishers before readers; ties keep the given (assembly) order. A parameter that no stack publishes
    (AWS's public ones aside) raises ``UnpublishedParameter`` naming the first reader and the parameter: in a
    real account CloudFormation would refuse that stack, after the ones before it were created."""
    stacks = list(stacks)
    publisher = {path: name for path, (name, _) in publishers(stacks).items()}
    graph: dict[str, set[str]] = {}
    for stack in stacks:
        reads = {p for p in stack.read().values() if not p.startswith(AWS_PUBLIC_PARAMETERS)}
        missing = sorted(p for p in reads if p not in publisher)
        if missing:
            raise UnpublishedParameter(f"{stack.name} reads SSM parameter {missing[0]}, which no stack publishes")
        graph[stack.name] = {publisher[p] for p in reads} - {stack.name}
    by_name = {s.name: s for s in stacks}
    ranks = {s.name: i for i, s in enumerate(stacks)}
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    order: list[StackTemplate] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=ranks.__getitem__)
        order += [by_name[n] for n in ready]
        sorter.done(*ready)
    return order
