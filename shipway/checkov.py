"""checkov, the second scanner: each check a resource fails on purpose is skipped in its metadata, with a reason.

checkov reads ``Metadata.checkov.skip: [{id, comment}]`` on a CloudFormation resource and reports the check as
skipped there. ``make test`` holds every template of every spec to zero failed checks, and holds each skip to a
real finding (``tests/test_gates.py``), as the cdk-nag acknowledgements are held (``shipway/nag.py``).
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

METADATA_KEY = "checkov"


def skip(scope: IConstruct, check_id: str, comment: str) -> None:
    """Skip ``check_id`` (e.g. ``CKV_AWS_18``) on ``scope``'s CloudFormation resource, saying why."""
    if not comment.strip():
        raise ValueError(f"skipping {check_id} needs a written reason")
    resource = scope if isinstance(scope, cdk.CfnResource) else scope.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise TypeError(f"{scope.node.path} has no CloudFormation resource to carry a checkov skip")
    metadata = resource.get_metadata(METADATA_KEY) or {"skip": []}
    if all(entry["id"] != check_id for entry in metadata["skip"]):
        metadata["skip"].append({"id": check_id, "comment": comment})
    resource.add_metadata(METADATA_KEY, metadata)
