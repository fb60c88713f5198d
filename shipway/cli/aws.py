"""boto3 sessions for an environment: its region from the spec (or the usual AWS settings), standard retries.

Credentials come from boto3's usual chain (``AWS_PROFILE``, environment, SSO, instance role); a missing one
becomes one line through ``errors.translate``. ``AWS_ENDPOINT_URL`` (boto3's own setting) points every
client at an emulator, which is how the tests and docs/cli.md's transcripts run against moto on 127.0.0.1.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from ..spec import Spec

_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, user_agent_extra="shipway-cli")


@cache
def _session(region: str | None) -> boto3.Session:
    return boto3.Session(region_name=region)


def client(spec: Spec, env: str, service: str) -> Any:
    """A client of ``service`` in ``env``'s region (the spec's, else the AWS configuration's)."""
    region = spec.environments[env].region or os.environ.get("AWS_REGION")  # botocore reads AWS_DEFAULT_REGION
    return _session(region).client(service, config=_CONFIG)


def clear() -> None:
    """Forget cached sessions (tests change credentials and endpoints between verbs)."""
    _session.cache_clear()
