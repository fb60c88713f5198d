"""N-app specs grown from the shipped one: the input of the growth benchmark and of the 50-app budgets test.

The first apps are the shipped ones, unchanged and in order; the rest are copies of them cycling
(minne, blog, minne, ...) named ``<app>-<n>``, each with its own hosts, source repository and listener
priority, so every stack and every route is distinct and the spec validates like a real one. A copy runs on
Fargate what its original runs on a pool: the shipped pools are sized for the shipped apps, the capacity check
adds up every process on a pool, and adding apps must not change the platform's template.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from shipway.spec import listener_priority, validate_spec
from shipway.synth import ROOT

SHIPPED = ROOT / "shipway.yaml"


def shipped_data() -> dict:
    """The shipped ``shipway.yaml`` as plain data."""
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def spec_with_apps(base: dict, count: int) -> dict:
    """``base`` with exactly ``count`` apps: its own first, then numbered copies of them."""
    originals = list(base["apps"].items())
    if count < 1 or not originals:
        raise ValueError("a spec with apps needs count >= 1 and a base with at least one app")
    data = copy.deepcopy(base)
    apps = dict(originals[:count])
    taken = {
        listener_priority(name, proc_name, proc.get("priority"))
        for name, app in apps.items()
        for proc_name, proc in app["processes"].items()
        if proc.get("hosts")
    }
    n = 0
    while len(apps) < count:
        source_name, source = originals[n % len(originals)]
        n += 1
        name = f"{source_name}-{n}"
        apps[name] = _copy_app(source, source_name, name, taken)
    data["apps"] = apps
    return data


def _copy_app(source: dict, source_name: str, name: str, taken: set[int]) -> dict:
    app = copy.deepcopy(source)
    repo = app["source"]
    if "codecommit" in repo:
        repo["codecommit"] = name
    if "repository" in repo:
        repo["repository"] = f"{repo['repository'].split('/')[0]}/{name}"
    for proc_name, proc in app["processes"].items():
        if proc.get("capacity", "").startswith("pool:"):
            proc["capacity"] = "fargate"
            proc.pop("placement", None)
        if not proc.get("hosts"):
            continue
        rename = lambda hosts: [  # noqa: E731
            host.replace(source_name, name, 1) if source_name in host else f"{name}.{host}" for host in hosts
        ]
        hosts = proc["hosts"]
        proc["hosts"] = {env: rename(h) for env, h in hosts.items()} if isinstance(hosts, dict) else rename(hosts)
        priority = listener_priority(name, proc_name, proc.get("priority"))
        # Derived priorities are a hash: on a collision, pin the next free one as a user would.
        if priority in taken:
            priority = next(p for p in range(1000, 50001) if p not in taken)
            proc["priority"] = priority
        taken.add(priority)
    return app


def write_spec(data: dict, path: Path) -> Path:
    """Validate ``data`` as shipway would, then write it as YAML to ``path``."""
    validate_spec(data, str(path))
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
