"""The review as markdown, fit for a pull-request comment."""

from __future__ import annotations

from .compare import ADDED, CHANGED, REMOVED, REPLACED, ResourceChange, Review

SECTIONS = ((REPLACED, "Replaced"), (REMOVED, "Removed"), (CHANGED, "Changed"), (ADDED, "Added"))


def markdown(result: Review, cdk_diffs: dict[str, str] | None = None) -> str:
    lines = ["## shipway review", ""]
    blocking = result.blocking
    allowed = [c for c in result.changes if c.fate and c.allowed]
    if blocking:
        lines += [
            f"**⛔ {len(blocking)} resource(s) would lose data or fail the deploy half-way.** Nothing here is "
            "deployable until a reviewer confirms each one with `--allow TYPE:LogicalId` (or the change is undone).",
            "",
            "| stack | resource | type | fate |",
            "| --- | --- | --- | --- |",
            *(f"| {c.stack} | `{c.logical_id}` | `{c.resource_type}` | {c.fate} |" for c in blocking),
            "",
        ]
    else:
        lines += ["**✅ No stateful resource is destroyed, replaced or orphaned.**", ""]
    if allowed:
        lines += ["Allowed after review: " + ", ".join(f"`{c.key}` ({c.fate})" for c in allowed), ""]
    if result.unused_allows:
        lines += ["⚠ `--allow` matched nothing (stale?): " + ", ".join(f"`{a}`" for a in result.unused_allows), ""]

    totals = {action: sum(1 for c in result.changes if c.action == action) for action, _ in SECTIONS}
    lines += [" · ".join(f"{title.lower()}: {totals[action]}" for action, title in SECTIONS), ""]

    unchanged = []
    for stack in result.stacks:
        if not stack.changes:
            unchanged.append(stack.name)
            continue
        note = {ADDED: " (new stack)", REMOVED: " (stack removed)"}.get(stack.status, "")
        lines += [f"### {stack.name}{note}", ""]
        for action, title in SECTIONS:
            changes = [c for c in stack.changes if c.action == action]
            if changes:
                lines += [f"**{title}** ({len(changes)})", ""]
                lines += [line for c in changes for line in _item(c)]
                lines.append("")
        if cdk_diffs and stack.name in cdk_diffs:
            lines += ["<details><summary>cdk diff</summary>", "", "```", cdk_diffs[stack.name].strip(), "```", "",
                      "</details>", ""]
    if unchanged:
        lines += ["Unchanged: " + ", ".join(unchanged), ""]
    return "\n".join(lines)


def _item(change: ResourceChange) -> list[str]:
    mark = "⛔ " if change.blocking else "🔓 " if change.fate else ""
    tag = " · stateful" if change.stateful else ""
    lines = [f"- {mark}`{change.logical_id}` `{change.resource_type}`{tag}"]
    lines += [f"  - {detail}" for detail in change.details]
    lines += [f"  - ⚠ {warning}" for warning in change.warnings]
    return lines
