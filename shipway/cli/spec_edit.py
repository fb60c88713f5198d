"""Round-trip edits of ``shipway.yaml``: the state-changing verbs change one value and nothing else.

ruamel.yaml keeps comments, key order, quoting, flow or block style and anchors. Its indentation settings
are per document, so :class:`SpecDocument` picks the settings that reproduce the file byte for byte before
it edits anything. Every edit is validated as the CDK app would validate it (``parse_spec`` of the new
text) before the file is written: an edit that breaks the spec changes nothing.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import ScalarString

from ..spec import Spec, SpecError, parse_spec
from ..spec.load import dotted
from .errors import SPEC, CliError

# (mapping, sequence, offset) layouts tried in turn; the first that reproduces the file is kept.
_LAYOUTS = [(2, 2, 0), (2, 4, 2), (4, 4, 0), (4, 6, 2), (4, 4, 2), (3, 3, 0), (3, 5, 2)]


def _yaml(mapping: int, sequence: int, offset: int) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line (an ARN, a command)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


class SpecDocument:
    """``shipway.yaml`` loaded for editing; :meth:`save` validates and writes it.

    ``spec`` is the validated model of the file as it is on disk (an invalid spec is refused up front, with
    the same one-line-per-problem messages synth gives).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CliError(f"{self.path}: no such file; pass another with --spec PATH", SPEC) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"{self.path}: cannot be read: {exc}", SPEC) from None
        self.spec: Spec = parse_spec(self.text, str(self.path))
        self.yaml, self.data = self._load()

    def _load(self) -> tuple[YAML, CommentedMap]:
        best: tuple[int, YAML, Any, str] | None = None
        for layout in _LAYOUTS:
            yaml = _yaml(*layout)
            try:
                data = yaml.load(self.text)
            except YAMLError as exc:  # parse_spec accepted it; ruamel is stricter in places
                raise CliError(f"{self.path}: ruamel.yaml cannot edit this file: {exc}", SPEC) from None
            _keep_anchors(data)
            baseline = _dump(yaml, data)
            differing = _differing_lines(self.text, baseline)
            if differing == 0:
                self.baseline = baseline
                return yaml, data
            if best is None or differing < best[0]:
                best = (differing, yaml, data, baseline)
        assert best is not None
        self.baseline = best[3]
        return best[1], best[2]

    # --- reading ------------------------------------------------------------------------------------

    def get(self, *path: str | int) -> Any:
        node: Any = self.data
        for part in path:
            node = node[part]
        return node

    # --- editing ------------------------------------------------------------------------------------

    def mapping(self, *path: str, create: bool = False, before: tuple[str, ...] = ()) -> CommentedMap:
        """The mapping at ``path``; with ``create``, a missing last key is added (block style) before the
        first of ``before`` present in its parent, else at the end."""
        parent: Any = self.data
        for depth, part in enumerate(path):
            child = parent.get(part) if isinstance(parent, dict) else None
            if child is None:
                if not create or depth != len(path) - 1:
                    raise CliError(f"{self.path}: {dotted(path[: depth + 1])} is not in the spec", SPEC)
                child = CommentedMap()
                position = next((list(parent).index(k) for k in before if k in parent), len(parent))
                parent.insert(position, part, child)
            if not isinstance(child, dict):
                raise CliError(f"{self.path}: {dotted(path[: depth + 1])} is not a mapping", SPEC)
            parent = child
        self._refuse_shared(parent, path)
        return parent

    def set(self, path: tuple[str, ...], key: str, value: Any, *, before: tuple[str, ...] = ()) -> None:
        """Set ``key`` in the mapping at ``path`` (created if missing), keeping the old value's quoting."""
        mapping = self.mapping(*path, create=True, before=before)
        old = mapping.get(key)
        if isinstance(old, ScalarString) and isinstance(value, str):
            value = type(old)(value)
        mapping[key] = value

    def delete(self, path: tuple[str, ...], key: str) -> bool:
        """Remove ``key`` from the mapping at ``path``; False when it was not there."""
        try:
            parent = self.get(*path)
        except (KeyError, IndexError, TypeError):
            return False
        if not isinstance(parent, dict) or key not in parent:
            return False
        del self.mapping(*path)[key]  # refuses a mapping shared through an anchor
        return True

    def _refuse_shared(self, mapping: CommentedMap, path: tuple[str, ...]) -> None:
        """An anchored mapping that an alias or merge key reuses would change in every place that uses it."""
        anchor = mapping.anchor.value if mapping.anchor is not None else None
        if anchor is None:
            return
        uses = sum(1 for node in _walk(self.data) if node is mapping)
        if uses > 1:
            raise CliError(
                f"{self.path}: {dotted(path)} is the anchor &{anchor}, used {uses - 1} more time(s) elsewhere; "
                "an edit here would change them too: edit the file by hand",
                SPEC,
            )

    # --- writing ------------------------------------------------------------------------------------

    def render(self) -> str:
        """The edited document: the file's own lines wherever the edit did not reach (see :func:`_merge`)."""
        return _merge(self.text, self.baseline, _dump(self.yaml, self.data))

    def validate(self) -> tuple[str, Spec]:
        """The edited text and its model, validated like synth validates; an invalid edit is refused."""
        text = self.render()
        try:
            return text, parse_spec(text, str(self.path))
        except SpecError as exc:
            raise CliError(
                "the change would make the spec invalid, so nothing was written: " + "; ".join(exc.problems), SPEC
            ) from None

    def save(self) -> Spec:
        """Validate the edited document like synth does, then write it; returns the new model."""
        text, spec = self.validate()
        if text != self.text:
            self.path.write_text(text, encoding="utf-8")
            self.text = text
        self.spec = spec
        return spec


def _dump(yaml: YAML, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _merge(original: str, baseline: str, edited: str) -> str:
    """Carry the edit (``baseline`` -> ``edited``, both ruamel's rendering) over to the ``original`` text.

    ruamel.yaml reproduces most files exactly, but not all: it moves a comment that follows an alias or an
    anchored key to a line of its own. Lines the edit does not touch are therefore taken from the file itself;
    where an edit lands in a stretch ruamel renders differently, ruamel's rendering of that stretch is used,
    with a displaced end-of-line comment put back on its line.
    """
    o, b, e = original.splitlines(True), baseline.splitlines(True), edited.splitlines(True)
    # E[p]: where baseline line p starts in the edited lines; inserted lines join the line before them.
    E = [0] * (len(b) + 1)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, b, e, autojunk=False).get_opcodes():
        for k in range(i1, i2):
            E[k] = j1 + (k - i1) if tag == "equal" else (j1 if k == i1 else j2)
        if tag == "insert" and i1 > 0:
            E[i1] = j2
    E[0], E[len(b)] = 0, len(e)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, b, o, autojunk=False).get_opcodes():
        segment = e[E[i1]:E[i2]]
        if segment == b[i1:i2]:
            out += o[j1:j2]  # untouched: the file's own lines
        elif tag == "equal":
            out += segment
        else:
            out += _reattach_comments(segment, o[j1:j2])
    return "".join(out)


def _reattach_comments(segment: list[str], original: list[str]) -> list[str]:
    """Put an end-of-line comment that ruamel moved to a line of its own back after the value before it."""
    comments = {line.split(" #", 1)[1].strip() for line in original if " #" in line}
    out: list[str] = []
    for line in segment:
        stripped = line.strip()
        if out and stripped.startswith("#") and stripped[1:].strip() in comments and "#" not in out[-1]:
            value = out[-1].rstrip("\n")
            column = len(line) - len(line.lstrip())
            out[-1] = f"{value.ljust(column - 1)} {stripped}\n"
            continue
        out.append(line)
    return out


def _differing_lines(a: str, b: str) -> int:
    a_lines, b_lines = a.splitlines(), b.splitlines()
    return sum(x != y for x, y in zip(a_lines, b_lines, strict=False)) + abs(len(a_lines) - len(b_lines))


def _keep_anchors(node: Any) -> None:
    """Keep every anchor in the output even when an edit removes its last alias (ruamel drops unused ones)."""
    anchor = getattr(node, "anchor", None)
    if anchor is not None and anchor.value is not None:
        anchor.always_dump = True
    if isinstance(node, dict):
        for value in node.values():
            _keep_anchors(value)
    elif isinstance(node, list):
        for value in node:
            _keep_anchors(value)


def _walk(node: Any) -> Iterator[Any]:
    """Every mapping and sequence reachable from ``node``, once per place it is used (aliases and merges too)."""
    yield node
    if isinstance(node, CommentedMap):
        for _, merged in getattr(node, "merge", []):
            yield from _walk(merged)
        for key in node._ok if hasattr(node, "_ok") else node:  # own keys: merged ones are walked above
            yield from _walk(dict.__getitem__(node, key))
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)
