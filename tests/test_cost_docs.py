"""docs/cost.md shows the shipped example's estimate as `shipway cost` prints it."""

from __future__ import annotations

from click.testing import CliRunner

from shipway.cli import cli
from shipway.cost.example import BEGIN, END, REGION, ROOT, generated, rewrite


def test_the_doc_holds_the_real_output():
    doc = (ROOT / "docs" / "cost.md").read_text()
    assert doc == rewrite(doc), "run: make cost-docs"
    block = doc.partition(BEGIN)[2].partition(END)[0]
    printed = CliRunner().invoke(cli, ["cost", "--spec", str(ROOT / "shipway.yaml"), "--region", REGION,
                                       "--format", "markdown"]).output
    assert block.strip() == printed.strip() == generated().strip()
    assert "### Heroku equivalent" in block and "### Per environment, beside Heroku" in block
