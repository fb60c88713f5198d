"""`python -m shipway.summary cdk.out`: one line per synthesized stack: name, resources, template bytes."""

from __future__ import annotations

import sys
from pathlib import Path

from .assembly import read_assembly


def summarize(assembly: Path) -> list[tuple[str, int, int]]:
    return [(name, len(stack.resources), stack.template_file.stat().st_size)
            for name, stack in read_assembly(assembly).items()]


def main(argv: list[str]) -> int:
    assembly = Path(argv[1] if len(argv) > 1 else "cdk.out")
    rows = summarize(assembly)
    width = max(len(name) for name, _, _ in rows)
    for name, resources, size in rows:
        print(f"{name:<{width}}  {resources:>4} resources  {size:>8,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
