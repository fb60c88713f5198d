"""Every stack of the shipped spec and of tests/specs/minimal.yaml, as JSON snapshots (syrupy).

The byte-identity net for refactors: a change that moves one property of one resource fails here with the
diff. When the change is meant, ``pytest tests/test_snapshots.py --snapshot-update`` rewrites the snapshots
and the reviewer reads the diff of ``tests/__snapshots__/test_snapshots/``. A stack that appears fails (no
snapshot yet); one that disappears leaves an unused snapshot, which syrupy reports as a failure.

Masked: content hashes that CDK computes from something other than the template's own meaning. Read off
the templates, there are none today: shipway's stacks have no assets (shipway/standalone/reusable.py refuses
them), so no asset hash, no asset parameter and no Lambda code key appears. Should one appear, every SHA-256
digest in a string value is masked, except the digests shipway pins on purpose (``PINNED_DIGESTS``: a pin that
moves is a change a reviewer reads). Logical IDs are NOT masked: they are the contract that
tests/test_pinned_ids.py pins for stateful resources, and the snapshot holds them for every other resource.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from shipway import defaults

SHA256 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
PINNED_DIGESTS = frozenset({defaults.PACK_SHA256})
MASK = "<sha256>"


def mask_hashes(*, data: Any, path: Any) -> Any:
    """A syrupy matcher: every SHA-256 digest in a string value, except a pinned one, becomes ``<sha256>``."""
    if isinstance(data, str):
        return SHA256.sub(lambda m: m.group() if m.group() in PINNED_DIGESTS else MASK, data)
    return data


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("spec", ["shipped", "minimal"])
def test_every_stack_matches_its_snapshot(request, snapshot_json, spec):
    templates = request.getfixturevalue(spec).templates()
    for stack, template in sorted(templates.items()):
        assert template == snapshot_json(name=stack, matcher=mask_hashes), f"{stack} changed"


def test_an_asset_hash_is_masked_and_a_pinned_digest_and_logical_ids_are_not():
    asset = "a" * 64
    template = {"Resources": {"Handler886CB40B": {"Properties": {
        "Code": {"S3Key": f"{asset}.zip"},
        "Checksum": defaults.PACK_SHA256,
    }}}}
    masked = JSONSnapshotExtension().serialize(template, matcher=mask_hashes)
    assert f'"{MASK}.zip"' in masked and asset not in masked
    assert defaults.PACK_SHA256 in masked
    assert "Handler886CB40B" in masked
