"""Jinja2 rendering of the files under ``shipway/cloud-init/`` (user data, registry config, ...).

StrictUndefined turns a missing variable into an error instead of an empty string, and nothing here
depends on time or ordering of dicts the caller did not sort: rendering is deterministic.
"""

from __future__ import annotations

import json
from functools import lru_cache

import jinja2


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("shipway", "cloud-init"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["tojson_compact"] = lambda value: json.dumps(value, sort_keys=True, separators=(",", ":"))
    return env


def render(template: str, **context) -> str:
    """Render ``shipway/cloud-init/<template>`` with ``context``."""
    return environment().get_template(template).render(**context)
