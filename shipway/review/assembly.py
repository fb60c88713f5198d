"""Reading a synthesized cloud assembly (``cdk.out``): its stacks, their templates and regions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


class AssemblyError(Exception):
    """The directory is not a readable cloud assembly."""


@dataclass(frozen=True)
class StackTemplate:
    name: str
    template: dict
    region: str | None

    @property
    def resources(self) -> dict[str, dict]:
        return self.template.get("Resources", {})


def read_assembly(outdir: Path) -> dict[str, StackTemplate]:
    """Every CloudFormation stack of the assembly in ``outdir``, by stack name, as ``manifest.json`` lists them."""
    manifest_path = Path(outdir) / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise AssemblyError(f"{outdir}: not a synthesized cloud assembly ({exc})") from None
    stacks = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") == "aws:cloudformation:stack":
            properties = artifact.get("properties", {})
            name = properties.get("stackName") or artifact.get("displayName") or artifact_id
            # "aws://123456789012/ap-northeast-1", or "aws://unknown-account/unknown-region" when agnostic
            region = artifact.get("environment", "").rsplit("/", 1)[-1]
            template = json.loads((Path(outdir) / properties["templateFile"]).read_text())
            stacks[name] = StackTemplate(name, template, None if region.startswith("unknown") else region or None)
        elif artifact.get("type") == "cdk:cloud-assembly":
            stacks.update(read_assembly(Path(outdir) / artifact["properties"]["directoryName"]))
    return stacks
