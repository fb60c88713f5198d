"""`python -m shipway.summary cdk.out`: one line per synthesized stack: name, resources, template bytes."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def summarize(assembly: Path) -> list[tuple[str, int, int]]:
    manifest = json.loads((assembly / "manifest.json").read_text())
    rows = []
    for name, artifact in manifest["artifacts"].items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        path = assembly / artifact["properties"]["templateFile"]
        template = json.loads(path.read_text())
        rows.append((name, len(template.get("Resources", {})), path.stat().st_size))
    return rows


def main(argv: list[str]) -> int:
    assembly = Path(argv[1] if len(argv) > 1 else "cdk.out")
    rows = summarize(assembly)
    width = max(len(name) for name, _, _ in rows)
    for name, resources, size in rows:
        print(f"{name:<{width}}  {resources:>4} resources  {size:>8,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
