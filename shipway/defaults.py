"""Policy defaults: the images, tools and fixed timings shipway chooses for its users, in one place.

What a user may change lives in the spec (shipway/spec/model.py, the one home of user defaults). What is here is
shipway's own choice, the same for every spec: move a pin forward here, once, and every construct follows.
"""

from __future__ import annotations

from aws_cdk import aws_codebuild as codebuild

# The CodeBuild image of every project shipway creates (build, release, gate, go-live, record steps).
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0

# pack, the Cloud Native Buildpacks CLI, pinned with the SHA-256 of its linux/amd64 release archive
# (as listed for this release by cashapp/hermit-packages' pack manifest).
PACK_VERSION = "0.38.2"
PACK_SHA256 = "a00765572b7d464b1691d64fd264d9a807b066a7e7805db32b9918d9be16e228"
PACK_URL = f"https://github.com/buildpacks/pack/releases/download/v{PACK_VERSION}/pack-v{PACK_VERSION}-linux.tgz"

# The client that provisions app databases: psql of the newest major RDS creates (it speaks to every older
# server), from ECR Public's copy of Docker's official image, so no Docker Hub rate limit applies. A tag, not a
# digest: move it forward deliberately.
PROVISION_IMAGE = "public.ecr.aws/docker/library/postgres:18.1-bookworm"

# CNCF distribution 2.x from ECR Public's mirror of Docker's official image, pinned by tag.
REGISTRY_IMAGE = "public.ecr.aws/docker/library/registry:2.8.3"
# registry:2 no longer ships htpasswd; Apache's image does. It writes the password file and exits.
HTPASSWD_IMAGE = "public.ecr.aws/docker/library/httpd:2.4.62-alpine"
