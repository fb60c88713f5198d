"""Where the jsii Node process spends a synth, from V8's CPU profile (NODE_OPTIONS=--cpu-prof).

The profiler slows WebAssembly badly, so this is for attribution (shares), not for timing.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

# A sample goes to the first category (in this order) that any frame of its stack belongs to: so
# aws-cdk-lib code that cdk-nag calls counts as cdk-nag, and a require() inside cdk-nag as module loading.
CATEGORIES = [
    ("waiting for Python (jsii pipe)", re.compile(r"^read$|readSync")),
    ("loading JavaScript modules", re.compile(r"node:internal/modules|^wrapSafe$|compileFunction")),
    ("garbage collection", re.compile(r"garbage collector")),
    ("built-in CloudFormation validation", re.compile(r"cloudformation-validate|^wasm")),
    ("cdk-nag rules", re.compile(r"cdk-nag/")),
    ("aws-cdk-lib (tree, tokens, rendering)", re.compile(r"aws-cdk-lib/")),
    ("jsii kernel", re.compile(r"lib/program\.js")),
]


def categorize(profile: Path) -> dict[str, float]:
    """Seconds of CPU profile samples per category, by each sample's innermost attributable frame."""
    data = json.loads(profile.read_text())
    nodes = {n["id"]: n for n in data["nodes"]}
    parent = {child: n["id"] for n in data["nodes"] for child in n.get("children", [])}
    self_time: Counter = Counter()
    for sample, delta in zip(data["samples"], data["timeDeltas"], strict=True):
        self_time[sample] += delta
    totals: dict[str, float] = {}
    for node_id, micros in self_time.items():
        category = _category(node_id, nodes, parent)
        totals[category] = totals.get(category, 0.0) + micros / 1e6
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def _category(node_id: int, nodes: dict, parent: dict) -> str:
    found: set[str] = set()
    current: int | None = node_id
    while current is not None:
        frame = nodes[current]["callFrame"]
        found.update(
            name for name, pattern in CATEGORIES
            if pattern.search(frame["url"]) or pattern.search(frame["functionName"])
        )
        current = parent.get(current)
    return next((name for name, _ in CATEGORIES if name in found), "other (Node internals, idle)")


def largest_profile(folder: Path) -> Path:
    """jsii's runtime forks a child that hosts the kernel: it is the busy one, and writes the larger profile."""
    return max(folder.glob("*.cpuprofile"), key=lambda p: p.stat().st_size)
