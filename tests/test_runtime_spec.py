"""The spec fields the runtime added: each bad value gets one message at its exact path."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipway.spec.model import Process

from .test_spec_errors import hello, problems_for, web

LONG = "a" * 32

CASES = [
    ("slow start under 30", lambda s: web(s).update(slow_start=10), "apps.hello.processes.web.slow_start",
     "0 (off) or 30 to 900 seconds"),
    ("timeout not under the interval", lambda s: web(s).update(health_check_timeout=5),
     "apps.hello.processes.web.health_check_timeout", "shorter than health_check_interval"),
    ("linear step under 3 %", lambda s: hello(s).update(deploy={"strategy": "linear", "percent": 2}),
     "apps.hello.deploy.percent", "at least 3 percent"),
    ("schedule name over 64", lambda s: (
        s.update(environments={"e" * 22: s["environments"]["dev"]}),
        hello(s).update(cron={LONG: {"schedule": "rate(1 hour)", "command": "x"}}),
    ), f"apps.hello.cron.{LONG}", "longer than 64 characters"),
    ("cron retries over Scheduler's 185",
     lambda s: hello(s).update(cron={"j": {"schedule": "rate(1 hour)", "command": "x", "retry_attempts": 186}}),
     "apps.hello.cron.j.retry_attempts", "less than or equal to 185"),
    ("alarm threshold of 0 %", lambda s: hello(s).update(alarms={"error_rate_percent": 0}),
     "apps.hello.alarms.error_rate_percent", "greater than 0"),
    ("release size not a Fargate size", lambda s: hello(s).update(release_size={"cpu": 256, "memory": 4096}),
     "apps.hello.release_size", "memory 4096 MiB does not go with cpu 256"),
]


@pytest.mark.parametrize(("edit", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_runtime_field_gets_one_clear_message(edit, path, fragment):
    (problem,) = problems_for(edit)
    assert re.match(rf"^shipway\.yaml:\d+: {re.escape(path)}: ", problem), problem
    assert fragment in problem


@given(st.integers(0, 900))
def test_slow_start_is_off_or_in_the_albs_range(seconds):
    try:
        Process(slow_start=seconds)
    except ValueError:
        assert 0 < seconds < 30
    else:
        assert seconds == 0 or seconds >= 30


@given(st.integers(0, 110))
def test_stop_timeout_covers_the_drain_under_the_spot_notice(delay):
    stop = Process(deregistration_delay=delay).stop_timeout
    assert max(delay, 30) <= stop < 120
