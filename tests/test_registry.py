"""The S3 registry for real: Debian's docker-registry on moto's S3 server, an OCI image in and out with skopeo.

Everything runs on 127.0.0.1 and is stopped at the end; the image is built here, byte by byte, so nothing is
pulled from the internet. The registry runs the config ``registry_config`` renders for the ECS service, pointed
at moto instead of AWS, with a password file written by the same ``htpasswd`` command the task's init container
runs (Debian's apache2-utils here, Apache's image there).

What this cannot show: the ALB in front (TLS with the environment's certificate, the host and source-address
rules) and ECS pulling with repository credentials; the templates' tests hold those.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from shipway.constructs.registry import htpasswd_command, registry_config

from .conftest import free_port

pytestmark = pytest.mark.system

DOCKER_REGISTRY = "/usr/bin/docker-registry"
BUCKET = "shipway-registry-test"
REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
USER, PASSWORD = "shipway", "Secrets-Manager-made-this-0123456789"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def wait_for(url: str, timeout: float = 30) -> None:
    """Until the API root answers: 401 with its challenge, since every request needs the password."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as error:
            if error.code == 401:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200 within {timeout}s")
        time.sleep(0.2)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_oci_layout(directory: Path, tag: str) -> dict[str, bytes]:
    """A one-layer OCI image at ``directory`` under ``tag``; returns its blobs by digest."""
    files = io.BytesIO()
    with tarfile.open(fileobj=files, mode="w", format=tarfile.PAX_FORMAT) as tar:
        body = b"hello from shipway's registry test\n"
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(body), 0, 0o644
        tar.addfile(info, io.BytesIO(body))
    layer_tar = files.getvalue()
    layer = gzip.compress(layer_tar, mtime=0)
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/cat", "/hello.txt"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer_tar)]},
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha256(layer),
                    "size": len(layer)}],
    }, sort_keys=True).encode()
    blobs = {sha256(b): b for b in (layer, config, manifest)}
    (directory / "blobs" / "sha256").mkdir(parents=True)
    for digest, data in blobs.items():
        (directory / "blobs" / "sha256" / digest.removeprefix("sha256:")).write_bytes(data)
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (directory / "index.json").write_text(json.dumps({
        "schemaVersion": 2,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": sha256(manifest), "size": len(manifest),
                       "annotations": {"org.opencontainers.image.ref.name": tag}}],
    }))
    return blobs


@pytest.fixture
def registry(moto_s3, tmp_path) -> Iterator[tuple[str, object]]:
    """docker-registry serving on loopback with the rendered config; yields its address and an S3 client."""
    for tool in (DOCKER_REGISTRY, "skopeo", "htpasswd"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is missing: run `make system` (scripts/install-system-packages.sh)")
    s3 = boto3.client("s3", endpoint_url=moto_s3, region_name=REGION,
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket=BUCKET)
    address = f"127.0.0.1:{free_port()}"
    htpasswd = tmp_path / "htpasswd"
    subprocess.run(["bash", "-c", htpasswd_command("REGISTRY_USERNAME", "REGISTRY_PASSWORD", str(htpasswd))],
                   env={"PATH": os.environ["PATH"], "REGISTRY_USERNAME": USER, "REGISTRY_PASSWORD": PASSWORD},
                   check=True, timeout=60)
    assert htpasswd.read_text().startswith(f"{USER}:$2y$"), "a bcrypt entry, the only kind distribution reads"
    config = tmp_path / "config.yml"
    config.write_text(registry_config(
        bucket=BUCKET, region=REGION, address=address, endpoint=moto_s3, force_path_style=True, secure=False,
        htpasswd=str(htpasswd),
    ))
    # The registry panics with LoadCustomCABundleError while AWS_CA_BUNDLE is set: unset it for it alone.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | CREDENTIALS
    log = (tmp_path / "registry.log").open("wb")
    process = subprocess.Popen([DOCKER_REGISTRY, "serve", str(config)], env=env, stdout=log, stderr=log)
    try:
        try:
            wait_for(f"http://{address}/v2/")
        except TimeoutError:
            process.terminate()
            process.wait(timeout=10)
            pytest.fail("docker-registry did not come up:\n" + (tmp_path / "registry.log").read_text()[-4000:])
        yield address, s3
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def skopeo(tmp_path: Path, *args: str, ok: bool = True) -> str:
    """Run skopeo with no credentials of its own (no auth file), so only what ``args`` gives is presented."""
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "REGISTRY_AUTH_FILE": str(tmp_path / "no-auth.json")}
    result = subprocess.run(["skopeo", "--policy", str(policy), *args], capture_output=True, text=True,
                            timeout=120, check=False, env=env)
    assert (result.returncode == 0) == ok, result.stderr
    return result.stderr


CREDS = f"{USER}:{PASSWORD}"


def test_anonymous_or_wrong_password_pushes_and_pulls_are_refused(registry, tmp_path):
    address, s3 = registry
    source = tmp_path / "source"
    write_oci_layout(source, "v1")
    for creds in ([], [f"--dest-creds={USER}:not-the-password"]):
        refused = skopeo(tmp_path, "copy", "--dest-tls-verify=false", *creds,
                         f"oci:{source}:v1", f"docker://{address}/test/img:v1", ok=False)
        assert "unauthorized" in refused.lower() or "401" in refused, refused
    # Nothing reached the bucket.
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    # With the password it goes in; without, nobody reads it back.
    skopeo(tmp_path, "copy", "--dest-tls-verify=false", f"--dest-creds={CREDS}",
           f"oci:{source}:v1", f"docker://{address}/test/img:v1")
    refused = skopeo(tmp_path, "copy", "--src-tls-verify=false", f"docker://{address}/test/img:v1",
                     f"oci:{tmp_path / 'copy'}:v1", ok=False)
    assert "unauthorized" in refused.lower() or "401" in refused, refused
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"http://{address}/v2/test/img/tags/list", timeout=5)
    assert anonymous.value.code == 401
    assert anonymous.value.headers["WWW-Authenticate"].startswith('Basic realm="shipway-registry"')


def test_an_image_goes_into_s3_through_the_registry_and_comes_back_the_same(registry, tmp_path):
    address, s3 = registry
    source, copy = tmp_path / "source", tmp_path / "copy"
    blobs = write_oci_layout(source, "v1")
    (manifest_digest,) = [d for d, b in blobs.items() if OCI_MANIFEST.encode() in b]

    skopeo(tmp_path, "copy", "--preserve-digests", "--dest-tls-verify=false", f"--dest-creds={CREDS}",
           f"oci:{source}:v1", f"docker://{address}/test/img:v1")
    skopeo(tmp_path, "copy", "--preserve-digests", "--src-tls-verify=false", f"--src-creds={CREDS}",
           f"docker://{address}/test/img:v1", f"oci:{copy}:v1")

    index = json.loads((copy / "index.json").read_text())
    assert [m["digest"] for m in index["manifests"]] == [manifest_digest]
    for digest, data in blobs.items():
        assert (copy / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes() == data, digest

    # The bytes live in the bucket, under distribution's layout, written with SSE-S3 (the config's encrypt).
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    for digest, data in blobs.items():
        hexdigest = digest.removeprefix("sha256:")
        key = f"docker/registry/v2/blobs/sha256/{hexdigest[:2]}/{hexdigest}/data"
        assert key in keys, key
        stored = s3.get_object(Bucket=BUCKET, Key=key)
        assert stored["Body"].read() == data
        assert stored.get("ServerSideEncryption") == "AES256"
    tag = "docker/registry/v2/repositories/test/img/_manifests/tags/v1/current/link"
    assert s3.get_object(Bucket=BUCKET, Key=tag)["Body"].read().decode() == manifest_digest
