"""shellcheck (Debian's package, scripts/install-system-packages.sh) on every script the pipeline runs.

The buildspecs' shell is rendered from templates (shipway/scripts/*.sh.j2, shipway/loadtest/*.sh.j2): each
buildspec is checked as CodeBuild runs it, its phases' commands one after another in one shell, at every
severity and with no exclusion. The buildspecs are those every CodeBuild project of the shipped, minimal and
s3-registry specs carries, and those of every branch of the templates (Dockerfile or buildpacks, with and
without registries and a load-test image, a release through a shell or buildpacks' launcher). The variables
CodeBuild and the projects provide are upper case, which shellcheck takes for the environment's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from shipway import templates
from shipway.constructs import buildspec
from shipway.loadtest import gate_construct, image

ROOT = Path(__file__).parent.parent
REGISTRIES = {"staging": "registry.staging.example.com/acme/minne", "production": "reg.example.com:5000/acme/it's"}


@pytest.fixture(scope="module")
def shellcheck() -> str:
    found = shutil.which("shellcheck")
    if found is None:
        pytest.fail("shellcheck is missing: run `make system` (scripts/install-system-packages.sh)")
    return found


def codebuild_commands(spec: dict) -> str:
    """A buildspec's commands as CodeBuild runs them: in one shell, phase by phase, each ``finally`` after its phase."""
    return "#!/usr/bin/env bash\n" + "".join(
        f"{command}\n" for body in spec["phases"].values() for part in ("commands", "finally")
        for command in body.get(part, []))


def check(shellcheck: str, script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "script.sh"
    path.write_text(script)
    return subprocess.run([shellcheck, "--shell=bash", "--severity=style", "--format=gcc", str(path)],
                          capture_output=True, text=True, check=False)


def every_branch() -> dict[str, dict]:
    """A buildspec for every branch of the templates."""
    loadtest = image.build_commands("load test/locustfile.py")
    specs = {
        f"build {source} registries={bool(registries)} loadtest={bool(extra)}": buildspec.image_build_spec(
            dockerfile=dockerfile, buildpacks=buildpacks, extra_builds=extra, registries=registries)
        for source, dockerfile, buildpacks in (("dockerfile", "docker/My App's.Dockerfile", None),
                                               ("buildpacks", None, "heroku/builder:24"))
        for registries in (None, REGISTRIES)
        for extra in ((), loadtest)
    }
    # A release command is the container's: its own $VARIABLES stay unexpanded in CodeBuild's shell, on purpose,
    # which shellcheck would note (SC2016); this one has quotes of both kinds but no $.
    for buildpacks in (False, True):
        specs[f"release buildpacks={buildpacks}"] = buildspec.release_build_spec(
            "echo 'it''s' \"done\" && rake db:migrate", wait_rounds=2, buildpacks=buildpacks)
    specs |= {"record": buildspec.record_build_spec(), "go live": buildspec.go_live_build_spec(),
              "live target groups": buildspec.live_target_groups_build_spec(),
              "load-test gate": gate_construct.gate_build_spec()}
    return specs


def test_every_branch_of_the_templates_passes_shellcheck(shellcheck, tmp_path):
    for where, spec in every_branch().items():
        result = check(shellcheck, codebuild_commands(spec), tmp_path)
        assert result.returncode == 0, f"{where}\n{result.stdout}"


def test_every_synthesized_buildspec_passes_shellcheck(shellcheck, shipped_templates, minimal, s3_registry, tmp_path):
    specs = {
        f"{name}:{r['Metadata']['aws:cdk:path']}": json.loads(r["Properties"]["Source"]["BuildSpec"])
        for name, t in {**shipped_templates, **minimal.templates(), **s3_registry.templates()}.items()
        for r in t["Resources"].values() if r["Type"] == "AWS::CodeBuild::Project"
    }
    assert {"Delivery/Build", "Delivery/Release/Default", "Delivery/Record", "LoadTestGate/Default"} <= {
        where.rsplit("/", 1)[0].split("/", 1)[1] for where in specs}
    for where, spec in specs.items():
        result = check(shellcheck, codebuild_commands(spec), tmp_path)
        assert result.returncode == 0, f"{where}\n{result.stdout}"


def test_shellcheck_would_catch_an_unquoted_variable(shellcheck, tmp_path):
    spec = {"phases": {"build": {"commands": ['aws ecs stop-task --cluster $CLUSTER --task "$TASK"']}}}
    result = check(shellcheck, codebuild_commands(spec), tmp_path)
    assert result.returncode != 0 and "SC2086" in result.stdout


def test_the_shell_files_pass_shellcheck(shellcheck, tmp_path):
    """The scripts carried whole into buildspecs (``bash -c '<file>'``, which shellcheck does not look into),
    the repository's own and the tests' AWS CLI wrapper."""
    files = [*ROOT.glob("shipway/scripts/*.sh"), *ROOT.glob("scripts/*.sh"), ROOT / "tests" / "aws_hooks" / "aws"]
    assert len(files) >= 5
    for path in files:
        result = check(shellcheck, path.read_text(), tmp_path)
        assert result.returncode == 0, f"{path}\n{result.stdout}"


def test_a_template_renders_as_the_script_codebuild_runs():
    """A buildspec's template, rendered whole, is its phases' commands in CodeBuild's order (the blocks)."""
    gate = gate_construct.gate_build_spec()["phases"]["build"]
    values = {"master_container": "master", "worker_container": "worker", "poll_seconds": gate_construct.POLL_SECONDS}
    whole = templates.package_environment().get_template("loadtest/gate.sh.j2").render(**values)
    assert templates.commands(whole) == [*gate["commands"], *gate["finally"]]


def test_a_continued_line_joins_the_next_without_its_indentation():
    assert templates.commands('a \\\n    b "c d" \\\n  e\n\n  f\n') == ['a b "c d" e', "f"]
    with pytest.raises(ValueError, match="continued line"):
        templates.commands("a \\\n")
