"""The cost section of the review: the base's spec read from git or given, the change per environment and per
line, and --max-monthly-increase failing the review above it (or when a side cannot be priced)."""

from __future__ import annotations

import subprocess
from decimal import Decimal as D
from pathlib import Path

import yaml

from shipway.catalog.prices import prices_table
from shipway.review.__main__ import main
from shipway.review.cost import cost_review, spec_at_ref

from .conftest import SPECS

MINIMAL = (SPECS / "minimal.yaml").read_text()
P = prices_table()["regions"]["us-east-1"]
NAT = D(730) * (P["nat_gateway"]["hour"] + P["public_ipv4_hour"])  # one NAT gateway and its Elastic IP


def _edited(path: Path, edit) -> Path:
    data = yaml.safe_load(MINIMAL)
    edit(data)
    path.write_text(yaml.safe_dump(data))
    return path


def _two_nat_gateways(data):
    data["environments"]["dev"]["network"] = {"max_azs": 2, "nat_gateways": 2}


def _repo(tmp_path: Path) -> Path:
    """A git repository whose HEAD has the minimal spec; the working copy adds a NAT gateway."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "shipway.yaml").write_text(MINIMAL)
    subprocess.run([*git, "add", "shipway.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    _edited(repo / "shipway.yaml", _two_nat_gateways)
    return repo


def test_the_base_spec_is_read_at_the_ref(tmp_path):
    repo = _repo(tmp_path)
    assert spec_at_ref("HEAD", repo / "shipway.yaml", root=repo).environments["dev"].network.nat_gateways == 1
    outside = tmp_path / "outside.yaml"
    outside.write_text(MINIMAL)
    assert spec_at_ref("HEAD", outside, root=repo).name == "tiny"  # not in the repository: the same file


def test_one_more_nat_gateway_shows_its_cost_per_environment_and_line(tmp_path):
    repo = _repo(tmp_path)
    review = cost_review(repo / "shipway.yaml", region="us-east-1", base_ref="HEAD", root=repo)
    assert review.blocking is None
    text = review.markdown
    increase = f"+${NAT.quantize(D('0.01')):,}"
    # the minimal spec's dev, as tests/test_cost.py prices it by hand (with hello's own database secret)
    assert f"| dev | $100.81 | ${D('100.81') + NAT.quantize(D('0.01')):,} | {increase} |" in text
    assert "| (pipelines) | $16.90 | $16.90 | ±$0.00 |" in text
    assert "| **total** |" in text and text.count(increase) >= 2
    assert "| dev | NAT gateways | $32.85 | $65.70 | +$32.85 |" in text
    assert "| dev | Public IPv4 addresses | $10.95 | $14.60 | +$3.65 |" in text


def test_max_monthly_increase_fails_above_it_and_passes_within(tmp_path):
    repo = _repo(tmp_path)
    over = cost_review(repo / "shipway.yaml", region="us-east-1", base_ref="HEAD", root=repo,
                       max_increase=NAT - D("0.01"))
    assert over.blocking == (f"the change adds ${NAT.quantize(D('0.01'))} a month, above --max-monthly-increase "
                             f"${(NAT - D('0.01')).quantize(D('0.01'))}")
    assert f"**⛔ {over.blocking}.**" in over.markdown
    within = cost_review(repo / "shipway.yaml", region="us-east-1", base_ref="HEAD", root=repo, max_increase=NAT)
    assert within.blocking is None and "within --max-monthly-increase" in within.markdown


def test_an_unpriced_side_fails_a_budget_rather_than_passing_it(tmp_path):
    repo = _repo(tmp_path)
    review = cost_review(repo / "shipway.yaml", region="eu-west-3", base_ref="HEAD", root=repo,
                         max_increase=D(1000))
    assert review.blocking and "have no price, so the increase cannot be checked" in review.blocking


def test_the_review_command_appends_the_cost_and_fails_on_it(minimal, tmp_path):
    """`python -m shipway.review --base ... --base-spec ...`: the same assemblies, a spec change in cost only."""
    base_spec = tmp_path / "base.yaml"
    base_spec.write_text(MINIMAL)
    head_spec = _edited(tmp_path / "head.yaml", _two_nat_gateways)
    args = ["--base", str(minimal.outdir), "--head", str(minimal.outdir), "--base-spec", str(base_spec),
            "--spec", str(head_spec), "--output", str(tmp_path / "review.md")]
    assert main(args) == 0
    text = (tmp_path / "review.md").read_text()
    assert "**✅ No stateful resource is destroyed" in text and "### Monthly cost" in text
    assert main([*args, "--max-monthly-increase", "10"]) == 1
    assert "**⛔ the change adds $36.50 a month, above --max-monthly-increase $10.00.**" in \
        (tmp_path / "review.md").read_text()
    assert main([*args, "--max-monthly-increase", "40"]) == 0


def test_without_a_base_spec_there_is_no_cost_section(minimal, tmp_path, capsys):
    out = tmp_path / "review.md"
    assert main(["--base", str(minimal.outdir), "--head", str(minimal.outdir), "--output", str(out)]) == 0
    assert "Monthly cost" not in out.read_text()


def test_a_base_spec_the_model_no_longer_reads_is_reported_and_fails_a_budget(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "shipway.yaml").write_text(MINIMAL + "retired_key: 1\n")
    subprocess.run([*git, "add", "shipway.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    (repo / "shipway.yaml").write_text(MINIMAL)
    review = cost_review(repo / "shipway.yaml", region="us-east-1", base_ref="HEAD", root=repo)
    assert review.blocking is None
    assert "⚠ the base spec cannot be priced: HEAD:shipway.yaml:" in review.markdown
    assert "unknown key 'retired_key'" in review.markdown
    budget = cost_review(repo / "shipway.yaml", region="us-east-1", base_ref="HEAD", root=repo, max_increase=D(5))
    assert budget.blocking.startswith("cost unknown: the base spec cannot be priced")
    assert f"**⛔ {budget.blocking}.**" in budget.markdown
