"""`apps:create` and `apps:destroy` against moto's server on 127.0.0.1, and `synth` / `review` offline."""

from __future__ import annotations

import pytest

from shipway import naming
from tests import emulator
from tests.cli.conftest import synth_templates


def test_apps_create_writes_a_new_app_that_synthesizes(shop, tmp_path):
    before = shop.spec_path.read_text()
    unplaced = shop.run("apps:create", "admin", "--host", "admin.example.com", "--no-apply")
    assert unplaced.exit_code == 2 and "--host admin.example.com: give ENV=HOST" in unplaced.stderr
    assert shop.spec_path.read_text() == before
    result = shop.run("apps:create", "admin", "--host", "staging=admin.staging.example.com",
                      "--host", "production=admin.example.com", "--port", "3000", "--no-apply")
    assert result.exit_code == 0, result.output
    assert "cdk deploy shop-admin shop-admin-staging shop-admin-production creates it" in result.stdout
    text = shop.spec_path.read_text()
    assert text.startswith(before)  # nothing above the new app changed
    assert text[len(before):] == (
        "  admin:\n"
        "    source:\n"
        "      codecommit: admin\n"
        "      branch: main\n"
        "    build:\n"
        "      dockerfile: Dockerfile\n"
        "    processes:\n"
        "      web:\n"
        "        port: 3000\n"
        "        hosts:\n"
        "          staging: [admin.staging.example.com]\n"
        "          production: [admin.example.com]\n"
    )
    templates = synth_templates(shop.spec_path, tmp_path)
    assert {"shop-admin", "shop-admin-staging", "shop-admin-production"} <= set(templates)
    again = shop.run("apps:create", "admin", "--no-apply")
    assert (again.exit_code, again.stderr) == (2, "shipway: the spec already has an app 'admin'\n")


def test_apps_destroy_says_what_is_kept_and_deletes_the_stacks(shop):
    refused = shop.run("apps:destroy", "store")
    assert refused.exit_code == 2 and "--confirm store" in refused.stderr
    result = shop.run("apps:destroy", "store", "--confirm", "store")
    assert result.exit_code == 0, result.output
    kept = [line.strip() for line in result.stderr.splitlines() if line.strip().startswith("kept: ")]
    # the review guard's view: every stateful resource of the app's stacks is retained, none destroyed
    assert [k.split(" (")[0] for k in kept] == [
        "kept: AWS::ECR::Repository shop/store", "kept: AWS::ECR::Repository shop/store/build-cache",
        "kept: AWS::CodeCommit::Repository store", "kept: AWS::KMS::Key", "kept: AWS::S3::Bucket",
        "kept: AWS::Logs::LogGroup /shipway/shop/apps/store/pipeline",
        "kept: AWS::Logs::LogGroup /shipway/shop/store/staging",
        "kept: AWS::SecretsManager::Secret",  # the app's database secret: its database and role stay in PostgreSQL
        "kept: AWS::Logs::LogGroup /shipway/shop/store/production",
        "kept: AWS::SecretsManager::Secret",
    ]
    assert result.stdout.startswith("Destroyed app store: deleted shop-store-staging, shop-store-production, "
                                    f"shop-store; kept {len(kept)} resource(s) with data in ")
    assert "store" not in shop.edited().apps
    names = {s["StackName"] for s in emulator.client("cloudformation").list_stacks(
        StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"]}
    assert names == {"shop-staging-platform", "shop-staging-data", "shop-production-platform", "shop-production-data"}


def test_synth_writes_the_assembly_and_one_line_per_stack(spec_copy, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from shipway.cli import cli

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["synth", "--spec", str(spec_copy), "-o", "out"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.stdout.splitlines()[:-1]]
    assert names == ["shop-staging-platform", "shop-staging-data", "shop-production-platform",
                     "shop-production-data", "shop-store", "shop-store-staging", "shop-store-production"]
    assert (tmp_path / "out" / "shop-store-staging.template.json").exists()
    assert result.stdout.splitlines()[-1].startswith("Synthesized 7 stacks into out in ")


def test_review_fails_when_data_would_be_lost(spec_copy, tmp_path, monkeypatch, deployed_synth):
    from click.testing import CliRunner

    from shipway.cli import cli

    monkeypatch.chdir(tmp_path)
    spec_copy.write_text(spec_copy.read_text().replace("name: shop", "name: shoq"))  # every stack renamed
    result = CliRunner().invoke(cli, ["review", "--spec", str(spec_copy), "--base", str(deployed_synth.outdir)],
                                catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert naming.app_stack("shop", "store") in result.stdout


def test_review_prices_the_change_and_fails_above_the_allowed_increase(spec_copy, tmp_path, monkeypatch,
                                                                       deployed_synth):
    from click.testing import CliRunner

    from shipway.cli import cli
    from tests.cli.conftest import CLI_SPEC

    monkeypatch.chdir(tmp_path)
    spec_copy.write_text(spec_copy.read_text().replace("  production: {}",
                                                       "  production: {network: {nat_gateways: 2}}"))
    args = ["review", "--spec", str(spec_copy), "--base", str(deployed_synth.outdir), "--base-spec", str(CLI_SPEC),
            "--markdown", str(tmp_path / "review.md")]
    allowed = CliRunner().invoke(cli, [*args, "--max-monthly-increase", "1000"], catch_exceptions=False)
    assert allowed.exit_code == 0, allowed.output
    assert "the monthly cost rises by at most $1000" in allowed.output
    assert "| production |" in (tmp_path / "review.md").read_text()  # the change is priced per environment
    refused = CliRunner().invoke(cli, [*args, "--max-monthly-increase", "1"], catch_exceptions=False)
    assert refused.exit_code == 1, refused.output


def test_diff_runs_the_pinned_cdk_cli_against_the_deployed_stack(shop, tmp_path):
    """The real CDK CLI, pointed at the emulator by AWS_ENDPOINT_URL, compares the synthesized stack with the
    deployed one (the emulator's placeholder stack: so every resource shows as added, the placeholder removed)."""
    import os
    import subprocess
    import sys

    from shipway.synth import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "shipway", "diff", "--spec", str(shop.spec_path), "-o", str(tmp_path / "out"),
         "shop-store-staging"], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=600,
        check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr  # cdk diff prints to stderr
    assert "[-] AWS::SNS::Topic Placeholder destroy" in output
    assert "[+] AWS::ECS::Service web/Service/Service webService" in output


def test_diff_of_one_app_synthesizes_and_diffs_only_its_stacks(shop, tmp_path):
    """``diff -a store``: the store's pipeline and runtime stacks, no platform or data stack (shipway.selection),
    each diffed by the real CDK CLI against the emulator."""
    import os
    import subprocess
    import sys

    from shipway.synth import ROOT

    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "shipway", "diff", "--spec", str(shop.spec_path), "-o", str(out), "-a", "store"],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in out.glob("*.template.json")) == [
        "shop-store-production.template.json", "shop-store-staging.template.json", "shop-store.template.json"]
    output = result.stdout + result.stderr
    assert "Stack shop-store-staging" in output
    assert "shop-staging-platform" not in output and "shop-staging-data" not in output


def test_apps_create_applies_through_cdk_deploy_and_reports_its_failure_in_one_line(shop):
    """The apply path runs the real, pinned CDK CLI against the emulator. An emulated account is not bootstrapped
    (and moto's CloudFormation cannot create these stacks), so the deploy fails: the verb says so in one line,
    exit 1, and the spec keeps the new app for the next cdk deploy."""
    import os
    import subprocess
    import sys

    from shipway.synth import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "shipway", "apps:create", "admin", "--spec", str(shop.spec_path)],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("shipway: cdk deploy of shop-admin, shop-admin-staging, shop-admin-production failed")
    assert "Traceback" not in result.stderr
    assert "Has the environment been bootstrapped?" in result.stdout + result.stderr  # the CLI reached the account
    assert "Including dependency stacks" not in result.stdout + result.stderr  # only the app's stacks
    assert "admin" in shop.edited().apps


@pytest.mark.parametrize("ci", [None, "true"], ids=["terminal", "CI"])
def test_diff_drops_the_acknowledged_info_and_keeps_the_diff_and_its_exit_code(shop, tmp_path, ci: str | None):
    """cdk diff prints the assembly's annotations on stderr, and the diff on stderr too, or on stdout when CI is
    set: the deployment-alarm INFO that ``make synth`` drops (shipway.acknowledged) is dropped here too, the diff
    is kept where the CLI puts it, and ``--fail`` still exits 1 on changes."""
    import os
    import subprocess
    import sys

    from shipway.synth import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "shipway", "diff", "--spec", str(shop.spec_path), "-o", str(tmp_path / "out"),
         "-a", "store", "--fail"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
        env={k: v for k, v in os.environ.items() if k != "CI"} | ({"CI": ci} if ci else {}))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-2000:]
    assert result.stderr.endswith("shipway: cdk diff exited 1\n")
    assert "Deployment alarm" not in output and "Annotation::info-annotation" not in output
    diff = result.stdout if ci else result.stderr
    assert "[+] AWS::ECS::Service web/Service/Service webService" in diff
    assert "Number of stacks with differences: 3" in diff
