"""What an import could not carry over, one line per source field, and the problems that stop it.

An import maps what shipway can express and lists everything else as a :class:`Finding`: the file and field it
came from, its value, why it did not carry over and what to do instead. Mapped values that changed on the way
(a size rounded, a placeholder ARN to fill in) are :class:`Finding` s too, kept apart as notes, so nothing is
dropped or altered silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# What an ARN the import builds holds when --region or --account was not given; the report says so.
PLACEHOLDER_REGION, PLACEHOLDER_ACCOUNT = "us-east-1", "000000000000"


class ImportFailure(Exception):
    """The input cannot be imported; ``problems`` holds one line per problem, each naming the file and field."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Finding:
    file: str
    field: str
    value: str
    why: str
    todo: str

    def line(self) -> str:
        return f"{self.file}: {self.field} = {self.value}: {self.why}; {self.todo}"


def shown(value: Any, width: int = 80) -> str:
    """A value as one short line: JSON for structures, the text itself for strings."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class Report:
    """``unmapped``: fields shipway cannot express; ``notes``: fields mapped with a change worth checking."""

    source: str
    unmapped: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def unsupported(self, file: str, path: str, value: Any, why: str, todo: str) -> None:
        self.unmapped.append(Finding(file, path, shown(value), why, todo))

    def note(self, file: str, path: str, value: Any, what: str, todo: str) -> None:
        self.notes.append(Finding(file, path, shown(value), what, todo))

    def problem(self, file: str, path: str | None, message: str) -> None:
        self.problems.append(f"{file}: {path}: {message}" if path else f"{file}: {message}")

    def raise_problems(self) -> None:
        if self.problems:
            raise ImportFailure(self.problems)

    def fields(self) -> list[tuple[str, str]]:
        """(file, field) of every unmapped field, in report order: what the tests pin."""
        return [(f.file, f.field) for f in self.unmapped]

    def text(self) -> str:
        """The report printed after an import: one line per field."""
        lines = [f"{len(self.unmapped)} field(s) of {self.source} not carried over:"]
        lines += [f"  {f.line()}" for f in self.unmapped] or ["  (none)"]
        if self.notes:
            lines += [f"{len(self.notes)} value(s) carried over with a change to check:"]
            lines += [f"  {f.line()}" for f in self.notes]
        return "\n".join(lines)

    def markdown(self) -> str:
        """``--report FILE``: the same lines as tables."""
        out = [f"# Import report: {self.source}", ""]
        for title, findings, why in (("Not carried over", self.unmapped, "why"), ("Carried over with a change",
                                                                                   self.notes, "what changed")):
            out += [f"## {title} ({len(findings)})", ""]
            if not findings:
                out += ["None.", ""]
                continue
            out += [f"| file | field | value | {why} | what to do |", "| --- | --- | --- | --- | --- |"]
            out += [f"| {_cell(f.file)} | `{_cell(f.field)}` | `{_cell(f.value)}` | {_cell(f.why)} | {_cell(f.todo)} |"
                    for f in findings]
            out.append("")
        return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")
