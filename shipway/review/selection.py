"""Reviewing some apps of a fleet: which stacks both sides synthesize, and which the review compares.

``make review APP=web`` and ``shipway review -a web`` synthesize only web's stacks on both sides, so the review
of one app costs the same among 50 apps as alone. The platform and data stacks join them when the change can
touch them: when the spec outside ``apps`` differs between the base and the head, when shipway's own code
(anything that shapes a template) differs, or when the base spec cannot be read. Other apps' stacks are never
compared: a change to shipway's code may change them too, and reviewing every app is the review without APP.

``python -m shipway.review.selection --base-ref REF --spec SPEC APP...`` prints the ``cdk synth`` arguments
for the head (the Makefile's ``make review APP=...``).
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from ..assembly import StackTemplate
from ..selection import Selection
from ..spec import Spec, SpecError, load_spec
from .base_ref import ROOT
from .cost import spec_at_ref

# What shapes a template: the CDK app and its pins. The command line and the review itself do not.
TEMPLATE_SOURCES = ("shipway", "app.py", "cdk.json", "package.json", "package-lock.json", "requirements.txt",
                    ":(exclude)shipway/cli", ":(exclude)shipway/review")


def code_changed(ref: str, root: Path = ROOT) -> bool:
    """Whether the checkout's template sources (tracked files, working copy) differ from ``ref``'s."""
    result = subprocess.run(["git", "-C", str(root), "diff", "--quiet", ref, "--", *TEMPLATE_SOURCES],
                            capture_output=True, check=False)
    return result.returncode != 0  # 1: they differ; anything else: git could not tell, so assume they do


def _base_spec(ref: str, spec: Path, root: Path) -> Spec | None:
    try:
        return spec_at_ref(ref, spec, root)
    except SpecError:
        return None


def review_selection(apps: list[str], *, spec: Path, base_ref: str | None, root: Path = ROOT) -> Selection:
    """The selection for reviewing ``apps``; with no base ref to compare with, the platform is always in."""
    if base_ref is None:
        return Selection.of(apps, platform=True)
    try:
        head = load_spec(spec)
    except SpecError:
        return Selection.of(apps, platform=True)
    base = _base_spec(base_ref, spec, root)
    touched = (code_changed(base_ref, root) or base is None
               or base.model_dump(exclude={"apps"}) != head.model_dump(exclude={"apps"}))
    return Selection.of(apps, platform=touched)


def base_context(selection: Selection, *, spec: Path, base_ref: str, root: Path = ROOT) -> list[str]:
    """The ``cdk synth`` arguments for the base: only the selected apps that the base has (an app new in the
    change has no stacks there). A base older than the selection ignores them and builds everything; the
    review then compares only the selected stacks (:func:`only`)."""
    base = _base_spec(base_ref, spec, root)
    if base is None or selection.apps is None:
        return selection.context_args()
    apps = tuple(name for name in selection.apps if name in base.apps)
    # An empty assembly is no assembly to the CDK CLI: with none of the apps at the base, build its platform.
    return Selection(apps=apps, platform=selection.platform or not apps).context_args()


def selected_stacks(selection: Selection, *, spec: Path, base_ref: str | None, root: Path = ROOT) -> set[str]:
    """The stack names the review compares: the selection's, from the head's spec and the base's."""
    names = set(selection.stack_names(load_spec(spec)))
    base = _base_spec(base_ref, spec, root) if base_ref else None
    if base is not None:
        names |= set(selection.stack_names(base))
    return names


def only(stacks: dict[str, StackTemplate], names: set[str]) -> dict[str, StackTemplate]:
    return {name: stack for name, stack in stacks.items() if name in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shipway.review.selection", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-ref", required=True, metavar="GIT_REF")
    parser.add_argument("--spec", type=Path, default=Path("shipway.yaml"))
    parser.add_argument("apps", nargs="+", metavar="APP")
    args = parser.parse_args(argv)
    print(" ".join(review_selection(args.apps, spec=args.spec, base_ref=args.base_ref).context_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
