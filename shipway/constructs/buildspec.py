"""The pipeline's CodeBuild buildspecs, generated from data.

Each buildspec is a Python dict (for ``codebuild.BuildSpec.from_object``); each shell command is composed
by a function below, with every value that comes from the spec quoted by ``shlex.quote``. Values known only at
deploy or run time (repository URIs, the commit, the cluster) arrive as environment variables and are always
double-quoted. CodeBuild checks each command's exit status, which a pipe would take from its last command only:
intermediate results go through files. The one pipe, the registry login, fails on the right when the left fails.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from .. import naming
from ..defaults import PACK_SHA256, PACK_URL
from .app_task import shell_command

# Tags in the build-cache repository. The repository is mutable: each build overwrites its tag, and the
# lifecycle rule expires the manifests that the overwrite leaves untagged.
BUILDX_CACHE_TAG = "buildx"
PACK_CACHE_TAG = "pack"

BUILDER_NAME = "shipway"
IMAGE_DEFINITIONS = "imagedefinitions.json"

# What the build stage exports as CodePipeline variables (namespace of the build action).
EXPORTED = ("IMAGE_TAG", "IMAGE_URI")


def _v(name: str) -> str:
    """A double-quoted expansion of an environment variable."""
    return f'"${name}"'


def _q(value: str) -> str:
    return shlex.quote(value)


def _fail(message: str) -> str:
    """Print ``message`` to stderr and give a non-zero status without leaving CodeBuild's shared shell."""
    return f"{{ echo {_q(message)} >&2; false; }}"


def _fail_expanding(message: str) -> str:
    """``_fail`` for a message of ours that names shell variables: ``message`` goes inside double quotes."""
    assert '"' not in message and "`" not in message and "$(" not in message
    return f'{{ echo "{message}" >&2; false; }}'


# --- the image build ------------------------------------------------------------------------------


def resolve_tag() -> list[str]:
    """IMAGE_TAG is the commit SHA: the source action's variable, or CodeBuild's resolved source version.

    Both are exported: CodeBuild's ``exported-variables`` publishes exported environment variables (the
    documented example is ``export MY_VAR=...``), and a plain shell assignment is not one.
    """
    return [
        'export IMAGE_TAG="${SOURCE_COMMIT:-$CODEBUILD_RESOLVED_SOURCE_VERSION}"',
        f'[ -n "$IMAGE_TAG" ] || {_fail("no commit SHA to tag the image with")}',
        'export IMAGE_URI="$IMAGE_REPOSITORY_URI:$IMAGE_TAG"',
        'echo "image: $IMAGE_URI"',
    ]


def registry_login() -> list[str]:
    """Log in to the account's ECR registry, which holds the build cache (and, with ECR, the images)."""
    return [
        'REGISTRY="${CACHE_REPOSITORY_URI%%/*}"',
        'aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "$REGISTRY"',
    ]


def buildx_setup() -> list[str]:
    """A BuildKit builder in a container: the docker driver cannot export a cache to a registry."""
    return [
        "docker buildx version",
        f"docker buildx create --name {BUILDER_NAME} --driver docker-container --use",
        "docker buildx inspect --bootstrap",
    ]


def pack_install() -> list[str]:
    """Install the pinned pack and refuse an archive whose checksum differs."""
    return [
        f"curl --fail --silent --show-error --location --output /tmp/pack.tgz {_q(PACK_URL)}",
        f"echo {_q(PACK_SHA256 + '  /tmp/pack.tgz')} > /tmp/pack.tgz.sha256",
        "sha256sum --check /tmp/pack.tgz.sha256",
        "tar -xzf /tmp/pack.tgz -C /usr/local/bin pack",
        "pack version",
    ]


# --- registry: s3 --------------------------------------------------------------------------------
# The image goes to every environment's registry, tagged alike; ``registries`` maps each environment to its
# repository there (``<registry_host>/<name>/<app>``), in deploy order: the first is IMAGE_REPOSITORY_URI.


def registry_password_variable(index: int) -> str:
    """The build variable that holds the password of the ``index``-th environment's registry (Secrets Manager)."""
    return f"REGISTRY_PASSWORD_{index}"


def image_definitions_file(env: str) -> str:
    """registry: s3: the image definitions of ``env``'s deploy actions, its registry's URI in each."""
    return f"imagedefinitions-{env}.json"


def registries_login(registries: Mapping[str, str]) -> list[str]:
    """Log in to each environment's registry; the password comes from Secrets Manager through stdin."""
    return [
        f'printf "%s" "${registry_password_variable(i)}" | docker login --username {_q(naming.REGISTRY_USER)}'
        f" --password-stdin {_q(uri.split('/', 1)[0])}"
        for i, uri in enumerate(registries.values())
    ]


def further_tags(registries: Mapping[str, str] | None) -> list[str]:
    """The image's names in the registries after the first, which one build pushes too."""
    return [f'{_q(uri)}:"$IMAGE_TAG"' for uri in list((registries or {}).values())[1:]]


def unless_image_in_registries(build: str, registries: Mapping[str, str]) -> str:
    """A retried or re-released commit reuses its image when every registry has it; otherwise it is built and
    pushed to all of them."""
    exists = " && ".join(f'docker manifest inspect {_q(uri)}:"$IMAGE_TAG" > /dev/null 2>&1'
                         for uri in registries.values())
    return f'if {exists}; then echo "$IMAGE_TAG is in every registry; not building it again"; else {build}; fi'


def registries_image_definitions(registries: Mapping[str, str]) -> list[str]:
    return [
        f"jq --null-input --arg name {_q(naming.CONTAINER_NAME)} --arg uri {_q(uri)}:\"$IMAGE_TAG\" "
        f"'[{{name: $name, imageUri: $uri}}]' > {_q(image_definitions_file(env))}"
        for env, uri in registries.items()
    ]


def buildx_build(dockerfile: str, tags: Sequence[str] = ()) -> str:
    cache = f'type=registry,ref="$CACHE_REPOSITORY_URI:{BUILDX_CACHE_TAG}"'
    return " ".join([
        "docker buildx build",
        f"--file {_q(dockerfile)}",
        # A single image manifest: no provenance index whose untagged children a lifecycle rule could expire.
        "--provenance=false",
        f"--cache-from {cache}",
        f"--cache-to {cache},mode=max,image-manifest=true,oci-mediatypes=true",
        '--tag "$IMAGE_URI"',
        *(f"--tag {tag}" for tag in tags),
        "--push",
        ".",
    ])


def pack_build(builder: str, tags: Sequence[str] = ()) -> str:
    return " ".join([
        'pack build "$IMAGE_URI"',
        *(f"--tag {tag}" for tag in tags),
        f"--builder {_q(builder)}",
        f'--cache-image "$CACHE_REPOSITORY_URI:{PACK_CACHE_TAG}"',
        "--publish",
        "--path .",
    ])


def unless_image_exists(build: str, *, repository: str = "IMAGE_REPOSITORY_NAME", uri: str = "IMAGE_URI") -> str:
    """Tags are immutable: a retried or re-released commit reuses its image instead of failing to push it.

    Only ECR's ImageNotFoundException means "build it". Any other error (a throttle, an access denial, a
    missing repository) fails the step with ECR's message: guessing "absent" would push over an immutable tag.
    The error goes to a file outside the build context (``docker build .`` would send it along).
    """
    errors = "/tmp/shipway-describe-images.err"
    describe = (
        f'aws ecr describe-images --repository-name "${repository}" --image-ids imageTag="$IMAGE_TAG"'
        f" > /dev/null 2> {errors}"
    )
    unknown = _fail_expanding(
        f"could not tell whether ${uri} exists (ECR's error above); not building over an immutable tag"
    )
    return (
        f'if {describe}; then echo "${uri} exists; not building it again"; '
        f"elif grep --quiet --fixed-strings '(ImageNotFoundException)' {errors}; then {build}; "
        f"else cat {errors} >&2; {unknown}; fi"
    )


def image_definitions() -> str:
    """imagedefinitions.json for the ECS deploy actions: every service's app container gets the new image."""
    return (
        f"jq --null-input --arg name {_q(naming.CONTAINER_NAME)} --arg uri \"$IMAGE_URI\" "
        f"'[{{name: $name, imageUri: $uri}}]' > {IMAGE_DEFINITIONS}"
    )


def image_build_spec(*, dockerfile: str | None, buildpacks: str | None, extra_builds: Sequence[str] = (),
                     registries: Mapping[str, str] | None = None) -> dict:
    """The build stage: one image tagged with the commit SHA, its layers cached in the cache repository.

    ``extra_builds`` are commands that build further images of the same commit (the load-test image) after
    the app's: they find IMAGE_TAG, IMAGE_URI, CACHE_REPOSITORY_URI, a registry login and the buildx builder.
    ``registries`` (registry: s3): the app's repository in each environment's registry, in deploy order; the
    image goes to all of them, IMAGE_REPOSITORY_URI must be the first, and each environment gets its image
    definitions file (``image_definitions_file``). The layer cache stays in the ECR cache repository.
    """
    if (dockerfile is None) == (buildpacks is None):
        raise ValueError("give exactly one of dockerfile and buildpacks")
    tags = further_tags(registries)
    install = buildx_setup() if dockerfile is not None or extra_builds else []
    if dockerfile is not None:
        build = buildx_build(dockerfile, tags)
    else:
        install, build = [*pack_install(), *install], pack_build(buildpacks, tags)  # type: ignore[arg-type]
    login, guarded, definitions = registry_login(), unless_image_exists(build), [image_definitions()]
    if registries:
        login = [*login, *registries_login(registries)]
        guarded = unless_image_in_registries(build, registries)
        definitions += registries_image_definitions(registries)
    return {
        "version": "0.2",
        "env": {"shell": "bash", "exported-variables": list(EXPORTED)},
        "phases": {
            "install": {"on-failure": "ABORT", "commands": install},
            "pre_build": {"on-failure": "ABORT", "commands": [*resolve_tag(), *login]},
            "build": {"on-failure": "ABORT", "commands": [guarded, *extra_builds]},
            "post_build": {"commands": definitions},
        },
        "artifacts": {"files": [IMAGE_DEFINITIONS, *map(image_definitions_file, registries or {})]},
    }


# --- the release task -----------------------------------------------------------------------------

# What register-task-definition accepts of what describe-task-definition returns.
_REGISTRABLE = (
    "family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
    "placementConstraints", "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode",
    "proxyConfiguration", "runtimePlatform", "ephemeralStorage",
)


def release_task_definition() -> list[str]:
    """Register a revision of the release family with the new image (run-task overrides cannot change it)."""
    return register_revision(family="TASK_FAMILY", container=naming.CONTAINER_NAME, image="IMAGE_URI",
                             result="TASK_DEFINITION", stem="release")


def register_revision(*, family: str, container: str, image: str, result: str, stem: str) -> list[str]:
    """Register a revision of the family in ``$family`` whose ``container`` runs the image in ``$image``; its ARN
    goes to ``result``. The release and the load-test gate both run tasks of the image just built this way.

    The revision keeps the family's tags (``describe-task-definition`` returns them only with ``--include
    TAGS``), except the ``aws:`` ones, which AWS sets itself and refuses from a caller.
    """
    keep = ", ".join(_REGISTRABLE)
    swap = (
        '(.tags // [] | map(select(.key | startswith("aws:") | not))) as $tags'
        f" | .taskDefinition | {{{keep}}}"
        " | .containerDefinitions |= map(if .name == $name then .image = $image else . end)"
        " | with_entries(select(.value != null))"
        " | if $tags == [] then . else .tags = $tags end"
    )
    return [
        f'aws ecs describe-task-definition --task-definition "${family}" --include TAGS --output json'
        f" > {stem}-current.json",
        f"jq --arg name {_q(container)} --arg image \"${image}\" {_q(swap)} {stem}-current.json"
        f" > {stem}-taskdef.json",
        f"{result}=$(aws ecs register-task-definition --cli-input-json file://{stem}-taskdef.json"
        " --query taskDefinition.taskDefinitionArn --output text)",
        f'echo "{stem} task definition: ${result}"',
    ]


def release_network() -> list[str]:
    """The environment's private subnets and app security group, as the platform publishes them in SSM."""
    return [
        'SUBNETS=$(aws ssm get-parameter --name "$SUBNETS_PARAMETER" --query Parameter.Value --output text)',
        'SECURITY_GROUP=$(aws ssm get-parameter --name "$SECURITY_GROUP_PARAMETER" --query Parameter.Value'
        " --output text)",
    ]


def container_overrides(command: str, *, buildpacks: bool = False) -> str:
    """run-task's --overrides: the release command, through a shell as the processes' commands are (in a
    buildpacks image, as the one argument of the one-off task definition's ``launcher`` entry point)."""
    return json.dumps(
        {"containerOverrides": [{"name": naming.CONTAINER_NAME,
                                 "command": shell_command(command, buildpacks=buildpacks)}]},
        separators=(",", ":"),
    )


def release_run(command: str, *, wait_rounds: int, buildpacks: bool = False) -> list[str]:
    """Run the release task, wait for it to stop (bounded) and fail unless the app container exited 0.

    A release still running after the rounds fails the step; ``release_cleanup`` then stops it, so that a
    retry never runs a second migration beside the first against the same database.
    """
    network = "awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$SECURITY_GROUP],assignPublicIp=DISABLED}"
    rounds = " ".join(str(i) for i in range(1, wait_rounds + 1))
    return [
        'TASK_ARN=$(aws ecs run-task --cluster "$CLUSTER" --task-definition "$TASK_DEFINITION" --launch-type FARGATE'
        f' --network-configuration "{network}" --overrides {_q(container_overrides(command, buildpacks=buildpacks))}'
        " --started-by shipway-release --query 'tasks[0].taskArn' --output text)",
        f'[ "${{TASK_ARN:-None}}" != None ] || {_fail("run-task started no release task")}',
        'echo "release task: $TASK_ARN"',
        # Each waiter round polls for 10 minutes; the rounds bound a long migration. The loop itself never
        # fails: the verdict reads where the task is after the last round (a failing last wait would end the
        # step here, leaving a still-running task unexplained).
        f'for _ in {rounds}; do if aws ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "$TASK_ARN"; then break;'
        " fi; done",
        *release_verdict(),
    ]


def release_verdict() -> list[str]:
    """Read the task: fail when it still runs after the wait; otherwise go on only when the app container exited 0."""
    timeout = _fail_expanding(
        "the release task is still $RELEASE_STATUS after the release timeout; the step stops it, nothing is deployed"
    )
    return [
        'aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK_ARN" --output json > release-task.json',
        "RELEASE_STATUS=$(jq --raw-output '.tasks[0].lastStatus // \"UNKNOWN\"' release-task.json)",
        f'[ "$RELEASE_STATUS" = STOPPED ] || {timeout}',
        *judge_release("release-task.json"),
    ]


def read_stop(described: str, *, container: str, prefix: str, label: str) -> list[str]:
    """Why a task of a ``describe-tasks`` document stopped, printed and kept in variables for the message:
    ``<prefix>_EXIT`` (``container``'s exit code, ``none`` when it has none: killed, or never started),
    ``<prefix>_REASON`` (the container's reason, e.g. ``OutOfMemoryError: ...``), ``<prefix>_STOPPED`` (the task's)."""
    given = 'select(. != null and . != "")'  # ECS leaves a reason out; moto leaves it empty
    of_container = f"[.tasks[0].containers[] | select(.name == $name) | {{field}} | {given}][0] // {{default}}"
    fields = (
        ("EXIT", of_container.format(field=".exitCode", default='"none"')),
        ("REASON", of_container.format(field=".reason", default='"-"')),
        ("STOPPED", f'(.tasks[0].stoppedReason | {given}) // "-"'),
    )
    return [
        *[f"{prefix}_{key}=$(jq --raw-output --arg name {_q(container)} {_q(query)} {_q(described)})"
          for key, query in fields],
        f'echo "{label} stopped: ${prefix}_STOPPED; container {container}: exit code ${prefix}_EXIT,'
        f' reason: ${prefix}_REASON"',
    ]


def judge_release(described: str) -> list[str]:
    """The verdict on a ``describe-tasks`` document: print why the task stopped, fail unless exit code 0."""
    failed = _fail_expanding(
        "the release command failed (exit code $RELEASE_EXIT, reason: $RELEASE_REASON; task stopped:"
        " $RELEASE_STOPPED); nothing is deployed"
    )
    return [
        *read_stop(described, container=naming.CONTAINER_NAME, prefix="RELEASE", label="release task"),
        f'[ "$RELEASE_EXIT" = 0 ] || {failed}',
        'echo "release exited $RELEASE_EXIT"',
    ]


def release_cleanup() -> list[str]:
    """Always: a release task that has not stopped (a timeout, a failed wait, a build stopped by hand) is stopped
    and waited for, so no retry runs a second one beside it. A task that already stopped is left alone."""
    status = ('aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK_ARN"'
              " --query 'tasks[0].lastStatus' --output text")
    unstopped = _fail_expanding(
        "could not stop the release task $TASK_ARN: stop it before a retry runs another"
        " (aws ecs stop-task --cluster $CLUSTER --task $TASK_ARN)"
    )
    return [
        'if [ -n "${TASK_ARN:-}" ] && [ "$TASK_ARN" != None ] && [ "$(' + status + ')" != STOPPED ]; then'
        ' echo "stopping the release task $TASK_ARN";'
        ' if ! { aws ecs stop-task --cluster "$CLUSTER" --task "$TASK_ARN" --reason "shipway: the release step ended'
        ' before the task stopped" > /dev/null && aws ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "$TASK_ARN"; };'
        f" then {unstopped}; fi; fi",
    ]


def release_build_spec(command: str, *, wait_rounds: int, buildpacks: bool = False) -> dict:
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {
            "build": {
                "on-failure": "ABORT",
                "commands": [*release_task_definition(), *release_network(),
                             *release_run(command, wait_rounds=wait_rounds, buildpacks=buildpacks)],
                "finally": release_cleanup(),
            },
        },
    }


# --- going live: the first image in an environment ---------------------------------------------------

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def script_command(name: str) -> str:
    """One command that runs ``shipway/scripts/<name>`` with bash: the shell lives in its file (checked by
    shellcheck) and is carried into the buildspec whole, so CodeBuild needs no source of its own."""
    return f"bash -c {_q((SCRIPTS / name).read_text())} {_q(name)}"


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


def record_tag() -> list[str]:
    """Write the tag just deployed where ``<name>-<app>-<env>`` reads it, so ``cdk deploy`` keeps it."""
    return [
        'aws ssm put-parameter --name "$IMAGE_TAG_PARAMETER" --value "$IMAGE_TAG" --overwrite',
        'echo "recorded $IMAGE_TAG in $IMAGE_TAG_PARAMETER"',
    ]


def record_build_spec() -> dict:
    return {"version": "0.2", "env": {"shell": "bash"}, "phases": {"build": {"commands": record_tag()}}}
