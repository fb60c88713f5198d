"""One clear line instead of a traceback, and exit codes a script can rely on (docs/cli.md#exit-codes).

Every verb raises :class:`CliError` (or lets a botocore or spec error through); :class:`ShipwayGroup` turns
each into ``shipway: <what went wrong>`` on stderr and the exit code of its kind.
"""

from __future__ import annotations

import click
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from ..spec import SpecError

# Exit codes (docs/cli.md). `run` exits with the command's own code instead when the command ran.
OK = 0
FAILED = 1  # the operation ran and failed: an AWS error, a deploy or task that did not succeed
USAGE = 2  # click's own: a bad option or argument
SPEC = 3  # shipway.yaml cannot be read, does not validate, or an edit would make it invalid
CREDENTIALS = 4  # no AWS credentials or no region
NOT_FOUND = 5  # unknown app, process, environment or release; or not deployed
INTERRUPTED = 130


class CliError(click.ClickException):
    """A failure the user can act on: one line, one exit code."""

    def __init__(self, message: str, exit_code: int = FAILED):
        super().__init__(message)
        # click declares exit_code a ClassVar (a class's default) but reads it from the raised instance
        self.exit_code = exit_code  # type: ignore[misc]

    def show(self, file=None) -> None:
        click.echo(f"shipway: {self.format_message()}", err=True)


class NotFound(CliError):
    def __init__(self, message: str):
        super().__init__(message, NOT_FOUND)


def translate(exc: BaseException) -> CliError | None:
    """The one line for an exception from the layers below (spec, botocore); None for anything else."""
    if isinstance(exc, SpecError):
        problems = exc.problems
        if len(problems) == 1:
            return CliError(problems[0], SPEC)
        return CliError(f"{len(problems)} problems in the spec:\n  " + "\n  ".join(problems), SPEC)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return CliError(
            "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or run aws sso login)",
            CREDENTIALS,
        )
    if isinstance(exc, NoRegionError):
        return CliError(
            "no AWS region: set AWS_REGION or AWS_DEFAULT_REGION (or the environment's region in shipway.yaml)",
            CREDENTIALS,
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Error"), error.get("Message", str(exc))
        if code in ("ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException",
                    "InvalidClientTokenId", "AuthFailure"):
            return CliError(f"AWS refused the credentials ({code}): {message}", CREDENTIALS)
        return CliError(f"AWS {exc.operation_name}: {code}: {message}", FAILED)
    if isinstance(exc, EndpointConnectionError):
        return CliError(f"cannot reach AWS: {exc}", FAILED)
    if isinstance(exc, BotoCoreError):
        return CliError(f"AWS: {exc}", FAILED)
    return None


class ShipwayGroup(click.Group):
    """The root group: translates known failures into one line and an exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise CliError("interrupted", INTERRUPTED) from None
        except Exception as exc:  # anything untranslated is a bug and keeps its traceback
            translated = translate(exc)
            if translated is None:
                raise
            raise translated from None
