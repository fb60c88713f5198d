"""The pipeline's CodeBuild buildspecs: Python dicts whose shell lives in template files.

Each buildspec's commands are rendered from ``shipway/scripts/<step>.sh.j2`` (one block per phase, in the
order CodeBuild runs them; the shared shell in ``scripts/functions.sh.j2``): this module passes the values.
Values from the spec are quoted there; values known only at deploy or run time (repository URIs, the commit,
the cluster) arrive as environment variables.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from .. import naming, templates
from ..defaults import PACK_SHA256, PACK_URL
from .app_task import shell_command

IMAGE_DEFINITIONS = "imagedefinitions.json"

# What the build stage exports as CodePipeline variables (namespace of the build action).
EXPORTED = ("IMAGE_TAG", "IMAGE_URI")


# --- the image build ------------------------------------------------------------------------------


def registry_password_variable(index: int) -> str:
    """registry: s3: the build variable that holds the password of the ``index``-th environment's registry
    (Secrets Manager)."""
    return f"REGISTRY_PASSWORD_{index}"


def image_definitions_file(env: str) -> str:
    """registry: s3: the image definitions of ``env``'s deploy actions, its registry's URI in each."""
    return f"imagedefinitions-{env}.json"


def image_build_spec(*, dockerfile: str | None, buildpacks: str | None, extra_builds: Sequence[str] = (),
                     registries: Mapping[str, str] | None = None) -> dict:
    """The build stage: one image tagged with the commit SHA, its layers cached in the cache repository
    (``scripts/build.sh.j2``).

    ``extra_builds`` are commands that build further images of the same commit (the load-test image) after
    the app's: they find IMAGE_TAG, IMAGE_URI, CACHE_REPOSITORY_URI, a registry login and the buildx builder.
    ``registries`` (registry: s3): the app's repository in each environment's registry
    (``<registry_host>/<name>/<app>``), in deploy order; the image goes to all of them, IMAGE_REPOSITORY_URI
    must be the first, and each environment gets its image definitions file (``image_definitions_file``).
    """
    if (dockerfile is None) == (buildpacks is None):
        raise ValueError("give exactly one of dockerfile and buildpacks")
    phases = templates.shell_phases(
        "scripts/build.sh.j2", dockerfile=dockerfile, buildpacks=buildpacks, extra_builds=list(extra_builds),
        registries=[
            {"uri": uri, "host": uri.split("/", 1)[0], "password": registry_password_variable(i),
             "definitions": image_definitions_file(env)}
            for i, (env, uri) in enumerate((registries or {}).items())
        ],
        pack_url=PACK_URL, pack_sha256=PACK_SHA256, registry_user=naming.REGISTRY_USER,
        container=naming.CONTAINER_NAME, image_definitions=IMAGE_DEFINITIONS,
    )
    return {
        "version": "0.2",
        "env": {"shell": "bash", "exported-variables": list(EXPORTED)},
        "phases": {
            "install": {"on-failure": "ABORT", "commands": phases["install"]},
            "pre_build": {"on-failure": "ABORT", "commands": phases["pre_build"]},
            "build": {"on-failure": "ABORT", "commands": phases["build"]},
            "post_build": {"commands": phases["post_build"]},
        },
        "artifacts": {"files": [IMAGE_DEFINITIONS, *map(image_definitions_file, registries or {})]},
    }


# --- the release task -----------------------------------------------------------------------------


def container_overrides(command: str, *, buildpacks: bool = False) -> str:
    """run-task's --overrides: the release command, through a shell as the processes' commands are (in a
    buildpacks image, as the one argument of the one-off task definition's ``launcher`` entry point)."""
    return json.dumps(
        {"containerOverrides": [{"name": naming.CONTAINER_NAME,
                                 "command": shell_command(command, buildpacks=buildpacks)}]},
        separators=(",", ":"),
    )


def release_build_spec(command: str, *, wait_rounds: int, buildpacks: bool = False) -> dict:
    """The release step (``scripts/release.sh.j2``): the release command in a task of the new image, waited
    for in ``wait_rounds`` 10-minute rounds; its ``finally`` stops a task that has not stopped."""
    phases = templates.shell_phases(
        "scripts/release.sh.j2", container=naming.CONTAINER_NAME, wait_rounds=wait_rounds,
        overrides=container_overrides(command, buildpacks=buildpacks),
    )
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {
            "build": {"on-failure": "ABORT", "commands": phases["build"], "finally": phases["build_finally"]},
        },
    }


# --- going live: the first image in an environment ---------------------------------------------------

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def script_command(name: str) -> str:
    """One command that runs ``shipway/scripts/<name>`` with bash: the shell lives in its file (checked by
    shellcheck) and is carried into the buildspec whole, so CodeBuild needs no source of its own."""
    return f"bash -c {shlex.quote((SCRIPTS / name).read_text())} {shlex.quote(name)}"


def go_live_build_spec() -> dict:
    """GoLive: after an environment's first deploy, every service at its count (``scripts/go-live.sh``)."""
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {"build": {"commands": [script_command("go-live.sh")]}},
    }


def live_target_groups_build_spec() -> dict:
    """RecordLiveTargetGroups: which target group of each shifting web process holds its live tasks
    (``scripts/record-live-target-groups.sh``)."""
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {"build": {"commands": [script_command("record-live-target-groups.sh")]}},
    }


# --- recording the deployed tag -------------------------------------------------------------------


def record_build_spec() -> dict:
    """RecordImageTag (``scripts/record.sh.j2``): the tag just deployed, where ``<name>-<app>-<env>`` reads it."""
    commands = templates.shell_phases("scripts/record.sh.j2")["build"]
    return {"version": "0.2", "env": {"shell": "bash"}, "phases": {"build": {"commands": commands}}}
