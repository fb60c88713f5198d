"""CDK CLI output shipway has read and answered, each with its reason: `make synth` prints the rest.

``cdk synth`` prints every annotation of the app. Warnings and nag findings are acknowledged in code, next to
the construct (``cdk.Validations``, shipway/nag.py). One INFO cannot be: aws-ecs's
``BaseService.enable_deployment_alarms`` adds it with ``Annotations.addInfo``, which gives it no id, and
``Annotations.acknowledge_info`` and ``Validations.acknowledge`` only remove messages that carry one (checked
on aws-cdk-lib 2.275: both leave it in the assembly; tests/test_quiet_synth.py holds that, so the day CDK
can acknowledge it, the test says so and this filter goes). So the answer is written here, and
``python -m shipway.acknowledged`` drops exactly these blocks from the CLI's output, keeping everything else.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Acknowledged:
    pattern: re.Pattern[str]
    reason: str


ACKNOWLEDGED = (
    Acknowledged(
        re.compile(r"^INFO Deployment alarm \(.*\) enabled on Service may cause a circular dependency error "),
        "Each process service rolls a deploy back on its alarms (stacks/app_runtime.py, enable_deployment_alarms), "
        "named by Ref. A cycle would need an alarm that refers back to the service; shipway's deployment alarms "
        "watch the target group and the load balancer (AWS/ApplicationELB), never the service "
        "(tests/test_quiet_synth.py checks every template), and cfn-lint fails any template with a cycle.",
    ),
    Acknowledged(
        re.compile(r"^(Successfully synthesized to |Supply a stack id \()"),
        "make synth prints one line per stack and its size right after (shipway.summary).",
    ),
)


def blocks(lines: Iterable[str]) -> Iterator[list[str]]:
    """The CLI's output in blocks: a line with the lines indented under it (an annotation's construct path and
    its hint) and the blank line that ends it."""
    block: list[str] = []
    for line in lines:
        if block and not line.startswith(" ") and line.strip():
            yield block
            block = []
        block.append(line)
    if block:
        yield block


def unacknowledged(lines: Iterable[str]) -> Iterator[str]:
    for block in blocks(lines):
        if not any(a.pattern.match(block[0]) for a in ACKNOWLEDGED):
            yield from block


def main() -> int:
    sys.stdout.writelines(unacknowledged(sys.stdin))
    return 0


if __name__ == "__main__":
    sys.exit(main())
