"""`python -m shipway.standalone [ASSEMBLY] [OUT]`: cdk.out -> dist/templates (see docs/templates.md)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..assembly import AssemblyError
from .writer import NotReusable, write_templates


def main(argv: list[str]) -> int:
    assembly = Path(argv[1] if len(argv) > 1 else "cdk.out")
    out = Path(argv[2] if len(argv) > 2 else "dist/templates")
    try:
        written = write_templates(assembly, out)
    except AssemblyError as exc:
        print(f"shipway templates: {exc}", file=sys.stderr)
        return 2
    except NotReusable as exc:
        print(f"shipway templates: these templates cannot be deployed on their own:\n{exc}", file=sys.stderr)
        return 1
    print(f"{len(written)} files in {out}: every template, service-catalog.template.json and README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
