"""Which properties of a resource type force a replacement: the CloudFormation registry schemas cfn-lint ships.

cfn-lint carries the registry's resource provider schemas for every region (``cfnlint/data/schemas``: one
index per region, ``providers/<region>.json``, pointing at ``resources/<hash>.json``). Its schema manager
reads and caches them; we ask it instead of parsing its data layout ourselves.

``createOnlyProperties`` are JSON pointers such as ``/properties/DBInstanceIdentifier`` or
``/properties/EncryptionConfiguration/KmsKey``; ``*`` stands for every element of a list. Changing one
replaces the resource. ``conditionalCreateOnlyProperties`` replace it only for some values (an RDS instance's
``BackupRetentionPeriod`` going to or from 0, for example).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from cfnlint.schema.manager import ResourceNotFoundError

# Templates without a region are deployable anywhere; us-east-1 has every resource type first.
DEFAULT_REGION = "us-east-1"

Pointer = tuple[str, ...]


@dataclass(frozen=True)
class Replacement:
    """The create-only properties of one resource type; ``known`` is False for types no schema describes."""

    create_only: tuple[Pointer, ...]
    conditional: tuple[Pointer, ...]
    # The properties that name the resource (its primaryIdentifier), e.g. DBInstanceIdentifier, BucketName.
    identifier: tuple[Pointer, ...] = ()
    known: bool = True


def _pointers(schema: dict, key: str) -> tuple[Pointer, ...]:
    pointers = []
    for pointer in schema.get(key, []):
        parts = tuple(pointer.strip("/").split("/"))
        if parts and parts[0] == "properties" and len(parts) > 1:
            pointers.append(parts[1:])
    return tuple(pointers)


@cache
def replacement(resource_type: str, region: str | None = None) -> Replacement:
    """The pointers (below ``Properties``) whose change replaces a ``resource_type`` resource."""
    for where in dict.fromkeys((region or DEFAULT_REGION, DEFAULT_REGION)):
        try:
            schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(where, resource_type).schema
        except ResourceNotFoundError:
            continue
        return Replacement(
            _pointers(schema, "createOnlyProperties"),
            _pointers(schema, "conditionalCreateOnlyProperties"),
            _pointers(schema, "primaryIdentifier"),
        )
    return Replacement((), (), known=False)
