"""Reading another platform's files: YAML with CloudFormation's short tags, JSON, and sections whose fields are
taken one by one so that whatever is left over is reported, never dropped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, cast

import yaml

from ..spec.load import SafeLoader
from .report import Report


class _Loader(SafeLoader):
    """SafeLoader that reads CloudFormation's short tags (``!Ref X`` becomes ``{"Ref": "X"}``) in addon templates."""


def _tagged(loader: _Loader, suffix: str, node: yaml.Node) -> dict:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:  # YAML has three kinds of node: the last is a mapping
        value = loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _tagged)
# Copilot reads YAML 1.2, where only true and false are booleans: `on:` (a Scheduled Job's trigger) is a key, and
# `yes`, `no`, `off` are strings. PyYAML follows YAML 1.1 unless told otherwise.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def parse_yaml(text: str) -> Any:
    """A YAML document as Copilot reads it (YAML 1.2 booleans), CloudFormation's short tags included."""
    return yaml.load(text, Loader=_Loader)  # safe: _Loader is a SafeLoader subclass


def read_yaml(path: Path, shown: str, report: Report) -> Any:
    """The document in ``path``, or None after adding one line to ``report`` saying why it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        report.problem(shown, None, "no such file")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        report.problem(shown, None, f"cannot be read: {exc}")
        return None
    try:
        return parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}:{mark.line + 1}" if mark else shown
        report.problems.append(f"{where}: YAML syntax: {exc.problem or exc}")
    except yaml.YAMLError as exc:
        report.problem(shown, None, f"YAML syntax: {exc}")
    return None


def read_json(path: Path, shown: str, report: Report) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        report.problem(shown, None, "no such file")
    except (OSError, UnicodeDecodeError) as exc:
        report.problem(shown, None, f"cannot be read: {exc}")
    except json.JSONDecodeError as exc:
        report.problems.append(f"{shown}:{exc.lineno}: JSON syntax: {exc.msg}")
    return None


class Section:
    """A mapping whose fields are taken as they are mapped; :meth:`rest` lists what nobody took."""

    def __init__(self, data: dict, path: str = ""):
        self.data = dict(data)
        self.path = path

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def take(self, key: str, default: Any = None) -> Any:
        return self.data.pop(key, default)

    def has(self, key: str) -> bool:
        return key in self.data

    def peek(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def sub(self, key: str) -> Section:
        """The mapping at ``key`` as a section of its own (empty when absent or not a mapping, which stays put)."""
        value = self.data.get(key)
        if isinstance(value, dict):
            del self.data[key]
            return Section(value, self.field(key))
        return Section({}, self.field(key))

    def rest(self) -> list[tuple[str, Any]]:
        """(field, value) of everything not taken, in the file's order."""
        return [(self.field(k), v) for k, v in self.data.items()]
