"""Fuzzed specs: every one either synthesizes and passes cfn-lint, or fails with a SpecError naming paths.

Two sources: specs built from strategies over the model's vocabulary (they must be valid), and the shipped
example mutated (keys dropped, renamed, inserted; values altered). Nothing may end in any other exception.

Synthesis and cfn-lint take seconds per spec, so the synthesizing tests run few examples; validation alone
takes milliseconds, so the mutated specs are checked by the hundred.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shipway.spec import Spec, SpecError, parse_spec
from shipway.spec.vocabulary import SIZES
from shipway.synth import synthesize

from .conftest import SHIPPED
from .lint import cfn_lint

EXAMPLE = yaml.safe_load(SHIPPED.read_text())
FILENAME = "fuzzed.yaml"
SYNTH = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])

# --- specs built from the vocabulary -------------------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)
instance_types = st.sampled_from(["c6i.large", "c6a.large", "m6i.large", "m5.large", "t3.medium", "r6i.xlarge"])
metadata = st.dictionaries(st.sampled_from(["high", "tier", "dataPlane"]), st.sampled_from(["true", "false", "a.b"]),
                           max_size=2)
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
schedules = st.sampled_from(["cron(0 18 * * ? *)", "cron(0/15 * ? * MON-FRI *)", "rate(5 minutes)", "rate(1 hour)"])


@st.composite
def pools(draw) -> dict:
    """Pools that pass the capacity check: the weakest type (t3.medium, 2 awsvpc tasks) x 8 instances hold the
    16 tasks a deploy of a 1x or 2x process at its largest count (8) needs."""
    pool = {"instance_types": draw(st.lists(instance_types, min_size=1, max_size=3, unique=True)),
            "metadata": draw(metadata)}
    if draw(st.booleans()):
        low = draw(st.integers(0, 2))
        pool.update(provisioning="asg", min=low, max=draw(st.integers(8, 10)), spot=draw(st.booleans()))
    else:
        pool.update(provisioning="spot-fleet", capacity=draw(st.integers(8, 10)))
    return pool


@st.composite
def environments(draw) -> dict:
    max_azs = draw(st.integers(2, 3))
    cluster = {"fargate": draw(st.booleans()), "fargate_spot": draw(st.booleans()),
               "pools": draw(st.dictionaries(names, pools(), max_size=1))}
    if not (cluster["fargate"] or cluster["fargate_spot"] or cluster["pools"]):
        cluster["fargate"] = True  # somewhere for processes to run
    return {
        "network": {"max_azs": max_azs, "nat_gateways": draw(st.integers(1, max_azs))},
        "router": {"idle_timeout": draw(st.integers(1, 4000))},
        "cluster": cluster,
        "database": {"version": draw(st.sampled_from(["15", "16", "17"])),
                     "instance_type": draw(st.sampled_from(["db.t4g.micro", "db.m6g.large"])),
                     "storage_gb": draw(st.integers(20, 200)), "multi_az": draw(st.booleans())},
    }


def _capacities(environment: dict) -> list[tuple[str, dict]]:
    """Where a process may run in ``environment``, with the metadata its placement may ask for."""
    cluster = environment["cluster"]
    kinds = (("fargate", cluster["fargate"]), ("fargate-spot", cluster["fargate_spot"]))
    found: list[tuple[str, dict]] = [(kind, {}) for kind, on in kinds if on]
    return found + [(f"pool:{name}", pool["metadata"]) for name, pool in cluster["pools"].items()]


@st.composite
def processes(draw, app: str, name: str, environment: dict, web: bool) -> dict:
    capacity, pool_metadata = draw(st.sampled_from(_capacities(environment)))
    count = draw(st.integers(0, 3))
    sizes = sorted(SIZES) if not capacity.startswith("pool:") else ["1x", "2x"]  # see pools()
    process = {"command": f"run {name}", "size": draw(st.sampled_from(sizes)), "count": count,
               "capacity": capacity}
    if pool_metadata and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(pool_metadata)))
        process["placement"] = {key: pool_metadata[key]}
    if web:
        process.update(port=draw(st.integers(1024, 65535)), hosts=[f"{app}-{name}.example.com"],
                       health_check=draw(st.sampled_from(["/", "/healthz", "/up"])))
    if draw(st.booleans()):
        process["autoscale"] = {"min": min(count, 1), "max": max(count, 1) + draw(st.integers(0, 5)),
                                "cpu": draw(st.integers(10, 90))}
        if web and draw(st.booleans()):
            process["autoscale"]["requests_per_target"] = draw(st.integers(100, 2000))
    return process


@st.composite
def apps(draw, name: str, env_name: str, environment: dict) -> dict:
    source = draw(st.sampled_from([
        {"codecommit": name},
        {"connection_arn": "arn:aws:codeconnections:us-east-1:123456789012:connection/"
                           "00000000-0000-0000-0000-000000000000", "repository": f"acme/{name}"},
    ]))
    web = draw(st.booleans())
    app = {
        "source": source,
        "build": draw(st.sampled_from([{"dockerfile": "Dockerfile"}, {"buildpacks": "heroku/builder:24"}])),
        "processes": {"web" if web else "worker": draw(processes(name, "web" if web else "worker", environment, web))},
        "config": draw(st.dictionaries(st.sampled_from(["RAILS_ENV", "LOG_LEVEL"]), st.sampled_from(["1", "x y"]),
                                       max_size=2)),
        "log_retention_days": draw(st.sampled_from([1, 7, 30, 365])),
    }
    if draw(st.booleans()):
        app["release"] = "migrate"
    if draw(st.booleans()):
        capacity, _ = draw(st.sampled_from(_capacities(environment)))
        app["cron"] = {"nightly": {"schedule": draw(schedules), "command": "report", "capacity": capacity}}
    strategies = ["rolling", "canary", "linear", "blue-green"] if web else ["rolling"]
    strategy = draw(st.sampled_from(strategies))
    # A linear deploy bakes once per step (10 steps at the default 10 %), and the pipeline's ECS deploy action
    # waits at most 60 minutes in all (references.py keeps baking within 50): at most 5 minutes a step.
    app["deploy"] = {"strategy": strategy, "bake_minutes": draw(st.integers(0, 5 if strategy == "linear" else 10))}
    cluster = environment["cluster"]
    # the Locust master runs on FARGATE, the workers on a loadtest pool or FARGATE_SPOT (references.py)
    workers_fit = cluster["fargate_spot"] or any(
        p.get("metadata", {}).get("loadtest") == "true" for p in cluster["pools"].values())
    if web and cluster["fargate"] and workers_fit and draw(st.booleans()):
        app["loadtest"] = {"locustfile": "loadtest/locustfile.py", "environment": env_name,
                           "users": draw(st.integers(1, 500)), "p95_ms": draw(st.integers(50, 2000))}
    return app


@st.composite
def valid_specs(draw) -> dict:
    env_name = draw(names)
    environment = draw(environments())
    registry = draw(st.sampled_from(["ecr", "s3"]))
    if registry == "s3" or draw(st.booleans()):
        environment["router"]["certificate_arn"] = CERTIFICATE
    if registry == "s3":
        environment["router"]["registry_host"] = f"registry.{env_name}.example.com"
    # An app's name is its database's and role's: PostgreSQL's and RDS's own names are refused (test_spec_errors).
    app_name = draw(names.filter(lambda n: n != "public" and not n.startswith("rds")))
    return {
        "name": draw(names),
        "registry": registry,
        "environments": {env_name: environment},
        "apps": {app_name: draw(apps(app_name, env_name, environment))},
    }


# --- the example, mutated ------------------------------------------------------------------------

ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12), st.sampled_from(["", "x" * 300, "pool:nowhere", "cron(bad)", "0x", "99x", "fargate"]),
    st.just([]), st.just({}), st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(names, st.integers(), max_size=2),
)


def _paths(value, path=()) -> list[tuple]:
    """Every path to a node of the document (mappings and sequences included)."""
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += _paths(inner, (*path, i))
    return found


def _parent(doc, path):
    for part in path[:-1]:
        doc = doc[part]
    return doc


@st.composite
def mutated_examples(draw) -> dict:
    doc = copy.deepcopy(EXAMPLE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)[1:]))
        parent, key = _parent(doc, path), path[-1]
        action = draw(st.sampled_from(["drop", "alter", "insert", "rename"]))
        if action == "drop":
            del parent[key]
        elif action == "alter":
            parent[key] = draw(ODD_VALUES)
        elif action == "insert" and isinstance(parent, dict):
            new_key = draw(st.one_of(names, st.sampled_from(["min", "max", "port", "capacity", "hosts", "spot"])))
            parent[new_key] = draw(ODD_VALUES)
        elif action == "rename" and isinstance(parent, dict):
            parent[f"{key}x" if draw(st.booleans()) else str(key)[:-1] or "k"] = parent.pop(key)
    return doc


# --- the property --------------------------------------------------------------------------------

_LINE = re.compile(rf"^{re.escape(FILENAME)}(?::[0-9]+)?: (?P<path>\(top level\)|\S+): (?P<message>.+)$")


def _dotted_parts(path: str) -> list[str | int]:
    return [int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"\[[0-9]+\]|[^.\[]+", path)]


def _assert_names_paths(error: SpecError, doc) -> None:
    assert error.problems, "a SpecError without problems"
    for line in error.problems:
        match = _LINE.match(line)
        assert match, f"no path in: {line}"
        if match["path"] == "(top level)" or not isinstance(doc, dict):
            continue
        # everything above the named field exists in the document: the path points somewhere real
        node = doc
        for part in _dotted_parts(match["path"])[:-1]:
            assert isinstance(node, dict | list), f"{line}: the path goes through a scalar"
            node = node[part] if isinstance(node, list) or part in node else node[str(part)]


def _check(doc, tmp_path: Path | None) -> Spec | None:
    """Validate ``doc`` (and with ``tmp_path`` synthesize and lint it); a SpecError must name paths."""
    try:
        spec = parse_spec(yaml.safe_dump(doc, sort_keys=False), FILENAME)
    except SpecError as error:
        _assert_names_paths(error, doc)
        event("refused with a SpecError")
        return None
    event("valid")
    if tmp_path is not None:
        _synthesize_and_lint(spec, tmp_path / f"s{len(list(tmp_path.iterdir()))}", doc)
    return spec


def _synthesize_and_lint(spec: Spec, outdir: Path, doc) -> None:
    synthesize(spec, outdir)
    assert cfn_lint(outdir) == [], yaml.safe_dump(doc)


@SYNTH
@given(valid_specs())
def test_specs_from_the_vocabulary_synthesize_and_lint_clean(tmp_path, doc):
    assert _check(doc, tmp_path) is not None, f"a spec built from the vocabulary was refused:\n{yaml.safe_dump(doc)}"


@settings(max_examples=150, deadline=None)
@given(valid_specs())
def test_specs_from_the_vocabulary_validate(doc):
    """Validation alone is fast: many more built specs, the capacity check among the rules they meet."""
    assert _check(doc, None) is not None, f"a spec built from the vocabulary was refused:\n{yaml.safe_dump(doc)}"


def test_a_worker_only_app_lints_clean(tmp_path):
    doc = {"name": "a", "environments": {"a": {}},
           "apps": {"a": {"source": {"codecommit": "a"}, "processes": {"worker": {"command": "run"}}}}}
    _synthesize_and_lint(parse_spec(yaml.safe_dump(doc), FILENAME), tmp_path, doc)


@settings(max_examples=120, deadline=None)
@given(mutated_examples())
def test_mutated_examples_validate_or_name_paths(doc):
    _check(doc, None)


@settings(SYNTH, max_examples=4)
@given(mutated_examples())
def test_mutated_examples_that_validate_synthesize_and_lint_clean(tmp_path, doc):
    _check(doc, tmp_path)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
                    max_leaves=12))
def test_arbitrary_documents_never_raise_anything_but_spec_error(doc):
    _check(doc, None)
