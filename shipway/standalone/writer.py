"""Write the stand-alone templates, their README and the Service Catalog portfolio into one folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..assembly import read_assembly
from .parameters import with_typeable_parameters
from .readme import readme
from .reusable import problems
from .service_catalog import portfolio_template


class NotReusable(Exception):
    """A template needs the CDK's bootstrap stack, assets or an unjustified custom resource."""


def write_templates(assembly: Path, out: Path) -> list[Path]:
    """Copy every stack's template from ``assembly`` into ``out`` (emptied first), its parameters renamed to
    names a person can type (``parameters.py``), with README.md and the Service Catalog portfolio; refuse if any
    template could not be deployed on its own."""
    stacks = list(read_assembly(assembly).values())
    found = [f"{s.name}: {p}" for s in stacks for p in problems(s)]
    if found:
        raise NotReusable("\n".join(found))
    project = next((s.tags["shipway:project"] for s in stacks if "shipway:project" in s.tags), "shipway")
    stacks = [with_typeable_parameters(s, project) for s in stacks]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written = []
    for stack in stacks:
        # Compact JSON: `aws cloudformation deploy --template-file` takes at most 51,200 bytes inline.
        target = out / f"{stack.name}.template.json"
        target.write_text(json.dumps(stack.template, separators=(",", ":")))
        written.append(target)
    catalog = out / "service-catalog.template.json"
    catalog.write_text(json.dumps(portfolio_template(stacks, project).to_dict(), indent=1) + "\n")
    (out / "README.md").write_text(readme(stacks, project, {s.name: (out / f"{s.name}.template.json").stat().st_size
                                                            for s in stacks}))
    return [*written, catalog, out / "README.md"]
