"""The emulated account: moto's server on 127.0.0.1 (a free port), patched for its gaps (moto_patches), with the
prerequisites a spec names but does not create (its certificates) seeded as a user would have them."""

from __future__ import annotations

import logging
import os
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
from moto.server import ThreadedMotoServer

from shipway.spec import Spec

from . import moto_patches

ACCOUNT = "123456789012"  # moto's account
DEFAULT_REGION = "ap-northeast-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Emulator:
    endpoint: str
    region: str

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def cli_environment(self) -> dict[str, str]:
        """What the AWS CLI in a pipeline command needs to talk to the emulator, and nothing of the caller's."""
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        return {
            **keep,
            "AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region, "AWS_PAGER": "",
        }


def spec_region(spec: Spec) -> str:
    regions = {e.region for e in spec.environments.values() if e.region}
    return regions.pop() if len(regions) == 1 else DEFAULT_REGION


@contextmanager
def emulated_account(spec: Spec) -> Iterator[Emulator]:
    moto_patches.apply()
    # One line per request, and one per resource type moto's CloudFormation skips (docs/e2e.md lists them).
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse .* not supported by moto", category=UserWarning)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # moto's backends live in this process, shared by every server it starts: a fresh account is a reset one.
    reset()
    try:
        emulator = Emulator(f"http://127.0.0.1:{port}", spec_region(spec))
        seed_certificates(emulator, spec)
        yield emulator
    finally:
        server.stop()
        reset()


def reset() -> None:
    """Empty every moto backend of this process (what moto's /moto-api/reset does)."""
    from moto.moto_api import state_manager
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    # moto runs no container: a task it starts has run and stopped by the next look (the release's wait).
    state_manager.set_transition("ecs::task", {"progression": "immediate"})
    moto_patches.TRAFFIC_TO_EMPTY_GROUP.clear()


def seed_certificates(emulator: Emulator, spec: Spec) -> None:
    """Each router certificate the spec names exists in the account (the user issued it in ACM beforehand).

    ACM chooses a new certificate's ARN, so the one requested here is filed under the ARN the spec names."""
    from moto.acm.models import acm_backends

    for env in spec.environments.values():
        arn = env.router.certificate_arn
        if not arn:
            continue
        issued = emulator.client("acm").request_certificate(DomainName="example.com")["CertificateArn"]
        backend = acm_backends[ACCOUNT][emulator.region]
        certificate = backend._certificates.pop(issued)
        certificate.arn = arn
        backend._certificates[arn] = certificate
