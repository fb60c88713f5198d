"""Synthesize another git ref of this repository (the base of a review) with this checkout's toolchain.

``git archive`` writes the ref's tree into a temporary directory (no second worktree to clean up, nothing
in the user's checkout touched); ``.venv`` and ``node_modules`` are symlinked from this checkout, and the
ref's own ``app.py`` and ``cdk.json`` run under ``cdk synth``.

The spec: when ``spec`` is a path inside the repository that exists at the ref, the ref's own copy is
used, because that is what was deployed from the ref; otherwise (a spec kept outside the repository, or
new in the change under review) the same file is used for both sides.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class BaseRefError(Exception):
    """The ref cannot be read or synthesized; the message says which and why."""


def synthesize_ref(ref: str, outdir: Path, *, spec: Path, root: Path = ROOT, context: Sequence[str] = ()) -> Path:
    """Synthesize ``ref`` with ``spec`` into ``outdir`` and return ``outdir``; ``context`` adds ``cdk synth``
    arguments (``-c apps=web``: :mod:`.selection`)."""
    archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", ref],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        raise BaseRefError(f"git archive {ref}: {archive.stderr.decode().strip()}")
    with tempfile.TemporaryDirectory(prefix="shipway-review-") as tmp:
        tree = Path(tmp)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tree, filter="data")
        for toolchain in (".venv", "node_modules"):
            os.symlink((root / toolchain).resolve(), tree / toolchain)
        spec = Path(spec)
        inside = None if spec.is_absolute() else tree / spec
        spec_for_ref = inside if inside is not None and inside.exists() else spec.resolve()
        result = subprocess.run(
            [str(root / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", "-c", f"spec={spec_for_ref}",
             "--output", str(Path(outdir).resolve()), *context],
            cwd=tree, capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise BaseRefError(f"cdk synth of {ref} failed:\n{result.stderr.strip()}")
    return Path(outdir)
