"""Policy defaults: the images, tools and fixed timings shipway chooses for its users, in one place.

What a user may change lives in the spec (shipway/spec/model.py, the one home of user defaults). What is here is
shipway's own choice, the same for every spec: move a pin forward here, once, and every construct follows.

The last section holds the values of the spec's defaults that a construct offers too, read by both the spec field
and the construct's keyword default, so the two cannot drift. Plain values, no CDK: the spec imports this module,
and reading a spec never starts Node.
"""

from __future__ import annotations

from typing import Final

# The CodeBuild image of every project shipway creates (build, release, gate, go-live, record steps): a
# CodeBuild-managed image ID (``codebuild.LinuxBuildImage.from_code_build_image_id``).
BUILD_IMAGE = "aws/codebuild/standard:7.0"

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

# --- user defaults a construct shares with the spec --------------------------------------------------------------

# ``database`` of an environment (spec ``Database``) and the ``Database`` construct.
DATABASE_VERSION: Final = "17"
DATABASE_INSTANCE_TYPE: Final = "db.t4g.micro"
DATABASE_STORAGE_GB: Final = 20
DATABASE_MULTI_AZ: Final = False
DATABASE_BACKUP_RETENTION_DAYS: Final = 7
DATABASE_LOG_RETENTION_DAYS: Final = 30
# ``database.rotation_days`` and ``AppDatabase``'s ``rotation_days``.
DATABASE_ROTATION_DAYS: Final = 30
# An app's ``log_retention_days`` and the retention of the log group ``AppDatabase`` creates when given none.
APP_LOG_RETENTION_DAYS: Final = 30
