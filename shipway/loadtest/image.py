"""The load-test image: a Dockerfile FROM a pinned Locust image, and the build stage's commands for it.

The image holds the app's locustfile directory and shipway's gate (the modules the master's entry point
runs). The build commands write the build context — the rendered Dockerfile and those modules — from a
deterministic archive embedded in them, so the image carries the gate of the shipway that synthesized
the pipeline, whatever the app's repository holds.
"""

from __future__ import annotations

import base64
import gzip
import io
import posixpath
import tarfile
from pathlib import Path

from .. import naming, templates

LOCUST_VERSION = "2.47.0"  # the same Locust as the extra shipway[loadtest]: the loopback runner's
LOCUST_IMAGE = f"locustio/locust:{LOCUST_VERSION}"
BOTO3_VERSION = "1.44.5"  # the same boto3 as requirements-dev.txt, which the tests run the master with
APP_ROOT = "/mnt/app"  # where the app's files live in the image; the locustfile path is relative to it
CONTEXT = ".shipway-loadtest"
CACHE_TAG = "loadtest"

# The modules the master container runs (python -m shipway.loadtest.task): standard library and boto3 only.
GATE_MODULES = ("__init__.py", "loadtest/__init__.py", "loadtest/commands.py", "loadtest/gate.py", "loadtest/task.py")
PACKAGE = Path(__file__).resolve().parent.parent


def locustfile_in_image(locustfile: str) -> str:
    return posixpath.join(APP_ROOT, locustfile)


def dockerfile(locustfile: str) -> str:
    locust_dir = posixpath.dirname(locustfile)
    return templates.package_environment().get_template("loadtest/Dockerfile.j2").render(
        locust_image=LOCUST_IMAGE, boto3_version=BOTO3_VERSION, locust_dir=locust_dir,
        app_dir=posixpath.join(APP_ROOT, locust_dir).rstrip("/"), app_root=APP_ROOT,
    )


def context_archive(locustfile: str) -> bytes:
    """A gzipped tar of the Dockerfile and the gate modules; the same bytes for the same inputs."""
    files = {"Dockerfile": dockerfile(locustfile).encode()}
    files |= {f"shipway/{name}": (PACKAGE / name).read_bytes() for name in GATE_MODULES}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            tar.addfile(info, io.BytesIO(files[name]))
    return gzip.compress(raw.getvalue(), mtime=0)


def build_commands(locustfile: str) -> list[str]:
    """Shell commands of the build stage that build and push ``$LOADTEST_REPOSITORY_URI:$IMAGE_TAG``.

    They expect IMAGE_TAG (the commit), the app's IMAGE_REPOSITORY_URI and IMAGE_REPOSITORY_NAME (the
    load-test repository's are those plus ``naming.LOADTEST_REPOSITORY_SUFFIX``), CACHE_REPOSITORY_URI, a
    registry login and a buildx builder that can export a registry cache. Each step is its own command
    (CodeBuild checks each one's status; a pipe would hide a failure).
    """
    return templates.shell_commands(
        "loadtest/image.sh.j2", archive=base64.b64encode(context_archive(locustfile)).decode(), context=CONTEXT,
        locustfile=locustfile, app_context=posixpath.dirname(locustfile) or ".", cache_tag=CACHE_TAG,
        suffix=naming.LOADTEST_REPOSITORY_SUFFIX,
    )
