"""Jinja2 rendering of the files under ``shipway/cloud-init/`` (user data, registry config, ...), of the shell
templates (``*.sh.j2``) whose commands the pipeline's buildspecs carry, and of the load-test image's Dockerfile.

StrictUndefined turns a missing variable into an error instead of an empty string, and nothing here
depends on time or ordering of dicts the caller did not sort: rendering is deterministic.
"""

from __future__ import annotations

import json
import shlex
from functools import lru_cache

import jinja2


def render(template: str, **context) -> str:
    """Render ``shipway/cloud-init/<template>`` with ``context``."""
    return package_environment().get_template(f"cloud-init/{template}").render(**context)


@lru_cache(maxsize=1)
def package_environment() -> jinja2.Environment:
    """Every template, named by its path in the package: user data (``cloud-init/user-data.yaml.j2``), the
    buildspecs' shell (``scripts/build.sh.j2``), the load-test image's Dockerfile (``loadtest/Dockerfile.j2``).

    ``tojson_compact`` writes sorted, compact JSON; ``q`` quotes a value as one shell word (``shlex.quote``);
    ``inline`` puts a macro's commands on one line, each ended by ``;``, for a ``{ ...; }`` group inside one
    command.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("shipway", "."),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["tojson_compact"] = lambda value: json.dumps(value, sort_keys=True, separators=(",", ":"))
    env.filters["q"] = shlex.quote
    env.filters["inline"] = lambda text: " ".join(f"{command};" for command in commands(text))
    return env


# --- shell: the buildspecs' scripts ------------------------------------------------------------------------


def commands(script: str) -> list[str]:
    """A rendered script as buildspec commands: one command a line, without its indentation; a line ending in a
    backslash goes on with the next line (the backslash and the next line's indentation dropped, as bash joins
    words); blank lines are no command. A template breaks a line only between words, never inside quotes."""
    found: list[str] = []
    pending = ""
    for text in script.splitlines():
        line = text.strip()
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        if pending + line:
            found.append(pending + line)
        pending = ""
    if pending:
        raise ValueError(f"the script ends in a continued line: {pending!r}")
    return found


def shell_commands(template: str, **values) -> list[str]:
    """``shipway/<template>`` rendered with ``values``, as buildspec commands."""
    return commands(package_environment().get_template(template).render(**values))


def shell_phases(template: str, **values) -> dict[str, list[str]]:
    """Each block of ``shipway/<template>`` rendered with ``values``, as buildspec commands, by block name.

    A buildspec's template holds one block per part of a phase (``build``, ``build_finally``, ...), in the order
    CodeBuild runs them: the whole template renders as the one script CodeBuild's shell runs.
    """
    compiled = package_environment().get_template(template)
    return {name: commands("".join(block(compiled.new_context(values)))) for name, block in compiled.blocks.items()}
