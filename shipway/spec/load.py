"""Reading ``shipway.yaml``: YAML with line numbers, the model, the cross-checks, and clear messages.

Every failure is a :class:`SpecError` holding one line per problem, each naming the file, the line, the
field's path, what is wrong and what is allowed. Callers print them; nobody sees a traceback.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .model import Spec
from .references import Problem, check_references

Loc = tuple[str | int, ...]


class SpecError(Exception):
    """The spec cannot be used; ``problems`` holds one readable line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


if TYPE_CHECKING:
    SafeLoader = yaml.SafeLoader
else:  # libyaml's parser where PyYAML has it: ~10x faster (the type checker sees the pure-Python twin)
    SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(SafeLoader):
    """SafeLoader that refuses duplicate keys: with plain YAML the second silently wins."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _lines(node: yaml.Node | None, path: Loc = (), out: dict[Loc, int] | None = None) -> dict[Loc, int]:
    """Map each path in the document to its 1-based line."""
    out = {} if out is None else out
    if node is None:
        return out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            _lines(value_node, child, out)
            out[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out)
    return out


def dotted(path: Loc) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([f"{path}: no such file; pass another with -c spec=PATH"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([f"{path}: cannot be read: {exc}"]) from None
    return parse_spec(text, str(path))


def parse_spec(text: str, filename: str = "shipway.yaml") -> Spec:
    try:
        # One parse serves both the data and the line numbers (lines first: construction flattens merge keys).
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            lines = _lines(node)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{filename}:{mark.line + 1}" if mark else filename
        raise SpecError([f"{where}: YAML syntax: {exc.problem or exc}"]) from None
    except yaml.YAMLError as exc:
        raise SpecError([f"{filename}: YAML syntax: {exc}"]) from None
    return validate_spec(data, filename, lines)


def validate_spec(data: Any, filename: str = "shipway.yaml", lines: dict[Loc, int] | None = None) -> Spec:
    lines = lines or {}
    if not isinstance(data, dict):
        raise SpecError([_format(filename, lines, (), "the spec must be a mapping with name, environments and apps")])
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecError([_format(filename, lines, *_pydantic_problem(err)) for err in exc.errors()]) from None
    problems: list[Problem] = check_references(spec)
    if problems:
        raise SpecError([_format(filename, lines, p.path, p.message) for p in problems])
    return spec


def _format(filename: str, lines: dict[Loc, int], path: Loc, message: str) -> str:
    line = None
    for depth in range(len(path), -1, -1):
        line = lines.get(tuple(path[:depth]))
        if line is not None:
            break
    where = f"{filename}:{line}" if line else filename
    return f"{where}: {dotted(path)}: {message}"


def _pydantic_problem(err: ErrorDetails) -> tuple[Loc, str]:
    # Bracketed parts are pydantic's markers ("[key]") and the model's union tags ("[list]", "[map]").
    loc: Loc = tuple(part for part in err["loc"] if not (isinstance(part, str) and part.startswith("[")))
    kind = err["type"]
    got = err.get("input")
    if kind == "missing":
        return loc, "is required"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = f"; allowed here: {', '.join(allowed)}" if allowed else ""
        return loc, f"unknown key {loc[-1]!r}{hint}"
    message = err["msg"].removeprefix("Value error, ")
    if "[key]" in err["loc"]:
        return loc, f"the key {got!r} {message}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"must be a mapping, not {type(got).__name__} {got!r}"
    return loc, f"{message} (got {got!r})"


def _allowed_keys(loc: Loc) -> list[str]:
    """The field names of the model found at ``loc``, walking the annotations from Spec."""
    annotation: Any = Spec
    for part in loc:
        annotation = unwrap_annotation(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif typing.get_origin(annotation) in (dict, list):
            annotation = typing.get_args(annotation)[-1]
        else:
            return []
    annotation = unwrap_annotation(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def unwrap_annotation(annotation: Any) -> Any:
    """The type a spec field holds: ``Annotated`` stripped, and of a union its model (a section), else its first
    member that is not None."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in members if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = (models or members)[0]
        else:
            return annotation
