"""Capacity names: the one parser of ``fargate``, ``fargate-spot`` and ``pool:<name>``, and what reads it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shipway.constructs import placement
from shipway.props.platform import ClusterProps
from shipway.props.pools import capacity
from shipway.spec import load_spec
from shipway.spec.capacity_name import HELP, PATTERN, Fargate, OnPool, parse
from shipway.spec.model import Cluster, CronJob, Process

from .conftest import SHIPPED


def test_each_name_means_its_kind():
    assert parse("fargate") is Fargate.ON_DEMAND
    assert parse("fargate-spot") is Fargate.SPOT
    assert parse("pool:dedicated") == OnPool("dedicated")
    assert parse("pool:a-1") == OnPool("a-1")


def test_the_vocabulary_in_words_is_the_one_messages_have_always_given():
    assert HELP == "fargate, fargate-spot or pool:<name>"


@pytest.mark.parametrize("name", ["", "ec2", "FARGATE", "Fargate", "fargate_spot", "fargate-spot2", "pool:", "pool",
                                  "pool:Big", "pool:-a", "pool:a--b", "pool:a-", "fargate\n", "pool:a\n", " fargate"])
def test_anything_else_is_refused_by_the_parser_and_the_spec_alike(name):
    with pytest.raises(ValueError, match=f"^{re.escape(f'capacity {name!r} is not {HELP}')}$"):
        parse(name)
    with pytest.raises(ValidationError, match=re.escape(f"must be {HELP}")):
        CronJob(schedule="rate(1 hour)", command="true", capacity=name)


@settings(deadline=None, max_examples=200)
@given(st.one_of(st.from_regex(PATTERN), st.text(max_size=20),
                 st.sampled_from([k.value for k in Fargate]).map(lambda v: v + "x")))
def test_the_spec_accepts_exactly_what_the_parser_reads(name):
    try:
        on = parse(name)
    except ValueError:
        with pytest.raises(ValidationError):
            Process(capacity=name)
        return
    assert Process(capacity=name).runs_on == on
    # The parsed value gives back the very name it was read from.
    assert (on.name if isinstance(on, OnPool) else on.value) == name


def test_a_process_knows_its_pool_only_on_a_pool():
    assert Process(capacity="pool:big").pool == "big"
    assert Process(capacity="fargate-spot").pool is None
    assert Process().runs_on is CronJob(schedule="rate(1 hour)", command="true").runs_on is Fargate.ON_DEMAND


def test_each_fargate_kind_is_a_provider_the_constructs_know_and_a_setting_of_the_cluster():
    providers = {placement.FARGATE.capacity_provider, placement.FARGATE_SPOT.capacity_provider}
    assert {kind.provider for kind in Fargate} == providers == {"FARGATE", "FARGATE_SPOT"}
    for kind in Fargate:
        assert kind.flag in Cluster.model_fields and kind.flag in ClusterProps.__annotations__
        assert kind.offered_by(Cluster()) and not kind.offered_by(Cluster(**{kind.flag: False}))
    assert [(kind.label, kind.spot) for kind in Fargate] == [("Fargate", False), ("Fargate Spot", True)]


@pytest.mark.parametrize("kind", list(Fargate))
def test_props_place_a_fargate_task_on_its_provider(kind):
    assert capacity(load_spec(SHIPPED), "staging", kind.value) == placement.Fargate(kind.provider)
