"""Compare two synthesized assemblies resource by resource, and predict what CloudFormation will do.

A resource present in both is *replaced* when its type changes, when a create-only property changes (the
registry schemas, see ``schema.py``), or when a create-only property refers (``Ref``, ``Fn::GetAtt``,
``Fn::Sub``) to a resource that is itself replaced: its physical ID changes, so the value does. That last rule
runs to a fixed point, because replacements cascade (a new subnet group replaces the database in it).

A stateful resource whose logical ID vanished while one of the same type appeared in the same stack is a
*rename*: CloudFormation creates the new one and deletes (or orphans) the old one, so it is a replacement.

Two more things block though no data is lost by them alone:

- a replaced *container* (VPC, subnet, subnet group, security group) that a database, cache or file system
  sits in, found by following the holder's references, within its stack and across stacks through the SSM
  parameters shipway's stacks publish and read: the holder cannot move with it, so the update fails half-way
  (a subnet group cannot drop subnets in use, the old subnets cannot be deleted);
- an in-place change AWS refuses: a database's storage shrinking, its engine version going down.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..assembly import SSM_PARAMETER, SSM_VALUE_TYPE, StackTemplate, publishers
from ..stateful import KEEPING_POLICIES, is_pinned, is_stateful
from .schema import replacement

# Resource attributes that change the resource or its fate; DependsOn only orders work, and CDK's own
# metadata (aws:cdk:path) follows construct paths, not resources.
ATTRIBUTES = ("Type", "Properties", "DeletionPolicy", "UpdateReplacePolicy", "UpdatePolicy", "CreationPolicy",
              "Condition")

# What holds data inside a network, and the network pieces it sits in.
HOLDER_TYPES = frozenset({
    "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::ServerlessCache", "AWS::EFS::MountTarget",
})
CONTAINER_TYPES = frozenset({
    "AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::SecurityGroup", "AWS::RDS::DBSubnetGroup",
    "AWS::ElastiCache::SubnetGroup",
})

ADDED, CHANGED, REPLACED, REMOVED = "added", "changed", "replaced", "removed"


@dataclass
class ResourceChange:
    stack: str
    logical_id: str
    resource_type: str
    action: str
    details: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stateful: bool = False
    # What happens to the data: "destroyed", "replaced", "orphaned"; None when nothing is lost.
    loss: str | None = None
    renamed_from: str | None = None
    allowed: bool = False
    # Why the change blocks though no data of its own is lost ("holds a database", "refused by AWS").
    obstacle: str | None = None

    @property
    def key(self) -> str:
        return f"{self.resource_type}:{self.logical_id}"

    @property
    def fate(self) -> str | None:
        return self.loss or self.obstacle

    @property
    def blocking(self) -> bool:
        return self.fate is not None and not self.allowed

    def matches(self, allowed: str) -> bool:
        """``TYPE:LogicalId`` (the new or, for a rename, the old ID), optionally ``STACK/TYPE:LogicalId``."""
        stack, _, rest = allowed.rpartition("/")
        ids = {self.logical_id, self.renamed_from}
        kind, _, logical_id = rest.rpartition(":")
        return kind == self.resource_type and logical_id in ids and stack in ("", self.stack)


@dataclass
class StackReview:
    name: str
    status: str  # added, removed, changed or unchanged
    changes: list[ResourceChange]


@dataclass
class Review:
    stacks: list[StackReview]
    unused_allows: list[str]

    @property
    def changes(self) -> list[ResourceChange]:
        return [c for s in self.stacks for c in s.changes]

    @property
    def blocking(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.blocking]


def review(base: dict[str, StackTemplate], head: dict[str, StackTemplate], allow: Sequence[str] = ()) -> Review:
    """What deploying ``head`` over ``base`` does to every resource, with ``allow`` (``TYPE:LogicalId``) let through."""
    stacks = []
    for name in [*head, *(n for n in base if n not in head)]:
        old, new = base.get(name), head.get(name)
        changes = _compare_stack(name, old, new)
        status = ADDED if old is None else REMOVED if new is None else CHANGED if changes else "unchanged"
        stacks.append(StackReview(name, status, changes))
    result = Review(stacks, [])
    _block_replaced_containers(head, result)
    for allowed in allow:
        hits = [c for c in result.changes if c.fate and c.matches(allowed)]
        for change in hits:
            change.allowed = True
        if not hits:
            result.unused_allows.append(allowed)
    return result


def _compare_stack(name: str, old: StackTemplate | None, new: StackTemplate | None) -> list[ResourceChange]:
    either = new or old
    if either is None:
        raise ValueError(f"stack {name} is in neither assembly")
    before = old.resources if old else {}
    after = new.resources if new else {}
    region = either.region
    removed = [i for i in before if i not in after]
    added = [i for i in after if i not in before]
    renames = _renames(before, after, removed, added)
    replaced = _replacements(before, after, region, renames)

    renamed_from = {new_id: old_id for old_id, new_id in renames.items()}
    changes: list[ResourceChange] = []
    for logical_id, resource in after.items():
        kind = resource.get("Type", "?")
        if logical_id in renamed_from:
            old_id = renamed_from[logical_id]
            change = ResourceChange(name, logical_id, kind, REPLACED, renamed_from=old_id, details=[
                f"logical ID renamed from `{old_id}`: CloudFormation creates a new resource and deletes the old one"
            ])
            if is_pinned(old_id, kind):
                change.details.append(f"`{old_id}` is one of shipway's pinned logical IDs (shipway/stateful.py): "
                                      "the change renames or moves a construct of shipway's own")
            _judge_loss(change, before[old_id])
        elif logical_id in added:
            change = ResourceChange(name, logical_id, kind, ADDED)
        elif logical_id in replaced:
            change = ResourceChange(name, logical_id, kind, REPLACED, details=replaced[logical_id])
            _warn_named_replacement(change, before[logical_id], resource, region)
            _judge_loss(change, before[logical_id])
        else:
            diffs = _changed_attributes(before[logical_id], resource)
            if not diffs:
                continue
            change = ResourceChange(name, logical_id, kind, CHANGED, details=diffs)
            change.warnings += _conditional_replacements(before[logical_id], resource, region)
            _judge_refused(change, before[logical_id], resource)
            if before[logical_id].get("DeletionPolicy") in KEEPING_POLICIES and \
                    resource.get("DeletionPolicy") not in KEEPING_POLICIES:
                change.warnings.append("DeletionPolicy no longer keeps it: a later removal destroys it")
        change.stateful = is_stateful(resource) or (logical_id in before and is_stateful(before[logical_id]))
        changes.append(change)
    for logical_id in removed:
        if logical_id in renames:
            continue
        resource = before[logical_id]
        change = ResourceChange(name, logical_id, resource.get("Type", "?"), REMOVED, stateful=is_stateful(resource))
        if new is None:
            change.details.append("its stack is gone from the assembly; deleting the stack deletes it")
        _judge_loss(change, resource)
        change.details += _kept_in_postgresql(resource)
        changes.append(change)
    return changes


def _judge_loss(change: ResourceChange, old: dict) -> None:
    """Set what happens to the data of a removed or replaced resource, if it holds any."""
    change.stateful = change.stateful or is_stateful(old)
    if not change.stateful:
        return
    policy = old.get("UpdateReplacePolicy" if change.action == REPLACED and not change.renamed_from else
                     "DeletionPolicy", "Delete")
    if change.action == REPLACED:
        change.loss = "replaced"
        if policy == "Snapshot":
            change.warnings.append("the old one is deleted after a final snapshot; the new one starts empty")
        elif policy in KEEPING_POLICIES:
            change.warnings.append(f"the old one is kept ({policy}) but leaves the stack: its data stays behind, "
                                   "orphaned, and the new one starts empty")
    elif policy in ("Retain", "RetainExceptOnCreate"):
        change.loss = "orphaned"
        change.details.append(f"DeletionPolicy {policy}: it stays in the account, outside any stack, and a new "
                              "resource with the same name will fail to create")
    elif policy == "Snapshot":
        change.loss = "destroyed"
        change.details.append("DeletionPolicy Snapshot: deleted after a final snapshot")
    else:
        change.loss = "destroyed"
        change.details.append("deleted with its data")


def _judge_refused(change: ResourceChange, old: dict, new: dict) -> None:
    """In-place changes of a database that AWS refuses: the deploy would fail half-way through production."""
    if change.resource_type not in ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
        return
    was, now = old.get("Properties", {}), new.get("Properties", {})
    storage_was, storage_now = _number(was.get("AllocatedStorage")), _number(now.get("AllocatedStorage"))
    if storage_was is not None and storage_now is not None and storage_now < storage_was:
        change.obstacle = "refused by AWS"
        change.details.append(f"storage shrinks from {storage_was} to {storage_now} GB: RDS cannot shrink allocated "
                              "storage; keep it, or move the data to a new, smaller database")
    version_was, version_now = _version(was.get("EngineVersion")), _version(now.get("EngineVersion"))
    if version_was is not None and version_now is not None and version_now < version_was:
        change.obstacle = "refused by AWS"
        change.details.append(f"engine version goes down from {was['EngineVersion']} to {now['EngineVersion']}: "
                              "RDS upgrades in place but never downgrades; restore a snapshot into a new database")


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None  # absent, or an intrinsic


def _version(value: Any) -> tuple[int, ...] | None:
    if not isinstance(value, str | int) or not re.fullmatch(r"\d+(\.\d+)*", str(value)):
        return None
    return tuple(int(part) for part in str(value).split("."))


def _block_replaced_containers(head: dict[str, StackTemplate], result: Review) -> None:
    """A replaced container that a holder sits in blocks: name the holder and the way it reaches the container."""
    replaced = {(c.stack, c.logical_id): c for c in result.changes if c.action == REPLACED}
    if not replaced:
        return
    published = publishers(head.values())
    for stack in head.values():
        for logical_id, resource in stack.resources.items():
            if resource.get("Type") not in HOLDER_TYPES:
                continue
            holder = f"`{stack.name}/{logical_id}` ({resource['Type']})"
            for (where, container), path in _sits_in(head, published, stack.name, logical_id).items():
                change = replaced.get((where, container))
                if change is None or f"{holder} sits in it" in " ".join(change.details):
                    continue
                change.obstacle = change.obstacle or f"holds {resource['Type'].split('::')[-1]}"
                change.details.append(
                    f"{holder} sits in it ({' → '.join(path)}): it cannot move with a replacement, so the update "
                    "fails half-way (subnets and groups in use cannot be swapped or deleted)")


def _sits_in(head: dict[str, StackTemplate], published: dict, stack: str, holder: str) -> dict[tuple, list[str]]:
    """The containers ``holder`` reaches through its references: containers lead on to what they sit in, and a
    template parameter that reads an SSM parameter leads to the resource that writes it, in whichever stack."""
    found: dict[tuple, list[str]] = {}
    queue: list[tuple[str, str, list[str]]] = [(stack, holder, [])]
    seen = {(stack, holder)}
    while queue:
        where, logical_id, path = queue.pop(0)
        template = head[where].template
        resource = template.get("Resources", {}).get(logical_id, {})
        for ref in sorted(_references(resource.get("Properties", {}))):
            steps = [(where, ref, f"`{ref}`")]
            parameter = template.get("Parameters", {}).get(ref)
            if parameter is not None:
                name = parameter.get("Default")
                if not str(parameter.get("Type", "")).startswith(SSM_VALUE_TYPE) or name not in published:
                    continue
                steps = [published[name] + (f"parameter `{name}`",)]
            for next_stack, next_id, label in steps:
                kind = head[next_stack].resources.get(next_id, {}).get("Type")
                if (next_stack, next_id) in seen or kind not in CONTAINER_TYPES | {SSM_PARAMETER}:
                    continue
                seen.add((next_stack, next_id))
                trail = [*path, label]
                if kind in CONTAINER_TYPES:
                    found[(next_stack, next_id)] = trail
                queue.append((next_stack, next_id, trail))
    return found
def _kept_in_postgresql(resource: dict) -> list[str]:
    """An app's database secret names the database and role it logs in to (``app_database.AppDatabase``): they are
    no CloudFormation resources, so they and their data stay in the instance whatever happens to the stack."""
    names = resource.get("Metadata", {}).get("shipway:database")
    if not names:
        return []
    return [(f"the app's PostgreSQL database `{names['database']}` and role `{names['role']}` stay in the instance "
             "with their data: shipway never drops a database (docs/data.md: removing an app)")]


def _renames(before: dict, after: dict, removed: list[str], added: list[str]) -> dict[str, str]:
    """Stateful resources that vanished, paired with a new one of the same type: old ID -> new ID."""
    pairs: dict[str, str] = {}
    free = [i for i in added if is_stateful(after[i])]
    for old_id in removed:
        if not is_stateful(before[old_id]):
            continue
        same_type = [i for i in free if after[i].get("Type") == before[old_id].get("Type")]
        if same_type:
            # The most similar candidate: most top-level properties equal.
            best = max(same_type, key=lambda i: _similarity(before[old_id], after[i]))
            pairs[old_id] = best
            free.remove(best)
    return pairs


def _similarity(a: dict, b: dict) -> int:
    pa, pb = a.get("Properties", {}), b.get("Properties", {})
    return sum(1 for k in pa if k in pb and pa[k] == pb[k])


def _replacements(before: dict, after: dict, region: str | None, renames: dict[str, str]) -> dict[str, list[str]]:
    """Resources kept under the same logical ID that CloudFormation will nonetheless replace, with why."""
    replaced: dict[str, list[str]] = {}
    # Renamed resources get a new physical ID, just as replaced ones do.
    renewed = {new: f"`{new}`, which replaces `{old}`" for old, new in renames.items()}
    common = [i for i in after if i in before]
    changed = True
    while changed:
        changed = False
        for logical_id in common:
            if logical_id in replaced:
                continue
            old, new = before[logical_id], after[logical_id]
            reasons = []
            if old.get("Type") != new.get("Type"):
                reasons.append(f"type changes from {old.get('Type')} to {new.get('Type')}")
            else:
                rules = replacement(new.get("Type", ""), region)
                reasons += _create_only_changes(old.get("Properties", {}), new.get("Properties", {}),
                                                rules.create_only, renewed)
            if reasons:
                replaced[logical_id] = reasons
                renewed[logical_id] = f"`{logical_id}`, which is replaced"
                changed = True
    return replaced


def _create_only_changes(old: dict, new: dict, pointers, renewed: dict[str, str]) -> list[str]:
    reasons = []
    said: list[tuple[str, ...]] = []
    for pointer in sorted(pointers, key=len):
        if any(pointer[: len(parent)] == parent for parent in said):
            continue  # a parent pointer already covers this change
        was, now = _at(old, pointer), _at(new, pointer)
        path = "/".join(pointer)
        moved = sorted(r for r in _references(now) if r in renewed)
        if was != now:
            reasons.append(f"create-only `{path}` changes: {_short(was)} → {_short(now)}")
        elif moved:
            reasons.append(f"create-only `{path}` refers to {', '.join(renewed[r] for r in moved)}")
        else:
            continue
        said.append(pointer)
    return reasons


def _conditional_replacements(old: dict, new: dict, region: str | None) -> list[str]:
    rules = replacement(new.get("Type", ""), region)
    warnings = [
        f"`{'/'.join(p)}` changes and may force a replacement for some values (conditionally create-only)"
        for p in rules.conditional
        if _at(old.get("Properties", {}), p) != _at(new.get("Properties", {}), p)
    ]
    if not rules.known:
        warnings.append("no registry schema knows this type: replacement cannot be predicted")
    return warnings


def _warn_named_replacement(change: ResourceChange, old: dict, new: dict, region: str | None) -> None:
    """CloudFormation cannot create a replacement beside a resource whose custom name stays the same."""
    rules = replacement(new.get("Type", ""), region)
    for pointer in rules.identifier:
        if pointer not in rules.create_only:
            continue
        name = _at(new.get("Properties", {}), pointer)
        if name != [_MISSING] and name == _at(old.get("Properties", {}), pointer):
            change.warnings.append(f"it keeps its custom `{'/'.join(pointer)}`, so CloudFormation cannot create the "
                                   "replacement beside it: the update fails and rolls back")


def _changed_attributes(old: dict, new: dict) -> list[str]:
    diffs = []
    for attribute in ATTRIBUTES:
        if attribute == "Properties":
            for path in _diff_paths(old.get("Properties", {}), new.get("Properties", {})):
                diffs.append(f"`{'/'.join(map(str, path))}`: {_short(_get(old['Properties'], path))} → "
                             f"{_short(_get(new.get('Properties', {}), path))}")
        elif old.get(attribute) != new.get(attribute):
            diffs.append(f"{attribute}: {_short(old.get(attribute))} → {_short(new.get(attribute))}")
    old_meta, new_meta = _own_metadata(old), _own_metadata(new)
    if old_meta != new_meta:
        diffs.append("Metadata changes")
    return diffs


def _own_metadata(resource: dict) -> dict:
    return {k: v for k, v in resource.get("Metadata", {}).items() if not k.startswith("aws:cdk:")}


# --- values --------------------------------------------------------------------------------------

_MISSING = "(absent)"


def _is_intrinsic(value: Any) -> bool:
    if not (isinstance(value, dict) and len(value) == 1):
        return False
    key = next(iter(value))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def _at(value: Any, pointer: tuple[str, ...]) -> list:
    """The values at ``pointer`` (``*`` is every list element); an intrinsic stands for everything below it."""
    if not pointer or _is_intrinsic(value):
        return [value]
    head, rest = pointer[0], pointer[1:]
    if head == "*":
        return [v for item in value for v in _at(item, rest)] if isinstance(value, list) else [value]
    if isinstance(value, dict):
        return _at(value[head], rest) if head in value else [_MISSING]
    return [_MISSING]


_SUB_NAME = re.compile(r"\$\{([^!}][^}]*)\}")


def _references(value: Any) -> set[str]:
    """Logical IDs that ``value`` refers to through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item)
    elif isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (inner[0], inner[1]) if isinstance(inner, list) else (inner, {})
                found |= {n.split(".")[0] for n in _SUB_NAME.findall(text) if n.split(".")[0] not in variables}
                found |= _references(variables)
            else:
                found |= _references(inner)
    return found


def _diff_paths(old: Any, new: Any, path: tuple = ()) -> list[tuple]:
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict) and not (_is_intrinsic(old) or _is_intrinsic(new)):
        return [p for key in dict.fromkeys([*old, *new]) for p in _diff_paths(old.get(key, _MISSING),
                                                                             new.get(key, _MISSING), (*path, key))]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [p for i, (a, b) in enumerate(zip(old, new, strict=True)) for p in _diff_paths(a, b, (*path, i))]
    return [path]


def _get(value: Any, path: tuple) -> Any:
    for part in path:
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return _MISSING
    return value


def _short(value: Any, width: int = 60) -> str:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    text = value if value == _MISSING else json.dumps(value, sort_keys=True)
    return f"`{text if len(text) <= width else text[: width - 1] + '…'}`"
