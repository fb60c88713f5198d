"""What a template must not need, to deploy without the CDK: a bootstrap stack, assets, or custom resources.

``cdk deploy`` uploads assets (Lambda code, Docker images, large templates) to the bootstrap stack's bucket
and registry; plain ``aws cloudformation deploy`` and Service Catalog cannot. A Lambda-backed custom
resource needs its code as such an asset, so it is refused unless ``JUSTIFIED_CUSTOM_RESOURCES`` names it
with the reason no native CloudFormation property does the job.
"""

from __future__ import annotations

import json

from ..assembly import StackTemplate

# "TYPE" or "TYPE:LogicalId" -> why CloudFormation has no native way to do it. Printed in the README.
JUSTIFIED_CUSTOM_RESOURCES: dict[str, str] = {}

# CloudFormation's limit for a template read from S3 (and Service Catalog's).
MAX_TEMPLATE_BYTES = 1_000_000
# The CDK's default bootstrap qualifier, in bucket, role and parameter names.
BOOTSTRAP_MARKERS = ("cdk-hnb659fds", "BootstrapVersion", "/cdk-bootstrap/")


def is_custom_resource(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource"


def problems(stack: StackTemplate) -> list[str]:
    """Why ``stack``'s template could not be deployed on its own; empty when it can."""
    found = []
    template = stack.template
    text = json.dumps(template)
    for marker in BOOTSTRAP_MARKERS:
        if marker in text:
            found.append(f"refers to the CDK bootstrap stack ({marker})")
    if "CheckBootstrapVersion" in template.get("Rules", {}):
        found.append("has the CheckBootstrapVersion rule")
    for name in template.get("Parameters", {}):
        if name.startswith("AssetParameters") or "ArtifactHash" in name:
            found.append(f"parameter {name} is an asset location")
    for logical_id, resource in template.get("Resources", {}).items():
        kind = resource.get("Type", "")
        if is_custom_resource(kind) and kind not in JUSTIFIED_CUSTOM_RESOURCES \
                and f"{kind}:{logical_id}" not in JUSTIFIED_CUSTOM_RESOURCES:
            found.append(f"{logical_id} is a custom resource ({kind}) that JUSTIFIED_CUSTOM_RESOURCES does not justify")
        code = resource.get("Properties", {}).get("Code", {}) if kind == "AWS::Lambda::Function" else {}
        if isinstance(code, dict) and ("S3Bucket" in code or "ImageUri" in code):
            found.append(f"{logical_id} is a Lambda function whose code is an asset")
    if len(json.dumps(template, separators=(",", ":"))) > MAX_TEMPLATE_BYTES:
        found.append(f"is over CloudFormation's {MAX_TEMPLATE_BYTES:,}-byte limit even as compact JSON")
    found += _assets(stack)
    return found


def _assets(stack: StackTemplate) -> list[str]:
    """Anything in the asset manifest besides the template itself (which `cdk deploy` uploads for itself)."""
    if stack.asset_manifest is None or not stack.asset_manifest.exists():
        return []
    manifest = json.loads(stack.asset_manifest.read_text())
    found = [f"file asset {a.get('displayName', key)}" for key, a in manifest.get("files", {}).items()
             if a.get("source", {}).get("path") != stack.template_file.name]
    found += [f"Docker image asset {a.get('displayName', key)}" for key, a in manifest.get("dockerImages", {}).items()]
    return found
