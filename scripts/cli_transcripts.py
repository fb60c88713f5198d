"""Regenerate the transcripts in docs/cli.md: each verb run against moto's server on 127.0.0.1.

    .venv/bin/python scripts/cli_transcripts.py            # rewrites docs/cli.md in place

The emulator is seeded the way the tests seed it (tests/emulator.py): what a deploy of tests/specs/cli.yaml
holds, a pipeline history, a few log lines and one worker task short. Every block between
``<!-- transcript: ARGS -->`` and the closing fence is replaced by ``$ shipway ARGS`` and what the verb printed
(stdout and stderr, as a terminal shows them). moto's random IDs are seeded, so reruns differ only in times.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from click.testing import CliRunner  # noqa: E402

from shipway import naming  # noqa: E402
from shipway.cli import cli  # noqa: E402
from shipway.spec import load_spec  # noqa: E402
from shipway.synth import synthesize  # noqa: E402
from tests import emulator  # noqa: E402
from tests.conftest import SPECS, free_port  # noqa: E402

BLOCK = re.compile(r"(<!-- transcript: (?P<args>[^>]*) -->\n```console\n)(?P<body>.*?)(```)", re.DOTALL)


def seed(spec, synthesized) -> None:
    emulator.deploy(spec, synthesized)
    emulator.pipeline_history(spec, "store", [("9f2c61d" + "0" * 33, "Succeeded"), ("4b7e0aa" + "1" * 33, "Failed"),
                                               (emulator.IMAGE_TAG, "Succeeded")])
    emulator.set_running(spec, "store", "staging", "worker", 1)
    group = naming.log_group(spec.name, "store", "staging")
    now = int(time.time() * 1000) - 5000
    emulator.put_logs(group, "store-web/app/5f0c2a9e81d34b7c", [
        "Puma starting in single mode...", "* Listening on http://0.0.0.0:8080",
        'GET /healthz 200 0.8ms', 'GET /cart 200 41.2ms'], now)
    emulator.put_logs(group, "store-worker/app/c41d9b0e7a2f4e66", ["processing order 1042", "order 1042 done"],
                      now + 100)


def transcript(args: list[str], env: dict[str, str]) -> str:
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    output = result.output.replace(env["SHIPWAY_SPEC_DIR"], ".")
    code = f"\n[exit {result.exit_code}]" if result.exit_code else ""
    return f"$ shipway {shlex.join(args)}\n{output.rstrip()}{code}\n"


def main(argv: list[str]) -> int:
    doc = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "cli.md"
    text = doc.read_text()
    spec = load_spec(SPECS / "cli.yaml")
    with tempfile.TemporaryDirectory(prefix="shipway-transcripts-") as tmp:
        workdir = Path(tmp)
        synthesized = synthesize(spec, workdir / "cdk.out")
        shutil.copy(SPECS / "cli.yaml", workdir / "shipway.yaml")
        with emulator.emulator(free_port()) as endpoint:
            urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/seed?a=42", method="POST")).close()
            seed(spec, synthesized)
            env = {"SHIPWAY_SPEC": str(workdir / "shipway.yaml"), "SHIPWAY_SPEC_DIR": str(workdir)}
            cwd = os.getcwd()
            os.chdir(workdir)
            try:
                text = BLOCK.sub(lambda m: m[1] + transcript(shlex.split(m["args"]), env) + m[4], text)
            finally:
                os.chdir(cwd)
    doc.write_text(text)
    print(f"{doc}: {len(BLOCK.findall(text))} transcripts")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
