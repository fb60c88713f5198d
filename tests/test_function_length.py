"""No function in shipway has a body over 60 lines: a longer one is split into named steps (the copilot plan's
markdown is a function per section, ps:scale parses, resizes and sets counts apart).

The body is the code, from its first statement after the docstring to its last line: a construct's signature,
one documented keyword prop per line as aws-cdk-lib writes them, and its docstring are not what makes a
function hard to change."""

from __future__ import annotations

import ast
from pathlib import Path

import shipway

PACKAGE = Path(shipway.__file__).parent
MAX_LINES = 60


def body_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement after the docstring to the function's last line."""
    body = function.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return (function.end_lineno or function.lineno) - body[0].lineno + 1


def long_functions(source: str, path: str) -> list[str]:
    """``path:line name (N lines)`` for each function or method of ``source`` whose body is over MAX_LINES,
    nested ones too."""
    return [f"{path}:{node.lineno} {node.name} ({length} lines)"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (length := body_lines(node)) > MAX_LINES]


def test_no_function_in_shipway_is_over_60_lines():
    found = [line for path in sorted(PACKAGE.rglob("*.py"))
             for line in long_functions(path.read_text(), str(path.relative_to(PACKAGE.parent)))]
    assert found == [], "split these into named steps:\n" + "\n".join(found)


def test_a_body_of_61_lines_is_named_and_one_of_60_is_not_whatever_its_signature_and_docstring():
    def function(header: str, indent: str, lines: int) -> str:  # ``lines`` of body, the return included
        return header + "".join(f"{indent}x{i} = {i}\n" for i in range(lines - 1)) + f"{indent}return 0\n"

    long_signature = "def fits(\n" + "".join(f"    a{i}: int = {i},\n" for i in range(30)) + "):\n"
    docstring = '    """One\n\n    two.\n    """\n'
    source = (function(long_signature + docstring, "    ", 60) + "\n\nclass C:\n"
              + function("    async def over(self):\n", "        ", 61))
    assert long_functions(source, "m.py") == ["m.py:100 over (61 lines)"]
