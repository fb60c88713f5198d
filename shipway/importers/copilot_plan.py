"""`shipway import copilot --plan`: read the deployed Copilot stacks and write a cutover that keeps the data.

Copilot tags every stack it deploys with ``copilot-application`` (and ``copilot-environment``,
``copilot-service``). The plan reads each one's resources (ListStackResources) and its template as deployed
(GetTemplate), and sorts every resource into one of three fates (docs/migrate-from-copilot.md):

- **adopted**: the stateful ones (databases, buckets, repositories, log groups, secrets, keys, tables) are
  retained when Copilot's stacks go and then taken over in place by CloudFormation resource import into an
  ``adopted`` stack per environment, whose template and resources-to-import file the plan writes;
- **traps**: Copilot's custom resources whose Delete handler removes something alive (a certificate, DNS
  records, the shared load balancer through the environment controller, a bucket's objects) are retained too,
  so deleting the stacks never calls them;
- **recreated**: everything else; shipway's own stacks build their counterparts.

The review guard (shipway.review) runs on the plan: on each retain patch (it must change policies only, never
replace anything) and on the deletion of every Copilot stack after the patch (every stateful resource must be
orphaned into the adopted stacks, none destroyed). A plan the guard blocks is not written.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import naming
from ..assembly import StackTemplate
from ..review import review
from ..review.compare import _references as references
from ..review.schema import replacement
from ..stateful import KEEPING_POLICIES, STATEFUL_TYPES
from .copilot import CopilotImport

ADOPTED_TYPES = STATEFUL_TYPES | {"AWS::DynamoDB::Table", "AWS::EFS::FileSystem", "AWS::ElastiCache::ReplicationGroup"}
# Copilot's custom resources, by what their Delete handler does: (pattern on the type or logical ID, what it does).
TRAP_PATTERNS = (
    (re.compile(r"Certificate|Cert\b|HTTPSCert", re.IGNORECASE),
     "its Delete handler deletes the ACM certificate Copilot requested, and its validation records"),
    (re.compile(r"DNS|Domain|Alias|Delegat|HostedZone", re.IGNORECASE),
     "its Delete handler deletes Route 53 records (the domain's aliases or the environment's delegation)"),
    (re.compile(r"EnvController", re.IGNORECASE),
     "its Delete handler takes the workload out of the environment stack; when the last web service goes, the "
     "environment stack deletes the shared load balancer that still serves traffic"),
    (re.compile(r"Clean|Empty", re.IGNORECASE), "its Delete handler empties a bucket"),
)
ROUTE53_RECORD = "AWS::Route53::RecordSet"
CAPABILITIES = "CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND"


class PlanError(Exception):
    """The plan cannot be made; the message is one line."""


@dataclass
class Resource:
    stack: str
    logical_id: str
    type: str
    physical_id: str | None
    definition: dict

    @property
    def kept(self) -> bool:
        return self.definition.get("DeletionPolicy") in KEEPING_POLICIES


@dataclass
class Stack:
    name: str
    status: str
    tags: dict[str, str]
    parameters: dict[str, str]
    template: dict
    resources: dict[str, Resource]
    parent: str | None = None  # the root stack of a nested stack (Copilot's addons)
    parent_logical_id: str | None = None

    @property
    def environment(self) -> str | None:
        return self.tags.get("copilot-environment")


@dataclass
class Trap:
    resource: Resource
    why: str


@dataclass
class Plan:
    application: str
    name: str
    stacks: list[Stack]
    adopted: list[Resource] = field(default_factory=list)
    traps: list[Trap] = field(default_factory=list)
    recreated: list[Resource] = field(default_factory=list)
    missing: list[Resource] = field(default_factory=list)  # in a template but not deployed
    # What an adopted resource stands on in its stack (a subnet group, a security group): retained with it, or
    # deleting the stack fails on a resource still in use.
    dependencies: list[Resource] = field(default_factory=list)
    patches: dict[str, dict] = field(default_factory=dict)  # stack -> template with Retain added
    # adopted stack -> (its template, its resources-to-import, properties left out)
    adoption: dict[str, tuple[dict, list[dict], list[str]]] = field(default_factory=dict)
    guard: list[str] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------------------


def read_stacks(cloudformation: Any, application: str) -> list[Stack]:
    """Every stack Copilot deployed for ``application``: root stacks by their tags, addons through their parents."""
    stacks: dict[str, Stack] = {}
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for summary in page["Stacks"]:
            tags = {t["Key"]: t["Value"] for t in summary.get("Tags", [])}
            if tags.get("copilot-application") != application or summary.get("ParentId"):
                continue
            if summary["StackStatus"] == "DELETE_COMPLETE":
                continue
            stacks[summary["StackName"]] = _read_stack(cloudformation, summary, tags)
    for stack in list(stacks.values()):
        for resource in stack.resources.values():
            if resource.type == "AWS::CloudFormation::Stack" and resource.physical_id:
                (summary,) = cloudformation.describe_stacks(StackName=resource.physical_id)["Stacks"]
                nested = _read_stack(cloudformation, summary, stack.tags)
                nested.parent, nested.parent_logical_id = stack.name, resource.logical_id
                stacks[nested.name] = nested
    return list(stacks.values())


def _read_stack(cloudformation: Any, summary: dict, tags: dict[str, str]) -> Stack:
    name = summary["StackName"]
    body = cloudformation.get_template(StackName=summary.get("StackId", name), TemplateStage="Original")
    template = body["TemplateBody"]
    if isinstance(template, str):
        template = _parse_template(template, name)
    template = json.loads(json.dumps(template))  # plain dicts, whatever the parser returned
    physical: dict[str, tuple[str, str | None]] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=summary.get("StackId",
                                                                                                      name)):
        for item in page["StackResourceSummaries"]:
            if item.get("LogicalResourceId"):
                physical[item["LogicalResourceId"]] = (item["ResourceType"], item.get("PhysicalResourceId") or None)
    resources = {
        logical_id: Resource(name, logical_id, definition.get("Type", "?"), physical.get(logical_id, (None, None))[1],
                             definition)
        for logical_id, definition in template.get("Resources", {}).items()
    }
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in summary.get("Parameters", [])}
    return Stack(name, summary["StackStatus"], tags, parameters, template, resources)


def _parse_template(text: str, name: str) -> dict:
    import yaml

    from .manifest import parse_yaml

    try:
        return parse_yaml(text)
    except yaml.YAMLError as exc:
        raise PlanError(f"stack {name}: its template cannot be read: {exc}") from None


# --- planning ------------------------------------------------------------------------------------


def make_plan(imported: CopilotImport, stacks: list[Stack]) -> Plan:
    if not stacks:
        raise PlanError(f"no deployed stack is tagged copilot-application={imported.application} in this account "
                        "and region; pass --region, or check the credentials")
    plan = Plan(imported.application, imported.spec["name"], stacks)
    for stack in stacks:
        for resource in stack.resources.values():
            if resource.type == "AWS::CloudFormation::Stack":
                continue  # its resources are planned with the nested stack itself
            trap = _trap(resource)
            if resource.type in ADOPTED_TYPES:
                (plan.adopted if resource.physical_id else plan.missing).append(resource)
            elif trap:
                plan.traps.append(Trap(resource, trap))
            else:
                plan.recreated.append(resource)
    by_stack = {s.name: s for s in stacks}
    adopted = {(r.stack, r.logical_id) for r in plan.adopted + plan.missing}
    seen = set(adopted)
    queue = list(plan.adopted + plan.missing)
    while queue:
        resource = queue.pop()
        stack = by_stack[resource.stack]
        for target in sorted(references(resource.definition.get("Properties", {}))):
            if target in stack.resources and (stack.name, target) not in seen:
                seen.add((stack.name, target))
                dependency = stack.resources[target]
                plan.dependencies.append(dependency)
                queue.append(dependency)
    plan.recreated = [r for r in plan.recreated if (r.stack, r.logical_id) not in seen]
    plan.traps = [t for t in plan.traps if (t.resource.stack, t.resource.logical_id) not in seen]
    for stack in stacks:
        plan.patches[stack.name] = _retained(stack, plan)
    for group, resources in _adoption_groups(plan).items():
        plan.adoption[group] = _adoption_template(resources, {s.name: s for s in stacks})
    _guard(plan)
    return plan


def _trap(resource: Resource) -> str | None:
    if resource.type == ROUTE53_RECORD:
        return "deleting the stack deletes the record, and the domain stops resolving"
    if resource.type == "AWS::CertificateManager::Certificate":
        return "deleting the stack deletes the certificate the load balancer serves"
    if resource.type.startswith("Custom::") or resource.type == "AWS::CloudFormation::CustomResource":
        for pattern, why in TRAP_PATTERNS:
            if pattern.search(resource.type) or pattern.search(resource.logical_id):
                return why
    return None


def _retained(stack: Stack, plan: Plan) -> dict:
    """The stack's template with DeletionPolicy and UpdateReplacePolicy Retain on what the plan keeps."""
    keep = {r.logical_id for r in plan.adopted + plan.missing + plan.dependencies if r.stack == stack.name}
    keep |= {t.resource.logical_id for t in plan.traps if t.resource.stack == stack.name}
    patched = copy.deepcopy(stack.template)
    for logical_id in keep:
        definition = patched["Resources"][logical_id]
        definition["DeletionPolicy"] = "Retain"
        definition["UpdateReplacePolicy"] = "Retain"
    return patched


def _adoption_groups(plan: Plan) -> dict[str, list[Resource]]:
    by_stack = {s.name: s for s in plan.stacks}
    groups: dict[str, list[Resource]] = {}
    for resource in plan.adopted:
        env = by_stack[resource.stack].environment
        name = f"{plan.name}-{env}-adopted" if env else f"{plan.name}-adopted"
        groups.setdefault(name, []).append(resource)
    return groups


def _adoption_template(resources: list[Resource], stacks: dict[str, Stack]) -> tuple[dict, list[dict], list[str]]:
    """A template holding ``resources`` as deployed, and the resources-to-import mapping for it."""
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Stateful resources taken over from AWS Copilot by resource import (shipway import copilot "
                       "--plan); never deleted with this stack.",
        "Resources": {},
    }
    to_import, dropped = [], []
    for resource in resources:
        stack = stacks[resource.stack]
        logical_id = _logical_id(stack, resource.logical_id)
        properties = {}
        for key, value in resource.definition.get("Properties", {}).items():
            resolved = _resolve(value, stack)
            if resolved is _UNRESOLVED:
                dropped.append(f"{logical_id}.{key}")
                continue
            properties[key] = resolved
        rules = replacement(resource.type)
        identifier = {}
        for pointer in rules.identifier:
            key = pointer[0]
            identifier[key] = resource.physical_id
            if _writable(resource.type, key):
                properties[key] = resource.physical_id
        template["Resources"][logical_id] = {"Type": resource.type, "DeletionPolicy": "Retain",
                                             "UpdateReplacePolicy": "Retain", "Properties": properties}
        to_import.append({"ResourceType": resource.type, "LogicalResourceId": logical_id,
                          "ResourceIdentifier": identifier})
    return template, to_import, dropped


def _logical_id(stack: Stack, logical_id: str) -> str:
    """A stable logical ID in the adopted stack: Copilot's stack and logical ID (an addon by its parent's name)."""
    words = re.split(r"[^A-Za-z0-9]+", f"{stack.parent}-addons" if stack.parent else stack.name)
    return ("".join(w[:1].upper() + w[1:] for w in words if w) + logical_id)[:255]


def _writable(resource_type: str, key: str) -> bool:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    return key in schema.get("properties", {}) and f"/properties/{key}" not in schema.get("readOnlyProperties", [])


_UNRESOLVED = object()
_PSEUDO = {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix", "AWS::NoValue"}


def _resolve(value: Any, stack: Stack) -> Any:
    """``value`` with Copilot's references replaced by what they pointed at; _UNRESOLVED when that is unknown
    offline (an attribute, an export that goes away with Copilot's stacks)."""
    if isinstance(value, list):
        items = [_resolve(v, stack) for v in value]
        return _UNRESOLVED if any(i is _UNRESOLVED for i in items) else items
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        target = value["Ref"]
        if target in _PSEUDO:
            return value
        if target == "AWS::StackName":
            return stack.name
        if target in stack.parameters:
            return stack.parameters[target]
        resource = stack.resources.get(target)
        return resource.physical_id if resource and resource.physical_id else _UNRESOLVED
    if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]

        def substitute(match: re.Match) -> str:
            resolved = _resolve({"Ref": match[1]}, stack)
            return match[0] if resolved is _UNRESOLVED or isinstance(resolved, dict) else str(resolved)

        text = re.sub(r"\$\{([A-Za-z0-9:]+)\}", substitute, text)
        return text if "${" not in text else {"Fn::Sub": text}
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        parts = _resolve(parts, stack)
        if parts is _UNRESOLVED:
            return _UNRESOLVED
        return separator.join(parts) if all(isinstance(p, str) for p in parts) else {"Fn::Join": [separator, parts]}
    if len(value) == 1 and next(iter(value)).startswith("Fn::"):
        return _UNRESOLVED
    resolved = {k: _resolve(v, stack) for k, v in value.items()}
    return _UNRESOLVED if any(r is _UNRESOLVED for r in resolved.values()) else resolved


def _guard(plan: Plan) -> None:
    """The review guard on each step: the retain patch replaces nothing, and deleting Copilot's stacks after it
    destroys nothing that the adopted stacks do not take over."""
    def template(name: str, body: dict) -> dict[str, StackTemplate]:
        return {name: StackTemplate(name, body, None, Path(f"{name}.template.json"))}

    for stack in plan.stacks:
        patch = review(template(stack.name, stack.template), template(stack.name, plan.patches[stack.name]))
        if patch.blocking or any(c.action != "changed" for c in patch.changes):
            raise PlanError(f"stack {stack.name}: the retain patch would replace or remove resources")
        odd = [d for c in patch.changes for d in c.details if not d.startswith(("DeletionPolicy", "UpdateReplace"))]
        if odd:
            raise PlanError(f"stack {stack.name}: the retain patch changes more than policies: {odd[0]}")
    base = {}
    for stack in plan.stacks:
        base.update(template(stack.name, plan.patches[stack.name]))
    deletion = review(base, {})
    destroyed = [c for c in deletion.changes if c.loss in ("destroyed", "replaced")]
    if destroyed:
        first = destroyed[0]
        raise PlanError(f"deleting {first.stack} would leave {first.logical_id} ({first.resource_type}) "
                        f"{first.loss}: the plan must retain it first")
    orphaned = sum(1 for c in deletion.changes if c.loss == "orphaned")
    patched = sum(1 for s in plan.stacks if plan.patches[s.name] != s.template)
    plan.guard = [
        f"Retain patches: {patched} stack(s); the guard finds policy changes only: nothing replaced or removed.",
        f"Deleting the {len(plan.stacks)} Copilot stack(s) after the patches: {orphaned} resource(s) kept in the "
        "account (each adopted, a dependency of one, or a retained trap), 0 destroyed, 0 replaced.",
    ]


# --- writing -------------------------------------------------------------------------------------


def write_plan(imported: CopilotImport, path: Path, *, region: str | None = None) -> list[Path]:
    """Read the deployed stacks with the default AWS credentials and write the plan and its files next to it."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        cloudformation = boto3.client("cloudformation", region_name=region)
        stacks = read_stacks(cloudformation, imported.application)
    except (BotoCoreError, ClientError) as exc:
        raise PlanError(f"cannot read the Copilot stacks: {exc}") from None
    plan = make_plan(imported, stacks)
    return write_files(plan, imported, path)


def write_files(plan: Plan, imported: CopilotImport, path: Path) -> list[Path]:
    folder = path.parent / f"{path.stem}-files"
    written = []
    for sub in ("retain", "adopt"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for stack in plan.stacks:
        if plan.patches[stack.name] != stack.template:
            target = folder / "retain" / f"{stack.name}.template.json"
            target.write_text(json.dumps(plan.patches[stack.name], indent=2) + "\n")
            written.append(target)
    for name, (template, to_import, _) in plan.adoption.items():
        # `cdk import --resource-mapping` takes the same mapping keyed by logical ID.
        cdk_mapping = {item["LogicalResourceId"]: item["ResourceIdentifier"] for item in to_import}
        for target, body in ((folder / "adopt" / f"{name}.template.json", template),
                             (folder / "adopt" / f"{name}.import.json", to_import),
                             (folder / "adopt" / f"{name}.cdk-import.json", cdk_mapping)):
            target.write_text(json.dumps(body, indent=2) + "\n")
            written.append(target)
    path.write_text(markdown(plan, imported, folder.relative_to(path.parent)) + "\n")
    return written


def markdown(plan: Plan, imported: CopilotImport, folder: Path) -> str:
    """The cutover plan: one section per step, each ending with its blank line; the commands refer to the files
    written in ``folder``."""
    envs = list(imported.spec["environments"])
    roots = [s for s in plan.stacks if s.parent is None]
    nested = [s for s in plan.stacks if s.parent is not None]
    return "\n".join([
        *_introduction(plan, envs, roots, nested),
        *_freeze_copilot(plan, roots),
        *_keep_the_data(plan, roots, nested, folder),
        *_deletion_traps(plan),
        *_deploy_shipway(),
        *_switch_dns(plan, imported.spec, envs),
        *_delete_copilot_stacks(plan, roots),
        *_adopt_stateful_resources(plan, folder),
        *_recreated(plan),
    ])


def _introduction(plan: Plan, envs: list[str], roots: list[Stack], nested: list[Stack]) -> list[str]:
    return [
        f"# Cutover from Copilot application `{plan.application}` to shipway `{plan.name}`",
        "",
        "Written by `shipway import copilot --plan` from the deployed stacks; docs/migrate-from-copilot.md explains "
        "each step. Work one environment at a time, in the pipeline's order: " + ", ".join(envs) + ".",
        "",
        f"Copilot stacks read: {len(roots)} (+{len(nested)} addon stacks). Taken over in place: "
        f"{len(plan.adopted)}. Deletion traps retained: {len(plan.traps)}. Recreated by shipway: "
        f"{len(plan.recreated)}.",
        "",
        "## Review guard",
        "",
        *(f"- {line}" for line in plan.guard),
        "",
    ]


def _freeze_copilot(plan: Plan, roots: list[Stack]) -> list[str]:
    return [
        "## 1. Freeze Copilot",
        "",
        "Stop Copilot from deploying while you move: disable the transitions of its pipelines (Copilot names them "
        f"`pipeline-{plan.application}-<name>`; `aws codepipeline list-pipelines`) and do not run `copilot deploy` "
        "again. Protect its stacks from a stray delete:",
        "",
        "```sh",
        *(f"aws codepipeline disable-stage-transition --pipeline-name <{s.name}'s pipeline> --stage-name Source "
          "--transition-type Outbound --reason 'moving to shipway'" for s in roots if s.tags.get("copilot-pipeline")),
        *(f"aws cloudformation update-termination-protection --enable-termination-protection --stack-name {s.name}"
          for s in roots),
        "```",
        "",
    ]


def _keep_the_data(plan: Plan, roots: list[Stack], nested: list[Stack], folder: Path) -> list[str]:
    """Step 2: the resources deleting their stack would delete today, and the retain patches: an update of each
    root stack, and by hand in the addon templates for the nested ones."""
    unkept = [r for r in plan.adopted + plan.missing + plan.dependencies if not r.kept]
    unkept += [t.resource for t in plan.traps if not t.resource.kept]
    lines = ["## 2. Keep the data: set Retain before anything is deleted", ""]
    lines += ["These resources have no keeping DeletionPolicy in Copilot's templates today; deleting their stack "
              "would delete them:", "", "| stack | resource | type |", "| --- | --- | --- |"]
    lines += [f"| {r.stack} | `{r.logical_id}` | `{r.type}` |" for r in unkept] or ["| — | — | — |"]
    lines += ["", "Update each root stack with its patched template (Retain on every resource below; nothing else "
                  "changes, as the guard checked):", "", "```sh"]
    for stack in roots:
        if plan.patches[stack.name] == stack.template:
            continue
        params = " ".join(f"ParameterKey={k},UsePreviousValue=true" for k in stack.parameters)
        lines.append(f"aws cloudformation update-stack --stack-name {stack.name} --template-body "
                     f"file://{folder}/retain/{stack.name}.template.json"
                     + (f" --parameters {params}" if params else "") + f" --capabilities {CAPABILITIES}")
    lines += ["```", "", "Addon stacks are nested: CloudFormation updates them through their parent. Add "
              "`DeletionPolicy: Retain` and `UpdateReplacePolicy: Retain` to these resources in the addon "
              "templates and run `copilot svc deploy` once more (the patched templates are in "
              f"`{folder}/retain/` for reference):", ""]
    for stack in nested:
        names = [r.logical_id for r in plan.adopted + plan.missing + plan.dependencies if r.stack == stack.name]
        if names:
            service = stack.tags.get("copilot-service", stack.parent)
            lines.append(f"- `{stack.parent}` → {stack.parent_logical_id} (addons of `{service}`): "
                         + ", ".join(f"`{n}`" for n in names))
    lines += ["", "Templates over 51,200 bytes go through S3: `--template-url` instead of `--template-body`.", ""]
    return lines


def _deletion_traps(plan: Plan) -> list[str]:
    lines = ["## 3. Deletion traps", "", "Copilot's stacks hold resources whose deletion removes something still in "
             "use. The patch retains each one, so deleting the stack leaves them alone:", "",
             "| stack | resource | type | what deleting it does |", "| --- | --- | --- | --- |"]
    lines += [f"| {t.resource.stack} | `{t.resource.logical_id}` | `{t.resource.type}` | {t.why} |"
              for t in plan.traps] or ["| — | — | — | — |"]
    lines += ["", "After the cutover, delete what you no longer want by hand (a certificate shipway does not "
                  "use, old DNS records).", ""]
    return lines


def _deploy_shipway() -> list[str]:
    return ["## 4. Deploy shipway beside Copilot", "", "Both run at once; nothing routes to shipway yet.", "",
            "```sh", "make deploy ARGS=--all    # platform, data, each app's pipeline and environment stacks",
            "git push <the app's source> main    # the first image and release", "```", ""]


def _switch_dns(plan: Plan, spec: dict, envs: list[str]) -> list[str]:
    """Step 5: where each environment's load balancer is published, and every host of the spec to point at it."""
    lines = ["## 5. Switch DNS", "", "Lower the records' TTL a day ahead. Then, per environment, point each host at "
             "shipway's load balancer, whose name the platform stack publishes:", "", "```sh"]
    for env in envs:
        lines.append(f"aws ssm get-parameter --name {naming.parameter(plan.name, env, naming.Param.ROUTER_DNS_NAME)} "
                     "--query Parameter.Value --output text")
    lines += ["```", "", "| environment | host | app |", "| --- | --- | --- |"]
    for app_name, app in spec.get("apps", {}).items():
        for process in app.get("processes", {}).values():
            hosts = process.get("hosts", [])
            for env in envs:  # hosts are per environment; a plain list serves a spec with one environment
                for host in hosts.get(env, []) if isinstance(hosts, dict) else hosts:
                    lines.append(f"| {env} | {host} | {app_name} |")
    lines += ["", "Watch both load balancers' request counts: Copilot's drains to zero as resolvers pick up the new "
                  "records.", ""]
    return lines


def _delete_copilot_stacks(plan: Plan, roots: list[Stack]) -> list[str]:
    """Step 6: services and jobs, then environments, then the application; a warning for an adopted database,
    which keeps its environment's VPC from being deleted."""
    lines = ["## 6. Delete Copilot's stacks", "", "Services and jobs first, then environments, then the application; "
             "each retained resource stays in the account:", "", "```sh"]
    order = sorted(roots, key=lambda s: (0 if s.tags.get("copilot-service") else 1 if s.environment else 2, s.name))
    for stack in order:
        lines += [f"aws cloudformation update-termination-protection --no-enable-termination-protection "
                  f"--stack-name {stack.name}", f"aws cloudformation delete-stack --stack-name {stack.name}",
                  f"aws cloudformation wait stack-delete-complete --stack-name {stack.name}"]
    databases = [r for r in plan.adopted if r.type in ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")]
    lines += ["```", ""]
    if databases:
        lines += ["⚠ An adopted database stays where it runs, in Copilot's VPC: the environment stack cannot delete "
                  "that VPC and its subnets while the database is in them, and fails. Either move the data first "
                  "(pg_dump/pg_restore into the environment's shipway database) and delete the database afterwards, "
                  "or leave the environment stack in place until you have: "
                  + ", ".join(f"`{r.physical_id}`" for r in databases) + ".", ""]
    lines += ["Then step 7, the import. Copilot's own bookkeeping (the `/copilot/` SSM parameters, the "
              "StackSet) goes last: `copilot app delete` would delete the stacks itself, so delete them as above "
              "first.", ""]
    return lines


def _adopt_stateful_resources(plan: Plan, folder: Path) -> list[str]:
    """Step 7: the import change set of each adopted stack, what each takes over, and what it could not keep."""
    lines = ["## 7. Take the stateful resources over in place", "",
             "Each adopted stack is plain CloudFormation holding the retained resources as deployed, every one with "
             "DeletionPolicy Retain. Import them now that Copilot's stacks are gone (a resource belongs to one "
             "stack at a time):", "", "```sh"]
    for name in plan.adoption:
        lines += [f"aws cloudformation create-change-set --stack-name {name} --change-set-name adopt "
                  f"--change-set-type IMPORT --template-body file://{folder}/adopt/{name}.template.json "
                  f"--resources-to-import file://{folder}/adopt/{name}.import.json",
                  f"aws cloudformation wait change-set-create-complete --stack-name {name} --change-set-name adopt",
                  f"aws cloudformation execute-change-set --stack-name {name} --change-set-name adopt"]
    lines += ["```", "", "| adopted stack | logical ID | type | physical ID | from |",
              "| --- | --- | --- | --- | --- |"]
    by_stack = {s.name: s for s in plan.stacks}
    for name, resources in _adoption_groups(plan).items():
        for resource in resources:
            logical_id = _logical_id(by_stack[resource.stack], resource.logical_id)
            lines.append(f"| {name} | `{logical_id}` | `{resource.type}` | "
                         f"`{resource.physical_id}` | {resource.stack} `{resource.logical_id}` |")
    dropped = [d for _, _, ds in plan.adoption.values() for d in ds]
    if dropped:
        lines += ["", "Properties left out of the adopted templates because they referred to something only Copilot's "
                      "stacks knew (an attribute, an export): " + ", ".join(f"`{d}`" for d in dropped) + ". The import "
                      "keeps the resources as they are; drift detection shows the values afterwards."]
    if plan.missing:
        lines += ["", "In a template but not deployed (nothing to take over): "
                  + ", ".join(f"`{r.stack}/{r.logical_id}`" for r in plan.missing)]
    lines += ["", "The app keeps reading the data where it is: pass the database's secret ARN in `secrets:` (or move "
                  "the data into the environment's shipway database with pg_dump/pg_restore in a quiet hour), the "
                  "bucket names in `config:`. With CDK instead of plain CloudFormation: include the adopted template "
                  "in a stack of your own (`aws_cdk.cloudformation_include.CfnInclude` keeps its logical IDs) and run "
                  f"`cdk import <stack> --resource-mapping {folder}/adopt/<adopted stack>.cdk-import.json`.", ""]
    return lines


def _recreated(plan: Plan) -> list[str]:
    counts: dict[str, int] = {}
    for resource in plan.recreated:
        counts[resource.type] = counts.get(resource.type, 0) + 1
    return ["## Recreated by shipway", "", "Everything else Copilot created is rebuilt by shipway's stacks (or has "
            "no counterpart and is listed in the import report):", "",
            *(f"- `{kind}` × {count}" for kind, count in sorted(counts.items()))]
