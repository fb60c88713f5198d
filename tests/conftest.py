"""Synthesis is the slow part: each spec is synthesized once per session and shared by every test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from moto.server import ThreadedMotoServer

from shipway.spec import load_spec
from shipway.synth import ROOT, Synthesized, synthesize

SPECS = Path(__file__).parent / "specs"

# Two CPU cores shared by everyone: a wall-clock deadline would measure the neighbours, not the code.
settings.register_profile("shared-machine", deadline=None)
settings.load_profile("shared-machine")
SHIPPED = ROOT / "shipway.yaml"


@pytest.fixture(scope="session")
def shipped(tmp_path_factory) -> Synthesized:
    """The shipped shipway.yaml, synthesized (cdk-nag runs inside synth and fails it on any finding)."""
    return synthesize(load_spec(SHIPPED), tmp_path_factory.mktemp("shipped"))


@pytest.fixture(scope="session")
def minimal(tmp_path_factory) -> Synthesized:
    return synthesize(load_spec(SPECS / "minimal.yaml"), tmp_path_factory.mktemp("minimal"))


@pytest.fixture(scope="session")
def pinned(tmp_path_factory) -> Synthesized:
    """An environment with account, region and explicit Availability Zones."""
    return synthesize(load_spec(SPECS / "pinned.yaml"), tmp_path_factory.mktemp("pinned"))


@pytest.fixture(scope="session")
def s3_registry(tmp_path_factory) -> Synthesized:
    """tests/specs/s3-registry.yaml: registry: s3."""
    return synthesize(load_spec(SPECS / "s3-registry.yaml"), tmp_path_factory.mktemp("s3-registry"))


@pytest.fixture(scope="session")
def shipped_templates(shipped) -> dict[str, dict]:
    return shipped.templates()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def moto_s3() -> Iterator[str]:
    """moto's S3 on loopback, for the tools that really talk to S3 (docker-registry, the load-test master)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
