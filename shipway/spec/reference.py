"""`python -m shipway.spec.reference > docs/spec.md`: the spec's reference, generated from the model.

The model holds every default and description, so the reference is written from it and a test keeps
docs/spec.md in step.
"""

from __future__ import annotations

import sys
import types
import typing

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from . import model

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("top level", model.Spec),
    ("environments.<env>", model.Environment),
    ("environments.<env>.network", model.Network),
    ("environments.<env>.router", model.Router),
    ("environments.<env>.cluster", model.Cluster),
    ("environments.<env>.cluster.pools.<pool>", model.PoolKind),
    ("environments.<env>.database", model.Database),
    ("apps.<app>", model.App),
    ("apps.<app>.source", model.Source),
    ("apps.<app>.build", model.Build),
    ("apps.<app>.processes.<process>", model.Process),
    ("apps.<app>.processes.<process>.autoscale", model.Autoscale),
    ("apps.<app>.processes.<process>.autoscale.schedules[]", model.ScheduledScaling),
    ("apps.<app>.cron.<job>", model.CronJob),
    ("apps.<app>.deploy", model.Deploy),
    ("apps.<app>.loadtest", model.LoadTest),
    ("apps.<app>.database", model.AppDatabase),
]


def _type(annotation) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type(args[0])
    if origin is typing.Literal:
        return " \\| ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(dict.fromkeys(_type(a) for a in args))  # a union of models (pool kinds): one "mapping"
    if origin is dict:
        return f"map of {_type(args[1])}"
    if origin is list:
        return f"list of {_type(args[0])}"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping" if annotation is not model.Size else "size"
    return getattr(annotation, "__name__", str(annotation))


def _default(field) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
        return "{}" if isinstance(value, dict) else "[]" if isinstance(value, list) else "(defaults below)"
    if field.default is PydanticUndefined:
        return "**required**"
    return "—" if field.default is None else f"`{field.default}`"


def render() -> str:
    lines = [
        "# shipway.yaml reference",
        "",
        "Generated from `shipway/spec/model.py` by `python -m shipway.spec.reference`; do not edit by hand.",
        "Unknown keys are errors. `size` is `1x`, `2x`, `4x`, `8x`, `16x` or `{cpu, memory}` (a Fargate pair).",
        "",
    ]
    for title, cls in SECTIONS:
        lines += [f"## `{title}`", "", "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        for name, field in cls.model_fields.items():
            description = (field.description or "").replace("|", "\\|")
            lines.append(f"| `{name}` | {_type(field.annotation)} | {_default(field)} | {description} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render())
