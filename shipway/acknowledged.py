"""CDK CLI output shipway has read and answered, each with its reason: `make synth` and `make diff` (and
``shipway diff``) print the rest.

``cdk synth`` prints every annotation of the app. Warnings and nag findings are acknowledged in code, next to
the construct (``cdk.Validations``, shipway/nag.py). One INFO cannot be: aws-ecs's
``BaseService.enable_deployment_alarms`` adds it with ``Annotations.addInfo``, which gives it no id, and
``Annotations.acknowledge_info`` and ``Validations.acknowledge`` only remove messages that carry one (checked
on aws-cdk-lib 2.275: both leave it in the assembly; tests/test_quiet_synth.py holds that, so the day CDK
can acknowledge it, the test says so and this filter goes). So the answer is written here, and
``python -m shipway.acknowledged synth`` (or ``diff``) drops exactly the blocks answered for that CLI command
from its output, line by line as the CLI writes it, keeping everything else.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

# The CDK CLI commands whose output is filtered: `cdk synth` (make synth, make review) and `cdk diff`.
SYNTH, DIFF = "synth", "diff"


@dataclass(frozen=True)
class Acknowledged:
    pattern: re.Pattern[str]
    reason: str
    commands: frozenset[str]  # whose output the reason answers: where shipway says it instead, or it is moot


ACKNOWLEDGED = (
    Acknowledged(
        re.compile(r"^INFO Deployment alarm \(.*\) enabled on Service may cause a circular dependency error "),
        "Each process service rolls a deploy back on its alarms (stacks/app_runtime.py, enable_deployment_alarms), "
        "named by Ref. A cycle would need an alarm that refers back to the service; shipway's deployment alarms "
        "watch the target group and the load balancer (AWS/ApplicationELB), never the service "
        "(tests/test_quiet_synth.py checks every template), and cfn-lint fails any template with a cycle.",
        frozenset({SYNTH, DIFF}),  # cdk diff prints the assembly's annotations before the diff
    ),
    Acknowledged(
        re.compile(r"^(Successfully synthesized to |Supply a stack id \()"),
        "make synth prints one line per stack and its size right after (shipway.summary).",
        frozenset({SYNTH}),  # no summary follows cdk diff: were it to print these lines, they would be the answer
    ),
)


def unacknowledged(lines: Iterable[str], command: str) -> Iterator[str]:
    """The CLI's output without the blocks answered for ``command``, a line as soon as it is read. A block is a
    line with the lines indented under it (an annotation's construct path and its hint) and the blank line that
    ends it: a block is dropped, or kept, whole, as its first line says."""
    patterns = [a.pattern for a in ACKNOWLEDGED if command in a.commands]
    dropping = False
    for line in lines:
        if not line.startswith(" ") and line.strip():  # the first line of a block
            dropping = any(pattern.match(line) for pattern in patterns)
        if not dropping:
            yield line


def filter_stream(source: Iterable[str], sink: TextIO, command: str) -> None:
    """Writes what ``unacknowledged`` keeps of ``source`` to ``sink``, flushed line by line: a CLI that waits on
    AWS between lines is seen as it goes, not when it exits."""
    for line in unacknowledged(source, command):
        sink.write(line)
        sink.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shipway.acknowledged",
                                     description="Drops the CDK CLI output shipway has answered (stdin to stdout).")
    parser.add_argument("command", choices=[SYNTH, DIFF], help="the CDK CLI command whose output is read")
    filter_stream(sys.stdin, sys.stdout, parser.parse_args(argv).command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
