"""Publishing and reading the platform's SSM parameters (see ``naming.Param``)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from .. import naming


def publish(scope: Construct, *, project: str, env: str, key: str, value: str, description: str) -> ssm.StringParameter:
    """Write ``value`` to the SSM parameter ``key`` of ``env``; the construct ID derives from the key."""
    construct_id = "Param" + "".join(part.capitalize() for part in key.replace("-", "/").split("/"))
    return ssm.StringParameter(
        scope, construct_id, parameter_name=naming.parameter(project, env, key), string_value=value,
        description=description,
    )


def read(scope: Construct, *, project: str, env: str, key: str) -> str:
    """A token for the SSM parameter ``key`` of ``env``, resolved by CloudFormation at deploy time."""
    return ssm.StringParameter.value_for_string_parameter(scope, naming.parameter(project, env, key))


def read_list(scope: Construct, *, project: str, env: str, key: str, length: int) -> list[str]:
    """A comma-joined SSM parameter as a list of ``length`` tokens."""
    return cdk.Fn.split(",", read(scope, project=project, env=env, key=key), length)
