"""CodeBuild's way of running a buildspec (0.2), as one bash script: shared by the emulated deploy (e2e/) and the
pipeline-script tests (tests/codebuild.py).

A phase's commands run one after another in one shell and the phase stops at the first command that fails; the
phase's ``finally`` commands then run, under the same rule; a failed phase ends the build (``on-failure: ABORT``,
what shipway's buildspecs declare or, with one phase, never need).
"""

from __future__ import annotations

PHASES = ("install", "pre_build", "build", "post_build")


def buildspec_script(spec: dict) -> str:
    """One bash script that runs ``spec``'s phases with CodeBuild's rules (see the module's docstring)."""
    lines = ["status=0"]
    for phase in PHASES:
        body = spec.get("phases", {}).get(phase)
        if body is None:
            continue
        for part in ("commands", "finally"):
            lines.append(f"phase_{phase}_{part}() {{")
            lines += [f"  {command} || return $?" for command in body.get(part, [])] or ["  :"]
            lines.append("}")
        lines += [
            'if [ "$status" = 0 ]; then',
            f"  phase_{phase}_commands; s=$?",
            f'  if [ "$s" != 0 ]; then echo "[codebuild] {phase}: a command failed with status $s" >&2; status=$s; fi',
            f"  phase_{phase}_finally; s=$?",
            f'  if [ "$s" != 0 ]; then echo "[codebuild] {phase} finally: a command failed with status $s" >&2;'
            ' [ "$status" != 0 ] || status=$s; fi',
            "fi",
        ]
    lines.append('exit "$status"')
    return "\n".join(lines) + "\n"
