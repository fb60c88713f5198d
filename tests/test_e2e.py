"""The emulated deploy (e2e/, docs/e2e.md): a spec's stacks through CloudFormation on moto's server, then the
pipeline's own commands in real bash with the real AWS CLI, checked against the spec after every step."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from e2e.emulator import emulated_account
from e2e.flow import EmulatedDeploy, emulated_deploy
from shipway.spec import load_spec
from shipway.synth import ROOT, synthesize
from tests.conftest import SHIPPED, SPECS

pytestmark = pytest.mark.system  # moto's server, bash, the AWS CLI


@pytest.fixture(scope="module")
def shipped_checks(shipped):
    return emulated_deploy(load_spec(SHIPPED), shipped.outdir, synthesized=True)


def test_every_step_matches_the_spec(shipped_checks):
    assert [c.step for c in shipped_checks] == [
        "cdk deploy --all", "first push (approvals withheld)", "autoscaling scales out",
        "second push (approved)", "cdk deploy --all again", "cdk deploy --all with a new host",
    ]
    assert [p for c in shipped_checks for p in c.problems] == []


def test_the_first_push_starts_what_it_reaches_and_nothing_else(shipped_checks):
    states = {(s.env, s.service): (s.desired, s.tag) for s in shipped_checks[1].services}
    # minne waits for approval before production; blog has no approval
    assert states == {
        ("staging", "minne-web"): (4, "c0ffee1"), ("staging", "minne-worker"): (2, "c0ffee1"),
        ("production", "minne-web"): (0, "none"), ("production", "minne-worker"): (0, "none"),
        ("staging", "blog-web"): (2, "c0ffee1"), ("production", "blog-web"): (2, "c0ffee1"),
    }


def test_later_pushes_and_stack_updates_keep_scaled_counts_and_the_deployed_image(shipped_checks):
    *_, second_push, redeploy = shipped_checks
    for check in (second_push, redeploy):
        states = {(s.env, s.service): (s.desired, s.tag) for s in check.services}
        assert states[("staging", "minne-web")] == (5, "c0ffee2")  # scaled out from 4, kept
        assert states[("production", "minne-web")] == (4, "c0ffee2")  # its first image, on the second push
        assert states[("production", "minne-worker")] == (2, "c0ffee2")


def test_without_go_live_the_first_push_runs_nothing(minimal):
    """The control case: the same flow without the GoLive step fails where the service stays at 0 tasks."""
    checks = emulated_deploy(load_spec(SPECS / "minimal.yaml"), minimal.outdir, synthesized=True,
                             skip=("GoLive",), steps=2)
    assert checks[0].problems == []
    assert "first push (approvals withheld): dev hello-web runs 0 tasks, expected 1" in checks[1].problems


PIPELINE_THEN_HOST = ("cdk deploy --all", "first push (approvals withheld)", "cdk deploy --all with a new host")
STACK_THEN_HOST = ("cdk deploy --all", "first push (approvals withheld)", "cdk deploy --all again",
                   "cdk deploy --all with a new host")
WRITTEN_TO_EMPTY = ("cdk deploy --all with a new host: shift-dev shop-web: its production rule was written to forward "
                    "to the target group without its live tasks")
LEFT_ON_EMPTY = ("cdk deploy --all with a new host: shift-dev shop-web: production traffic goes to the target group "
                 "without its live tasks")


def blue_green(assembly, steps, *, skip=()):
    """A blue/green service through ``steps``: the pipeline's deployment moves its tasks to the alternate group, a
    stack update's deployment back; the last step rewrites its listener rule."""
    spec = load_spec(SPECS / "e2e-shift.yaml")
    synthesize(spec, assembly)
    with emulated_account(spec) as emulator:
        flow = EmulatedDeploy(spec, emulator, assembly, skip=skip)
        by_name = dict(flow.steps())
        return flow.run([(s, by_name[s]) for s in steps])


@pytest.mark.parametrize("steps", [PIPELINE_THEN_HOST, STACK_THEN_HOST])
def test_a_stack_update_after_any_deployment_keeps_traffic_on_the_live_tasks(tmp_path, steps):
    assert [p for c in blue_green(tmp_path, steps) for p in c.problems] == []


def test_without_the_record_a_rule_rewritten_after_an_odd_deployment_forwards_to_the_empty_group(tmp_path):
    """The control case of aws/aws-cdk#36649: the template's own weights (100/0) after one deployment."""
    checks = blue_green(tmp_path, PIPELINE_THEN_HOST, skip=("RecordLiveTargetGroups", "DeploymentCompleted"))
    assert [p for c in checks[:-1] for p in c.problems] == []
    assert checks[-1].problems == [WRITTEN_TO_EMPTY]  # then the stack's own redeploy moves the tasks under it


def test_without_the_record_after_a_stack_deployment_the_next_rule_rewrite_forwards_to_the_empty_group(tmp_path):
    """The control case for deployments a stack update starts: without EventBridge's record they leave it stale."""
    checks = blue_green(tmp_path, STACK_THEN_HOST, skip=("DeploymentCompleted",))
    assert [p for c in checks[:-1] for p in c.problems] == []
    assert checks[-1].problems == [WRITTEN_TO_EMPTY, LEFT_ON_EMPTY]


def test_make_e2e_prints_one_line_per_service_and_step(tmp_path):
    spec = tmp_path / "spec.yaml"
    shutil.copy(SPECS / "minimal.yaml", spec)
    done = subprocess.run([sys.executable, "-m", "e2e", "--spec", str(spec)], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line.split() for line in done.stdout.splitlines() if not line.startswith("#")]
    assert lines == [["dev", "hello-web", "0/0", "none"]] + [["dev", "hello-web", "1/1", "c0ffee1"]] * 2 \
        + [["dev", "hello-web", "1/1", "c0ffee2"]] * 3
