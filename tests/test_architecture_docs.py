"""docs/architecture.md's diagrams are drawn from the code (scripts/architecture.py) and kept current."""

from __future__ import annotations

import sys

from shipway.synth import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import architecture

sys.path.remove(str(ROOT / "scripts"))

# The CDK app and the layers it is built from (README, "How we write code").
CDK_APP = {"app", "stacks", "constructs", "props", "spec"}


def test_the_doc_holds_the_generated_diagrams(minimal):
    doc = (ROOT / "docs" / "architecture.md").read_text()
    assert doc == architecture.rewrite(doc, minimal.outdir), "stale: run .venv/bin/python scripts/architecture.py"


def test_the_stack_graph_shows_publishers_readers_and_the_pipelines_run_time_writes(minimal):
    from shipway.assembly import read_assembly

    graph = architecture.stack_graph(read_assembly(minimal.outdir).values(), "tiny")
    assert '(["dev/vpc/id"])' in graph and '[["tiny-dev-data"]]' in graph
    assert "-- publishes -->" in graph and "-. read at deploy .->" in graph
    assert '== "Delivery/Record/Role writes at run time" ==>' in graph


def test_the_cdk_app_never_imports_the_cli():
    edges = architecture.import_edges()
    reached, frontier = set(CDK_APP), set(CDK_APP)
    while frontier:
        frontier = {b for a, b in edges if a in frontier} - reached
        reached |= frontier
    assert "cli" not in reached, sorted(reached)
    assert ("cli", "review") in edges  # the walk sees real imports
