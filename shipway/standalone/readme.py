"""The README of ``dist/templates``: how to deploy each template, its parameters and its outputs."""

from __future__ import annotations

from ..assembly import AWS_PUBLIC_PARAMETERS, SSM_VALUE_TYPE, StackTemplate, publishers
from .reusable import JUSTIFIED_CUSTOM_RESOURCES

# Resource properties that give an IAM resource a custom name, so deploying needs CAPABILITY_NAMED_IAM.
_IAM_NAMES = {"AWS::IAM::Role": "RoleName", "AWS::IAM::User": "UserName", "AWS::IAM::Group": "GroupName",
              "AWS::IAM::InstanceProfile": "InstanceProfileName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName"}


def capabilities(template: dict) -> list[str]:
    resources = template.get("Resources", {}).values()
    found = []
    if any(_IAM_NAMES.get(r.get("Type")) in r.get("Properties", {}) for r in resources):
        found.append("CAPABILITY_NAMED_IAM")
    elif any(r.get("Type", "").startswith("AWS::IAM::") for r in resources):
        found.append("CAPABILITY_IAM")
    # A transform (the Secrets Manager one that adds AWS's hosted rotation function) expands into more resources.
    if template.get("Transform"):
        found.append("CAPABILITY_AUTO_EXPAND")
    return found


# Larger templates go through S3 (`--s3-bucket`); CloudFormation takes up to 1 MB from there.
INLINE_TEMPLATE_BYTES = 51_200


def deploy_command(stack: StackTemplate, size: int) -> str:
    words = ["aws cloudformation deploy", f"--template-file {stack.name}.template.json", f"--stack-name {stack.name}"]
    if size > INLINE_TEMPLATE_BYTES:
        words.append("--s3-bucket <a bucket of yours>")
    if capabilities(stack.template):
        words.append("--capabilities " + " ".join(capabilities(stack.template)))
    if stack.tags:
        words.append("--tags " + " ".join(f"{k}={v}" for k, v in sorted(stack.tags.items())))
    return " \\\n    ".join(words)


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ") if value not in (None, "") else "—"


def _describe(parameter: dict, published: dict[str, tuple[str, str]]) -> str:
    if parameter.get("Description"):
        return _cell(parameter["Description"])
    if not parameter.get("Type", "").startswith(SSM_VALUE_TYPE):
        return "—"
    path = parameter.get("Default", "")
    if path in published:
        return f"read from SSM at deploy time; published by `{published[path][0]}`"
    if path.startswith(AWS_PUBLIC_PARAMETERS):
        return "read from SSM at deploy time; an AWS public parameter"
    return "read from SSM at deploy time"


def readme(stacks: list[StackTemplate], project: str, sizes: dict[str, int]) -> str:
    published = publishers(stacks)
    lines = [
        f"# shipway {project}: stand-alone CloudFormation templates",
        "",
        "Written by `make templates` from the synthesized assembly. Each template deploys with plain",
        "`aws cloudformation deploy` or as a Service Catalog product: none needs `cdk bootstrap`, none has",
        "assets (no Lambda code, no Docker image to upload), none has a bootstrap-version rule.",
        "",
        "Stacks find each other through SSM parameters (`/shipway/...`), never through exports: a parameter",
        "typed `AWS::SSM::Parameter::Value<...>` below has the parameter's *path* as its default, and",
        "CloudFormation reads the value at deploy time. So deploy in the order of this file; the platform",
        "publishes what the data and app stacks read.",
        "",
        "## Custom resources",
        "",
    ]
    if JUSTIFIED_CUSTOM_RESOURCES:
        lines += [f"- `{kind}`: {why}" for kind, why in sorted(JUSTIFIED_CUSTOM_RESOURCES.items())]
    else:
        lines.append("None: every resource is a native CloudFormation resource type.")
    lines += [
        "",
        "## Service Catalog",
        "",
        "`service-catalog.template.json` creates a portfolio with one product per template below. Upload this",
        "folder to S3, then deploy it with `TemplateUrlPrefix=https://<bucket>.s3.<region>.amazonaws.com/<folder>`",
        "(and `LaunchRoleName=` a role allowed to create the products' resources, since they create IAM roles).",
        "",
    ]
    for stack in stacks:
        template = stack.template
        lines += [f"## {stack.name}", "", template.get("Description", ""), ""]
        if stack.dependencies:
            lines += ["Deploy after: " + ", ".join(f"`{d}`" for d in stack.dependencies), ""]
        lines += [f"{sizes[stack.name]:,} bytes.", "", "```sh", deploy_command(stack, sizes[stack.name]), "```", ""]
        if stack.termination_protection:
            lines += ["Then turn on termination protection, as `cdk deploy` would:", "", "```sh",
                      ("aws cloudformation update-termination-protection --enable-termination-protection "
                       f"--stack-name {stack.name}"), "```", ""]
        parameters = template.get("Parameters", {})
        lines += [f"### Parameters ({len(parameters)})", ""]
        if parameters:
            lines += ["| name | type | default | description |", "| --- | --- | --- | --- |"]
            lines += [f"| `{name}` | `{p.get('Type')}` | {_code(p.get('Default'))} | {_describe(p, published)} |"
                      for name, p in parameters.items()]
        else:
            lines.append("None.")
        outputs = template.get("Outputs", {})
        lines += ["", f"### Outputs ({len(outputs)})", ""]
        if outputs:
            lines += ["| name | description | export |", "| --- | --- | --- |"]
            lines += [f"| `{name}` | {_cell(o.get('Description'))} | {_code(o.get('Export', {}).get('Name'))} |"
                      for name, o in outputs.items()]
        else:
            lines.append("None.")
        lines.append("")
    return "\n".join(lines)


def _code(value) -> str:
    return f"`{value}`" if isinstance(value, str | int | float) and value != "" else "—"
