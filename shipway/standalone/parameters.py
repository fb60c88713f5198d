"""Template parameters a person can type: ``VpcId``, ``ImageTag``, ``EcsAmiId``.

Every parameter of a shipway template reads an SSM parameter at deploy time (``AWS::SSM::Parameter::Value``,
its path the default). CDK names each one after its path and a fixed hash
(``SsmParameterValueshipwayacmestagingvpcidC96584B6F00A464EAD1953AFF4B05118Parameter``). Nobody types those
with ``cdk deploy``; people deploying the stand-alone templates with plain CloudFormation do
(``--parameter-overrides``, the console, Service Catalog). So ``make templates`` renames them, here, and
leaves ``cdk.out`` as CDK wrote it: the review guard, ``cdk diff`` and the deployed stacks keep CDK's names.

The name is the path's words in CamelCase without the project, and without the app and environment the
stack's own name already gives: ``/shipway/acme/staging/vpc/id`` is ``VpcId`` in ``acme-staging-data`` and
``StagingVpcId`` in ``acme-minne`` (an app's pipeline stack serves every environment);
``/shipway/acme/apps/minne/staging/image-tag`` is ``ImageTag`` in ``acme-minne-staging``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ..assembly import StackTemplate

# AWS's public parameters that shipway's templates read, by name.
AWS_PARAMETER_NAMES = {
    "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id": "EcsAmiId",
}
_SUB_VARIABLE = re.compile(r"\$\{([^}!.]+)\}")


def camel(words: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[/_-]+", words) if w)


def parameter_name(path: str, *, project: str, stack: str) -> str:
    """The name of the parameter that reads SSM ``path`` in the stack named ``stack`` of ``project``."""
    if path in AWS_PARAMETER_NAMES:
        return AWS_PARAMETER_NAMES[path]
    prefix = f"/shipway/{project}/"
    if not path.startswith(prefix):
        return camel(path)
    words = path[len(prefix):].split("/")
    own = stack.removeprefix(f"{project}-")  # <env>-platform, <env>-data, <app>, <app>-<env>
    if words[0] == "apps" and len(words) > 2:
        words = words[2:] if own == words[1] or own.startswith(f"{words[1]}-") else words[1:]
    if len(words) > 1 and (own in (f"{words[0]}-platform", f"{words[0]}-data") or own.endswith(f"-{words[0]}")):
        words = words[1:]
    return camel("/".join(words))


def names(stack: StackTemplate, project: str) -> dict[str, str]:
    """CDK's parameter name -> the one a person types, for every SSM-typed parameter of ``stack``."""
    renamed: dict[str, str] = {}
    taken = {i for section in ("Resources", "Conditions", "Outputs", "Mappings", "Rules")
             for i in stack.template.get(section, {})}
    taken |= {name for name in stack.parameters if name not in stack.read()}
    for old, path in stack.read().items():
        new = parameter_name(path, project=project, stack=stack.name)
        if new in taken:
            raise ValueError(f"{stack.name}: the parameter that reads {path} would be named {new}, which the "
                             "template already uses")
        taken.add(new)
        renamed[old] = new
    return renamed


def with_typeable_parameters(stack: StackTemplate, project: str) -> StackTemplate:
    """``stack`` with its SSM-typed parameters renamed (``names``), every reference to them with them."""
    renamed = names(stack, project)
    template = _rename(stack.template, renamed)
    template["Parameters"] = {renamed.get(k, k): v for k, v in stack.parameters.items()}
    if not template["Parameters"]:
        del template["Parameters"]
    return replace(stack, template=template)


def _rename(node: Any, renamed: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_rename(item, renamed) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"} and node["Ref"] in renamed:
        return {"Ref": renamed[node["Ref"]]}
    if set(node) == {"Fn::Sub"}:
        body = node["Fn::Sub"]
        text, variables = (body, None) if isinstance(body, str) else (body[0], body[1])
        text = _SUB_VARIABLE.sub(lambda m: "${" + renamed.get(m.group(1), m.group(1)) + "}", text)
        return {"Fn::Sub": text if variables is None else [text, _rename(variables, renamed)]}
    return {key: _rename(value, renamed) for key, value in node.items()}
