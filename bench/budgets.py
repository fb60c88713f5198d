"""What each synthesized template spends of CloudFormation's per-stack quotas.

One copy of the limits and of the counting, shared by ``make bench`` (RESULTS.md) and tests/test_budgets.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from shipway.assembly import read_assembly

# CloudFormation quotas per stack (AWS CloudFormation User Guide, "Understand CloudFormation quotas").
LIMITS = {
    "resources": 500,
    "bytes": 1_048_576,  # template body uploaded to S3 (what `cdk deploy` does past the direct limit)
    "outputs": 200,
    "parameters": 200,
    "dynamic_references": 60,
}
# A body passed inline (`aws cloudformation deploy` without --s3-bucket) stops here.
DIRECT_BODY_BYTES = 51_200

_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:")


@dataclass(frozen=True)
class Budget:
    stack: str
    resources: int
    bytes: int
    outputs: int
    parameters: int
    dynamic_references: int

    def over(self) -> dict[str, tuple[int, int]]:
        """Each quota this template exceeds: name -> (used, limit)."""
        return {key: (getattr(self, key), limit) for key, limit in LIMITS.items() if getattr(self, key) > limit}


def budget(stack: str, path: Path) -> Budget:
    text = path.read_text(encoding="utf-8")
    template = json.loads(text)
    return Budget(
        stack=stack,
        resources=len(template.get("Resources", {})),
        bytes=len(text.encode()),
        outputs=len(template.get("Outputs", {})),
        parameters=len(template.get("Parameters", {})),
        dynamic_references=len(_DYNAMIC_REFERENCE.findall(text)),
    )


def stack_templates(outdir: Path) -> dict[str, Path]:
    """Stack name -> template file of a cloud assembly, in the manifest's order."""
    return {name: stack.template_file for name, stack in read_assembly(outdir).items()}


def budgets(outdir: Path) -> list[Budget]:
    return [budget(name, path) for name, path in stack_templates(outdir).items()]
