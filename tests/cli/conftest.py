"""The command-line tests: one synth of tests/specs/cli.yaml per session, a fresh emulator per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from shipway.cli import cli
from shipway.spec import Spec, load_spec
from shipway.synth import Synthesized, synthesize
from tests import emulator
from tests.conftest import SPECS, free_port

CLI_SPEC = SPECS / "cli.yaml"


@pytest.fixture(scope="session")
def deployed_synth(tmp_path_factory) -> Synthesized:
    """tests/specs/cli.yaml as deployed: what the emulator is seeded from."""
    return synthesize(load_spec(CLI_SPEC), tmp_path_factory.mktemp("cli"))


@dataclass
class Shop:
    """The emulated deployment of tests/specs/cli.yaml and a copy of the spec to edit."""

    spec_path: Path
    spec: Spec
    endpoint: str

    def run(self, *args: str, input: str | None = None) -> Result:
        """`shipway ARGS --spec <the copy>` in-process, with stdout and stderr apart."""
        return CliRunner().invoke(cli, [*args], input=input, env={"SHIPWAY_SPEC": str(self.spec_path)},
                                  catch_exceptions=False)

    def edited(self) -> Spec:
        return load_spec(self.spec_path)


@pytest.fixture
def spec_copy(tmp_path) -> Path:
    path = tmp_path / "shipway.yaml"
    shutil.copy(CLI_SPEC, path)
    return path


@pytest.fixture
def shop(deployed_synth, spec_copy) -> Iterator[Shop]:
    spec = load_spec(CLI_SPEC)
    with emulator.emulator(free_port()) as endpoint:
        emulator.deploy(spec, deployed_synth)
        yield Shop(spec_copy, spec, endpoint)


def synth_templates(spec_path: Path, tmp_path: Path) -> dict[str, dict]:
    """What the next cdk deploy would deploy: an in-process synth of the edited spec."""
    return synthesize(load_spec(spec_path), tmp_path / "after").templates()


def template_task_definition(template: dict, family: str) -> dict:
    return next(r["Properties"] for r in template["Resources"].values()
                if r["Type"] == "AWS::ECS::TaskDefinition" and r["Properties"].get("Family") == family)


def template_environment(template: dict, family: str) -> dict[str, str]:
    container = template_task_definition(template, family)["ContainerDefinitions"][0]
    return {e["Name"]: e["Value"] for e in container["Environment"]}


def template_secrets(template: dict, family: str) -> dict:
    container = template_task_definition(template, family)["ContainerDefinitions"][0]
    return {s["Name"]: s["ValueFrom"] for s in container.get("Secrets", [])}
