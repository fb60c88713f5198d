"""Synthesizing some apps of a spec (shipway.selection): the same templates as in the full synth, nothing else.

The per-app review (``shipway diff -a APP``, ``make review APP=...``) rests on this: an app's stacks read the
platform through SSM parameters, so they synthesize alone to the bytes they have among all the others.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest

from shipway.review.selection import base_context, review_selection, selected_stacks
from shipway.selection import Selection, SelectionError
from shipway.spec import load_spec
from shipway.synth import ROOT, synthesize

from .conftest import SHIPPED, SPECS


def _templates(outdir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in outdir.glob("*.template.json")}


def test_one_app_alone_synthesizes_to_the_bytes_of_the_full_synth(shipped, tmp_path):
    alone = synthesize(load_spec(SHIPPED), tmp_path, selection=Selection(apps=("blog",), platform=False))
    full, selected = _templates(shipped.outdir), _templates(alone.outdir)
    assert sorted(selected) == [
        "acme-blog-production.template.json", "acme-blog-staging.template.json", "acme-blog.template.json",
    ]
    for name, body in selected.items():
        assert body == full[name], name
    # The other app's stacks and the platform and data stacks are absent, and so are the deploy-order
    # dependencies on them; the app's own order (pipeline before runtime) stays.
    dependencies = {stack.stack_name: sorted(d.stack_name for d in stack.dependencies)
                    for stack in alone.app.node.children if isinstance(stack, cdk.Stack)}
    assert dependencies == {"acme-blog": [], "acme-blog-staging": ["acme-blog"], "acme-blog-production": ["acme-blog"]}


def test_the_selection_comes_from_cdk_context_as_the_cli_passes_it():
    app = cdk.App(context={"apps": "web, api", "platform": "false"})
    assert Selection.from_context(app.node) == Selection(apps=("web", "api"), platform=False)
    assert Selection.from_context(cdk.App().node) == Selection()
    assert Selection.of(["web,api"], platform=False).context_args() == ["-c", "apps=web,api", "-c", "platform=false"]


def test_an_unknown_app_is_one_line_naming_the_apps_there_are():
    with pytest.raises(SelectionError, match=r"no app named nope in acme's spec \(its apps: minne, blog\)"):
        Selection(apps=("nope",)).check(load_spec(SHIPPED))


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _app(name: str) -> str:
    return (f"  {name}:\n    source: {{codecommit: {name}}}\n"
            f"    processes:\n      web: {{port: 8080, hosts: [{name}.example.com]}}\n")


@pytest.fixture
def repo(tmp_path) -> Path:
    """A repository with a spec of two apps and a stand-in for shipway's code, committed as the base."""
    spec = (SPECS / "minimal.yaml").read_text() + _app("other")
    (tmp_path / "shipway.yaml").write_text(spec)
    (tmp_path / "shipway").mkdir()
    (tmp_path / "shipway" / "stacks.py").write_text("# the CDK app\n")
    (tmp_path / "shipway" / "cli").mkdir()
    (tmp_path / "shipway" / "cli" / "verbs.py").write_text("# the command line\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    return tmp_path


def _select(repo: Path, *apps: str) -> Selection:
    return review_selection(list(apps), spec=repo / "shipway.yaml", base_ref="HEAD", root=repo)


def test_reviewing_an_app_leaves_the_platform_out_while_the_change_is_inside_apps(repo):
    spec = repo / "shipway.yaml"
    spec.write_text(spec.read_text().replace("codecommit: hello", "codecommit: hello2"))
    (repo / "shipway" / "cli" / "verbs.py").write_text("# a new verb: no template changes\n")
    assert _select(repo, "hello") == Selection(apps=("hello",), platform=False)
    assert selected_stacks(_select(repo, "hello"), spec=spec, base_ref="HEAD", root=repo) == {
        "tiny-hello", "tiny-hello-dev",
    }


def test_reviewing_an_app_adds_the_platform_when_the_spec_outside_apps_changes(repo):
    spec = repo / "shipway.yaml"
    spec.write_text(spec.read_text().replace("dev: {}", "dev: {network: {nat_gateways: 2}}"))
    assert _select(repo, "hello").platform
    assert "tiny-dev-platform" in selected_stacks(_select(repo, "hello"), spec=spec, base_ref="HEAD", root=repo)


def test_reviewing_an_app_adds_the_platform_when_shipways_code_changes(repo):
    (repo / "shipway" / "stacks.py").write_text("# the CDK app, changed\n")
    assert _select(repo, "hello").platform


def test_an_app_new_in_the_change_is_left_out_of_the_base_synth(repo):
    spec = repo / "shipway.yaml"
    spec.write_text(spec.read_text() + _app("fresh"))
    both = _select(repo, "hello", "fresh")
    assert base_context(both, spec=spec, base_ref="HEAD", root=repo) == ["-c", "apps=hello", "-c", "platform=false"]
    # With none of the apps at the base, the base builds its platform (the CDK CLI wants a stack) to be ignored.
    fresh = _select(repo, "fresh")
    assert base_context(fresh, spec=spec, base_ref="HEAD", root=repo) == ["-c", "apps="]
    assert selected_stacks(fresh, spec=spec, base_ref="HEAD", root=repo) == {"tiny-fresh", "tiny-fresh-dev"}


def test_the_review_of_one_app_synthesizes_and_compares_only_its_stacks(tmp_path, capsys):
    """``python -m shipway.review --base-ref HEAD --app api``, as ``make review APP=api`` runs it: the base is
    synthesized by the ref's own app.py under the CDK CLI with the selection's context, the head in-process."""
    from shipway.review.__main__ import main

    spec = (SPECS / "cli-roundtrip.yaml").relative_to(ROOT)
    selection = review_selection(["api"], spec=spec, base_ref="HEAD")
    synthesize(load_spec(spec), tmp_path / "head", selection=selection)
    assert main(["--base-ref", "HEAD", "--spec", str(spec), "--head", str(tmp_path / "head"), "--app", "api"]) == 0
    report = capsys.readouterr().out
    assert all(name in report for name in ("odd-api", "odd-api-staging", "odd-api-production"))
    assert "odd-jobs" not in report and "odd-batch" not in report
