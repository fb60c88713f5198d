"""Properties of the spec model: defaults, the size table, schedules and listener priorities."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipway.spec import SpecError, listener_priority, load_spec, validate_spec
from shipway.spec.model import MAX_MODELED_WAIT, Size
from shipway.spec.vocabulary import FARGATE_MEMORY, SIZES, schedule_error

from .conftest import SHIPPED


def test_shipped_spec_keeps_every_field_it_gives():
    spec = load_spec(SHIPPED)
    minne = spec.apps["minne"]
    web = minne.processes["web"]
    assert (web.size.cpu, web.size.memory) == (512, 1024)
    assert web.placement == {"high": "true"} and web.capacity == "pool:dedicated"
    assert [s.min for s in web.autoscale.schedules] == [16, 4]
    assert minne.deploy.strategy == "canary" and minne.deploy.approve_before == "production"
    assert minne.loadtest.run_seconds == 180
    assert spec.apps["blog"].build.buildpacks == "heroku/builder:24"
    assert spec.environments["staging"].cluster.pools["loadtest"].provisioning == "spot-fleet"
    assert all(env.cluster.awsvpc_trunking for env in spec.environments.values())
    assert web.hosts_in("staging") == ["minne.staging.example.com"]


def test_defaults_live_in_the_model():
    spec = validate_spec({
        "name": "tiny", "environments": {"dev": {}},
        "apps": {"a": {"source": {"codecommit": "a"}, "processes": {"web": {"port": 80, "hosts": ["a.example.com"]}}}},
    })
    dev, web = spec.environments["dev"], spec.apps["a"].processes["web"]
    assert spec.registry == "ecr"
    assert (dev.network.max_azs, dev.network.nat_gateways, dev.router.idle_timeout) == (2, 1, 60)
    assert (dev.database.version, dev.database.instance_type, dev.database.storage_gb) == ("17", "db.t4g.micro", 20)
    assert spec.apps["a"].build.dockerfile == "Dockerfile" and spec.apps["a"].deploy.strategy == "rolling"
    assert (web.size.cpu, web.size.memory, web.count, web.capacity) == (256, 512, 1, "fargate")
    assert (web.health_check_interval, web.healthy_threshold, web.deregistration_delay) == (5, 2, 30)
    assert web.modeled_wait == 40 <= MAX_MODELED_WAIT
    assert web.deregistration_delay <= web.stop_timeout < 120


@pytest.mark.parametrize("name,pair", SIZES.items())
def test_named_sizes_are_valid_fargate_pairs(name, pair):
    cpu, memory = pair
    assert memory in FARGATE_MEMORY[cpu]


@given(cpu=st.sampled_from([128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]),
       memory=st.integers(min_value=256, max_value=131072))
def test_custom_size_validates_exactly_the_fargate_table(cpu, memory):
    valid = memory in FARGATE_MEMORY.get(cpu, ())
    try:
        Size(cpu=cpu, memory=memory)
    except ValueError:
        assert not valid
    else:
        assert valid


minutes = st.integers(0, 59).map(str)
hours = st.integers(0, 23).map(str)
days = st.integers(1, 31).map(str)
months = st.one_of(st.integers(1, 12).map(str), st.sampled_from(["JAN", "JUN", "DEC", "*"]))
weekdays = st.sampled_from(["MON", "FRI", "MON-FRI", "1", "7", "2#1", "6L"])


@given(minutes, hours, days, months, weekdays, st.booleans())
def test_well_formed_crons_are_accepted(minute, hour, day, month, weekday, by_day_of_month):
    body = f"{minute} {hour} {day} {month} ? *" if by_day_of_month else f"{minute} {hour} ? {month} {weekday} *"
    assert schedule_error(f"cron({body})") is None


@given(st.integers(1, 10_000), st.sampled_from(["minute", "hour", "day"]))
def test_rate_units_agree_with_their_value(value, unit):
    good = f"rate({value} {unit}{'' if value == 1 else 's'})"
    bad = f"rate({value} {unit}{'s' if value == 1 else ''})"
    assert schedule_error(good) is None
    assert schedule_error(bad) is not None


@given(st.text(max_size=40))
def test_any_text_either_parses_as_a_schedule_or_says_why(text):
    problem = schedule_error(text)
    assert problem is None or (isinstance(problem, str) and problem)


@given(st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True), st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True))
def test_listener_priority_is_stable_and_in_range(app, process):
    priority = listener_priority(app, process, None)
    assert priority == listener_priority(app, process, None)
    assert 1000 <= priority < 49000
    assert listener_priority(app, process, 7) == 7


@given(st.dictionaries(st.sampled_from(["name", "registry", "environments", "apps", "bogus"]),
                       st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
                                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)),
                       max_size=5))
def test_arbitrary_top_level_shapes_fail_cleanly(data):
    try:
        validate_spec(data)
    except SpecError as exc:
        problems = exc.problems
    else:
        return  # a shape that happens to be a valid spec
    assert problems and all(p.startswith("shipway.yaml") for p in problems)


def test_docs_spec_reference_is_generated_from_the_model():
    from shipway.spec.reference import render
    from shipway.synth import ROOT

    assert (ROOT / "docs" / "spec.md").read_text() == render(), "run: python -m shipway.spec.reference > docs/spec.md"
