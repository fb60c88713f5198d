"""Writing the imported ``shipway.yaml``: readable YAML with a comment where a value needs a second look.

ruamel.yaml's round-trip types carry comments and key order, so the file reads like the shipped example: the
sections in the model's order, block style, and an end-of-line comment on each value that was rounded, is a
placeholder or came from somewhere worth knowing. The text is validated with shipway's own loader before anyone
deploys it.
"""

from __future__ import annotations

import io
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..spec import SpecError, parse_spec
from ..spec.load import unwrap_annotation
from ..spec.model import Spec

Path_ = tuple[str | int, ...]


def render(spec: dict, comments: dict[Path_, str], header: list[str]) -> str:
    """The spec as YAML text, ``comments`` at the end of the lines they name, ``header`` on top."""
    document = _commented(in_model_order(spec, Spec), (), comments)
    if header:
        document.yaml_set_start_comment("\n".join(header))
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 120
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _commented(value: Any, path: Path_, comments: dict[Path_, str]) -> Any:
    if isinstance(value, dict):
        node = CommentedMap()
        for key, inner in value.items():
            node[key] = _commented(inner, (*path, key), comments)
            if (*path, key) in comments:
                node.yaml_add_eol_comment(comments[(*path, key)], key, column=0)
        return node
    if isinstance(value, list):
        seq = CommentedSeq()
        for i, inner in enumerate(value):
            seq.append(_commented(inner, (*path, i), comments))
            if (*path, i) in comments:
                seq.yaml_add_eol_comment(comments[(*path, i)], i, column=0)
        return seq
    return value


def write_spec(text: str, path: Path) -> list[str]:
    """Write ``text`` to ``path`` and return the spec's problems (empty when it validates)."""
    path.write_text(text, encoding="utf-8")
    try:
        parse_spec(text, str(path))
    except SpecError as exc:
        return exc.problems
    return []


def in_model_order(data: Any, model: Any) -> Any:
    """``data`` with each mapping's keys in the order the spec model declares them, as docs/spec.md lists them."""
    model = unwrap_annotation(model)
    if isinstance(data, dict) and isinstance(model, type) and issubclass(model, BaseModel):
        fields = model.model_fields
        keys = sorted(data, key=lambda k: list(fields).index(k) if k in fields else len(fields))
        return {k: in_model_order(data[k], fields[k].annotation) if k in fields else data[k] for k in keys}
    if isinstance(data, dict) and typing.get_origin(model) is dict:
        inner = typing.get_args(model)[1]
        return {k: in_model_order(value, inner) for k, value in data.items()}
    return data
