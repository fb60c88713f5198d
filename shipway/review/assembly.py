"""Reading a synthesized cloud assembly (``cdk.out``): its stacks, their templates and regions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


class AssemblyError(Exception):
    """The directory is not a readable cloud assembly."""


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
            template_file = Path(outdir) / properties["templateFile"]
            artifacts = manifest["artifacts"]
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
