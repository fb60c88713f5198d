"""No function in shipway is over 60 lines, from its ``def`` to its last line: a longer one is split into named
steps (the copilot plan's markdown is a function per section, ps:scale parses, resizes and sets counts apart)."""

from __future__ import annotations

import ast
from pathlib import Path

import shipway

PACKAGE = Path(shipway.__file__).parent
MAX_LINES = 60


def long_functions(source: str, path: str) -> list[str]:
    """``path:line name (N lines)`` for each function or method of ``source`` over MAX_LINES, nested ones too."""
    return [f"{path}:{node.lineno} {node.name} ({length} lines)"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and (length := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_LINES]


def test_no_function_in_shipway_is_over_60_lines():
    found = [line for path in sorted(PACKAGE.rglob("*.py"))
             for line in long_functions(path.read_text(), str(path.relative_to(PACKAGE.parent)))]
    assert found == [], "split these into named steps:\n" + "\n".join(found)


def test_a_function_of_61_lines_is_named_and_one_of_60_is_not():
    def function(header: str, indent: str, lines: int) -> str:  # ``lines`` from the def to the return
        return header + "".join(f"{indent}x{i} = {i}\n" for i in range(lines - 2)) + f"{indent}return 0\n"

    source = (function("def fits():\n", "    ", 60) + "\n\nclass C:\n"
              + function("    async def over(self):\n", "        ", 61))
    assert long_functions(source, "m.py") == ["m.py:64 over (61 lines)"]
