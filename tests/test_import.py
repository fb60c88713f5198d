"""`shipway import copilot|heroku`: fixtures written from Copilot's manifest schema and a Heroku Rails app import to
specs that validate, synthesize (cdk-nag inside) and pass cfn-lint; the report lists exactly what did not carry
over; bad input gets one line naming the file and field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from shipway.cli import cli
from shipway.importers.copilot import import_copilot
from shipway.importers.heroku import import_heroku
from shipway.importers.report import ImportFailure
from shipway.importers.schedules import ScheduleError, eventbridge
from shipway.importers.sizes import dyno_size, fargate_size
from shipway.importers.writer import render
from shipway.spec import load_spec, parse_spec
from shipway.spec.vocabulary import FARGATE_MEMORY
from shipway.synth import synthesize

from .lint import cfn_lint

FIXTURES = Path(__file__).parent / "fixtures"
SHOP = FIXTURES / "copilot" / "shop"
RAILS = FIXTURES / "heroku" / "rails"


def _write(result, path: Path) -> Path:
    path.write_text(render(result.spec, result.comments, ["# imported"]))
    return path


@pytest.fixture(scope="session")
def shop():
    return import_copilot(SHOP, region="us-east-2", account="123456789012")


@pytest.fixture(scope="session")
def rails():
    return import_heroku(RAILS, config=RAILS / "config.json", ps=RAILS / "ps.json",
                         scheduler=RAILS / "scheduler.json", hosts=("books.example.com",))


@pytest.fixture(scope="session")
def shop_synthesized(shop, tmp_path_factory):
    spec = load_spec(_write(shop, tmp_path_factory.mktemp("shop-spec") / "shipway.yaml"))
    return synthesize(spec, tmp_path_factory.mktemp("shop-out"))


@pytest.fixture(scope="session")
def rails_synthesized(rails, tmp_path_factory):
    spec = load_spec(_write(rails, tmp_path_factory.mktemp("rails-spec") / "shipway.yaml"))
    return synthesize(spec, tmp_path_factory.mktemp("rails-out"))


# --- Copilot -------------------------------------------------------------------------------------


def test_copilot_workspace_synthesizes_and_passes_cfn_lint(shop_synthesized):
    assert sorted(shop_synthesized.templates()) == sorted([
        "shop-test-platform", "shop-test-data", "shop-prod-platform", "shop-prod-data",
        "shop-frontend", "shop-frontend-test", "shop-frontend-prod", "shop-api", "shop-api-test", "shop-api-prod",
    ])
    assert cfn_lint(shop_synthesized.outdir) == []


def test_copilot_services_become_processes_of_the_app_that_builds_their_image(shop):
    apps = shop.spec["apps"]
    assert list(apps) == ["frontend", "api"]
    assert apps["frontend"]["build"] == {"dockerfile": "web/Dockerfile"}
    assert apps["api"]["build"] == {"dockerfile": "Dockerfile"}
    web = apps["frontend"]["processes"]["frontend"]
    # Copilot's alias serves every environment; shipway routes a name in one: prod keeps it, test gets its own
    assert web["hosts"] == {"test": ["test.shop.example.com"], "prod": ["shop.example.com"]}
    assert web["port"] == 8080 and web["size"] == "2x"
    assert web["count"] == 2
    assert web["autoscale"] == {"min": 2, "max": 10, "cpu": 70, "requests_per_target": 500,
                                "scale_in_cooldown": 60, "scale_out_cooldown": 30}
    assert (web["health_check"], web["healthy_threshold"], web["health_check_interval"]) == ("/_healthcheck", 3, 10)
    assert (web["health_check_timeout"], web["health_check_grace"], web["deregistration_delay"]) == (5, 60, 10)
    api = apps["api"]["processes"]
    assert api["api"] == {"command": "bundle exec puma -C config/puma.rb", "port": 3000,
                          "size": {"cpu": 1024, "memory": 3072}, "count": 2}
    assert api["worker"] == {"command": "bundle exec sidekiq", "size": "1x", "count": 2, "capacity": "fargate-spot"}
    assert "hosts" not in api["api"] and "hosts" not in api["worker"]


def test_copilot_jobs_become_cron_with_eventbridge_schedules(shop):
    assert shop.spec["apps"]["api"]["cron"] == {
        "digest": {"schedule": "cron(30 9 ? * 2-6 *)", "command": "bundle exec rails mail:digest", "size": "1x"},
        "report": {"schedule": "cron(0 0 * * ? *)", "command": "bundle exec rails reports:nightly", "size": "1x"},
    }


def test_copilot_environments_pipeline_and_secrets(shop):
    envs = shop.spec["environments"]
    assert list(envs) == ["test", "prod"]  # the pipeline's stage order
    assert envs["test"] == {"network": {"max_azs": 2, "nat_gateways": 2}}
    assert envs["prod"]["router"]["certificate_arn"].endswith("13245665-aaaa-bbbb-cccc-adf876af9500")
    assert envs["prod"]["log_retention_days"] == 30
    frontend = shop.spec["apps"]["frontend"]
    assert frontend["source"]["repository"] == "acme/shop" and frontend["source"]["branch"] == "main"
    assert frontend["deploy"] == {"strategy": "rolling", "approve_before": "prod"}
    # references, never values: SSM parameter names and Secrets Manager names become ARNs
    assert frontend["secrets"] == {
        "GITHUB_TOKEN": "arn:aws:ssm:us-east-2:123456789012:parameter/GITHUB_TOKEN",
        "STRIPE_KEY": "arn:aws:secretsmanager:us-east-2:123456789012:secret:shop/stripe",
    }
    assert frontend["config"] == {"LOG_LEVEL": "info", "NEW_CHECKOUT": "false"}


def test_copilot_report_lists_exactly_the_fields_not_carried_over(shop):
    assert shop.report.fields() == [
        ("copilot/environments/prod/manifest.yml", "network.vpc.cidr"),
        ("copilot/environments/prod/manifest.yml", "http.public.ingress"),
        ("copilot/environments/prod/manifest.yml", "cdn"),
        ("copilot/environments/test/manifest.yml", "network.vpc.subnets.public"),
        ("copilot/environments/test/manifest.yml", "network.vpc.subnets.private"),
        ("copilot/pipelines/release/manifest.yml", "stages[0].test_commands"),
        ("copilot/pipelines/release/manifest.yml", "build"),
        ("copilot/api/manifest.yml", "image.healthcheck"),
        ("copilot/api/manifest.yml", "secrets.DB_SECRET"),
        ("copilot/api/manifest.yml", "environments.test.count"),
        ("copilot/api/manifest.yml", "network.connect"),
        ("copilot/frontend/manifest.yml", "http.stickiness"),
        ("copilot/frontend/manifest.yml", "environments.prod.count.range"),
        ("copilot/frontend/manifest.yml", "environments.prod.variables.LOG_LEVEL"),
        ("copilot/report/manifest.yml", "retries"),
        ("copilot/report/manifest.yml", "timeout"),
        ("copilot/worker/manifest.yml", "subscribe"),
        ("copilot/api/addons/db.yml", "Resources.dbDBSubnetGroup"),
        ("copilot/api/addons/db.yml", "Resources.dbAuroraSecret"),
        ("copilot/api/addons/db.yml", "Resources.dbDBClusterParameterGroup"),
        ("copilot/api/addons/db.yml", "Resources.dbDBCluster"),
        ("copilot/api/addons/db.yml", "Resources.dbDBWriterInstance"),
    ]
    assert [(n.file, n.field) for n in shop.report.notes] == [
        ("copilot/pipelines/release/manifest.yml", "source.properties.connection_name"),
        ("copilot/api/manifest.yml", "cpu/memory"),
        ("copilot/frontend/manifest.yml", "http.alias"),  # prod keeps shop.example.com, test gets its own name
    ]
    line = next(f for f in shop.report.unmapped if f.field == "environments.prod.count.range")
    assert line.line() == ("copilot/frontend/manifest.yml: environments.prod.count.range = 4-20: shipway deploys one "
                           "definition of an app to every environment; keep one value for all environments (the "
                           "base value is in the spec)")


def test_every_copilot_field_is_mapped_or_reported(tmp_path):
    """Nothing is dropped silently: a field no table knows still gets a line."""
    workspace = tmp_path / "ws"
    shutil.copytree(SHOP, workspace)
    manifest = workspace / "copilot" / "worker" / "manifest.yml"
    manifest.write_text(manifest.read_text() + "some_future_field: {answer: 42}\n")
    result = import_copilot(workspace)
    line = next(f for f in result.report.unmapped if f.field == "some_future_field")
    assert (line.file, line.value, line.why) == ("copilot/worker/manifest.yml", '{"answer": 42}',
                                                 "shipway has no counterpart for this field")


def test_copilot_without_region_and_account_says_the_arns_hold_placeholders(tmp_path):
    result = import_copilot(SHOP)
    assert result.spec["apps"]["frontend"]["secrets"]["GITHUB_TOKEN"] == (
        "arn:aws:ssm:us-east-1:000000000000:parameter/GITHUB_TOKEN")
    assert ("copilot/frontend/manifest.yml", "secrets.GITHUB_TOKEN") in [(n.file, n.field) for n in
                                                                        result.report.notes]


def test_the_cli_writes_the_spec_and_the_report(tmp_path):
    out, report = tmp_path / "shipway.yaml", tmp_path / "report.md"
    result = CliRunner().invoke(cli, ["import", "copilot", str(SHOP), "-o", str(out), "--report", str(report),
                                      "--region", "us-east-2", "--account", "123456789012"])
    assert result.exit_code == 0, result.output
    assert "22 field(s) of the Copilot workspace" in result.output
    assert f"wrote {out}: it validates" in result.output
    text = out.read_text()
    assert text.startswith("# shipway.yaml imported from the Copilot application 'shop'")
    assert "schedule: cron(0 0 * * ? *) # Copilot: @daily" in text
    assert "# rounded up from Copilot's cpu 1024, memory 3000" in text
    assert "| copilot/worker/manifest.yml | `subscribe` |" in report.read_text()
    again = CliRunner().invoke(cli, ["import", "copilot", str(SHOP), "-o", str(out)])
    assert again.exit_code == 1 and "already exists; pass --force" in again.output


# --- bad Copilot input ---------------------------------------------------------------------------


def _broken(tmp_path: Path, relative: str, text: str | None) -> Path:
    workspace = tmp_path / "ws"
    shutil.copytree(SHOP, workspace)
    target = workspace / relative
    if text is None:
        target.unlink()
    else:
        target.write_text(text)
    return workspace


@pytest.mark.parametrize(("relative", "text", "line"), [
    ("copilot/.workspace", None, "copilot/.workspace: no such file"),
    ("copilot/worker/manifest.yml", "name: worker\ntype: Worker Service\nimage: [build: Dockerfile\n",
     "copilot/worker/manifest.yml:4: YAML syntax: "),
    ("copilot/worker/manifest.yml", "name: worker\ntype: Queue Processor\n",
     "copilot/worker/manifest.yml: type: unknown workload type 'Queue Processor'; Copilot's are Load Balanced Web "
     "Service, Backend Service, Worker Service, Scheduled Job, Request-Driven Web Service, Static Site"),
    ("copilot/report/manifest.yml", "name: report\ntype: Scheduled Job\non:\n  schedule: '0 9 1 * 1'\n"
                                    "image: {build: Dockerfile}\ncommand: x\n",
     "copilot/report/manifest.yml: on.schedule: '0 9 1 * 1' cannot be converted to EventBridge: cron runs when "
     "either the day of month or the day of week matches"),
    ("copilot/report/manifest.yml", "name: report\ntype: Scheduled Job\non:\n  schedule: '@every 90s'\n"
                                    "image: {build: Dockerfile}\ncommand: x\n",
     "copilot/report/manifest.yml: on.schedule: '@every 90s' cannot be converted to EventBridge: EventBridge runs "
     "schedules in whole minutes, not every 90 s"),
    ("copilot/worker/manifest.yml", "name: worker\ntype: Worker Service\nimage: {build: Dockerfile}\ncpu: lots\n",
     "copilot/worker/manifest.yml: cpu: 'lots' is not a whole number"),
    ("copilot/frontend/manifest.yml", "name: frontend\ntype: Load Balanced Web Service\nimage: {build: Dockerfile}\n"
                                      "http: {alias: shop.example.com, deregistration_delay: soon}\n",
     "copilot/frontend/manifest.yml: http.deregistration_delay: 'soon' is not a duration such as 30s, 5m or 1h30m"),
    ("copilot/environments/prod/manifest.yml", "name: prod\ntype: Service\n",
     "copilot/environments/prod/manifest.yml: type: must be 'Environment', not 'Service'"),
])
def test_bad_copilot_input_gets_one_clear_line(tmp_path, relative, text, line):
    workspace = _broken(tmp_path, relative, text)
    with pytest.raises(ImportFailure) as failure:
        import_copilot(workspace)
    assert len(failure.value.problems) == 1
    assert failure.value.problems[0].startswith(line), failure.value.problems
    result = CliRunner().invoke(cli, ["import", "copilot", str(workspace), "-o", str(tmp_path / "out.yaml")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and line in result.output
    assert not (tmp_path / "out.yaml").exists()


# --- schedules and sizes -------------------------------------------------------------------------


@pytest.mark.parametrize(("copilot", "eventbridge_expression"), [
    ("@yearly", "cron(0 0 1 1 ? *)"),
    ("@monthly", "cron(0 0 1 * ? *)"),
    ("@weekly", "cron(0 0 ? * 1 *)"),
    ("@daily", "cron(0 0 * * ? *)"),
    ("@hourly", "cron(0 * * * ? *)"),
    ("@every 1h", "rate(1 hour)"),
    ("@every 30m", "rate(30 minutes)"),
    ("@every 1h30m", "rate(90 minutes)"),
    ("@every 48h", "rate(2 days)"),
    ("rate(5 minutes)", "rate(5 minutes)"),
    ("cron(0 12 * * ? *)", "cron(0 12 * * ? *)"),
    ("*/15 * * * *", "cron(*/15 * * * ? *)"),
    ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)"),
    ("0 9 * * 0,6", "cron(0 9 ? * 1,7 *)"),
    ("0 22 * * 5-7", "cron(0 22 ? * 6-7,1 *)"),
    ("0 3 1 * *", "cron(0 3 1 * ? *)"),
    ("0 3 * * MON", "cron(0 3 ? * MON *)"),
])
def test_schedules_convert_to_eventbridge(copilot, eventbridge_expression):
    assert eventbridge(copilot) == eventbridge_expression


@pytest.mark.parametrize("bad", ["@every 30s", "0 9 1 * 1", "rate(1 minutes)", "every day", "61 * * * *",
                                 "0 9 * * */2"])
def test_schedules_without_an_eventbridge_form_are_refused(bad):
    with pytest.raises(ScheduleError):
        eventbridge(bad)


def test_sizes_keep_fargate_pairs_and_round_the_rest_up():
    assert fargate_size(256, 512) == ("1x", False)
    assert fargate_size(4096, 8192) == ("16x", False)
    assert fargate_size(256, 2048) == ({"cpu": 256, "memory": 2048}, False)
    assert fargate_size(1024, 3000) == ({"cpu": 1024, "memory": 3072}, True)
    assert fargate_size(300, 512) == ({"cpu": 512, "memory": 1024}, True)
    assert dyno_size("Standard-1X") == ("1x", 512) and dyno_size("standard-2x") == ("2x", 1024)
    assert dyno_size("basic") == ("1x", 512) and dyno_size("Eco") == ("1x", 512)
    assert dyno_size("Performance-M") == ({"cpu": 512, "memory": 3072}, 2560)
    assert dyno_size("performance-l") == ({"cpu": 2048, "memory": 14336}, 14336)
    assert dyno_size("Performance-L-RAM") == ({"cpu": 4096, "memory": 30720}, 30720)
    assert dyno_size("performance-xl") == ({"cpu": 16384, "memory": 65536}, 63488)
    assert dyno_size("performance-2xl") == ({"cpu": 16384, "memory": 122880}, 129024)  # Fargate's most
    assert dyno_size("quantum-9x") is None


# --- Heroku --------------------------------------------------------------------------------------


def test_heroku_app_synthesizes_and_passes_cfn_lint(rails_synthesized):
    assert sorted(rails_synthesized.templates()) == sorted([
        "bookshelf-production-platform", "bookshelf-production-data", "bookshelf-bookshelf",
        "bookshelf-bookshelf-production",
    ])
    assert cfn_lint(rails_synthesized.outdir) == []


def test_heroku_processes_release_buildpacks_and_scheduler(rails):
    app = rails.spec["apps"]["bookshelf"]
    assert app["build"] == {"buildpacks": "heroku/builder:24"}
    assert app["release"] == "bundle exec rails db:migrate"
    assert app["processes"] == {
        "web": {"command": "bundle exec puma -C config/puma.rb", "port": 5000, "size": "2x", "count": 2,
                "hosts": ["books.example.com"]},
        "worker": {"command": "bundle exec sidekiq -C config/sidekiq.yml", "size": {"cpu": 512, "memory": 3072},
                   "count": 1},
    }
    assert app["cron"] == {
        "nightly-report": {"schedule": "cron(30 3 * * ? *)", "command": "bundle exec rails reports:nightly",
                           "size": "1x"},
        "sync-feeds": {"schedule": "cron(15 * * * ? *)", "command": "bundle exec rails feeds:sync"},
        "heartbeat": {"schedule": "rate(10 minutes)", "command": "bin/heartbeat"},
    }


def test_heroku_secrets_are_references_never_values(rails, tmp_path):
    app = rails.spec["apps"]["bookshelf"]
    assert sorted(app["secrets"]) == ["PAPERTRAIL_API_TOKEN", "REDIS_URL", "SECRET_KEY_BASE", "STRIPE_API_KEY"]
    assert app["secrets"]["REDIS_URL"] == "arn:aws:secretsmanager:us-east-1:000000000000:secret:bookshelf/REDIS_URL"
    assert app["config"] == {"RAILS_ENV": "production", "RAILS_SERVE_STATIC_FILES": "enabled",
                             "WEB_CONCURRENCY": "3", "LANG": "en_US.UTF-8", "RACK_ENV": "production",
                             "RAILS_LOG_TO_STDOUT": "enabled"}
    text = _write(rails, tmp_path / "shipway.yaml").read_text() + rails.report.text() + rails.report.markdown()
    for key, value in json.loads((RAILS / "config.json").read_text()).items():
        if key in app["secrets"] or key == "DATABASE_URL":
            assert value not in text, key


def test_heroku_report_lists_exactly_what_did_not_carry_over(rails):
    config = str(RAILS / "config.json")
    assert rails.report.fields() == [
        (config, "DATABASE_URL"),
        ("app.json", "addons[1]"),
        ("app.json", "scripts.postdeploy"),
    ]
    addons = {n.field: n.why for n in rails.report.notes if n.field.startswith("addons")}
    assert addons == {
        "addons[0]": "shipway equivalent: environments.<env>.database (RDS PostgreSQL); shipway sets DATABASE_URL",
        "addons[2]": "shipway equivalent: apps.<app>.cron (EventBridge Scheduler)",
        "addons[3]": "shipway equivalent: CloudWatch Logs: every process logs to the app's log group",
    }
    redis = next(f for f in rails.report.unmapped if f.field == "addons[1]")
    assert redis.why == "no shipway equivalent yet" and redis.todo.startswith("not yet")


def test_heroku_web_without_a_host_is_reported(tmp_path):
    result = import_heroku(RAILS)
    assert ("Procfile", "web") in result.report.fields()
    assert "hosts" not in result.spec["apps"]["bookshelf"]["processes"]["web"]


@pytest.mark.parametrize(("files", "line"), [
    ({"Procfile": None}, "Procfile: no such file"),
    ({"Procfile": "web bundle exec puma\n"}, "Procfile:1: expected `<process type>: <command>`"),
    ({"app.json": "{\"name\": \"bookshelf\",\n"}, "app.json:2: JSON syntax: "),
    ({"app.json": '{"name": "bookshelf", "formation": ["web"]}'}, "app.json: formation: must be a JSON object"),
    ({"scheduler.json": '[{"command": "x", "frequency": "every_week", "at": "01:00"}]'},
     "scheduler.json: [0].frequency: 'every_week' at '01:00' cannot be converted to EventBridge"),
])
def test_bad_heroku_input_gets_one_clear_line(tmp_path, files, line):
    app = tmp_path / "app"
    shutil.copytree(RAILS, app)
    for name, text in files.items():
        if text is None:
            (app / name).unlink()
        else:
            (app / name).write_text(text)
    with pytest.raises(ImportFailure) as failure:
        import_heroku(app, scheduler=app / "scheduler.json")
    assert len(failure.value.problems) == 1
    assert failure.value.problems[0].replace(str(app) + "/", "").startswith(line), failure.value.problems
    result = CliRunner().invoke(cli, ["import", "heroku", str(app), "--scheduler", str(app / "scheduler.json"),
                                      "-o", str(tmp_path / "out.yaml")])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_copilot_types_shipway_has_no_counterpart_for_are_reported_whole(tmp_path):
    workspace = tmp_path / "ws"
    shutil.copytree(SHOP, workspace)
    (workspace / "copilot" / "site").mkdir()
    (workspace / "copilot" / "site" / "manifest.yml").write_text("name: site\ntype: Static Site\nfiles: []\n")
    result = import_copilot(workspace)
    line = next(f for f in result.report.unmapped if f.file == "copilot/site/manifest.yml")
    assert (line.field, line.value) == ("type", "Static Site")
    assert "site" not in result.spec["apps"]


def test_a_spec_that_does_not_validate_is_written_and_its_problems_printed(tmp_path):
    """Two Copilot services on one alias: shipway refuses a host routed twice, and says where."""
    workspace = tmp_path / "ws"
    shutil.copytree(SHOP, workspace)
    api = workspace / "copilot" / "api" / "manifest.yml"
    api.write_text(api.read_text().replace("type: Backend Service", "type: Load Balanced Web Service")
                   + "http:\n  alias: shop.example.com\n")
    out = tmp_path / "shipway.yaml"
    result = CliRunner().invoke(cli, ["import", "copilot", str(workspace), "-o", str(out)])
    assert result.exit_code == 1
    assert f"{out} is written but does not validate yet:" in result.output
    assert ("apps.frontend.processes.frontend.hosts.test[0]: host 'test.shop.example.com' is already routed to "
            "apps.api.processes.api in environment test") in result.output
    assert out.exists() and "Traceback" not in result.output


# --- property: whatever Copilot allows, the spec validates and every field is mapped or reported --------------

HEALTH_FIELDS = {"healthy_threshold": st.integers(2, 10), "interval": st.sampled_from(["5s", "10s", "30s", "1m"]),
                 "timeout": st.sampled_from(["2s", "5s", "10s", "29s"]),
                 "grace_period": st.sampled_from(["0s", "60s", "5m", "15m"])}


@st.composite
def web_services(draw):
    cpu = draw(st.sampled_from(sorted(FARGATE_MEMORY)))
    memory = draw(st.integers(512, 122880))
    low = draw(st.integers(1, 10))
    service = {"name": "web", "type": "Load Balanced Web Service",
               "image": {"build": "Dockerfile", "port": draw(st.integers(1, 65535))},
               "http": {"path": "/", "alias": "web.example.com",
                        "healthcheck": {"path": "/health",
                                        **draw(st.fixed_dictionaries({}, optional=HEALTH_FIELDS))},
                        "deregistration_delay": draw(st.sampled_from(["0s", "5s", "30s", "60s", "300s"]))},
               "cpu": cpu, "memory": memory,
               "count": draw(st.one_of(st.integers(0, 20),
                                       st.fixed_dictionaries({"range": st.just(f"{low}-{low + 5}")},
                                                             optional={"cpu_percentage": st.integers(1, 100),
                                                                       "requests": st.integers(1, 10000)})))}
    return service


@given(web_services())
def test_any_web_service_imports_to_a_spec_that_validates(tmp_path_factory, service):
    workspace = tmp_path_factory.mktemp("ws")
    (workspace / "copilot" / "environments" / "dev").mkdir(parents=True)
    (workspace / "copilot" / ".workspace").write_text("application: prop\n")
    (workspace / "copilot" / "environments" / "dev" / "manifest.yml").write_text("name: dev\ntype: Environment\n")
    (workspace / "copilot" / "web").mkdir()
    (workspace / "copilot" / "web" / "manifest.yml").write_text(yaml.safe_dump(service))
    result = import_copilot(workspace)
    parse_spec(render(result.spec, result.comments, []), "prop.yaml")  # raises SpecError if it does not validate
    process = result.spec["apps"]["prop"]["processes"]["web"]
    reported = {f.field for f in result.report.unmapped}
    mapped = {"healthy_threshold": "healthy_threshold", "interval": "health_check_interval",
              "timeout": "health_check_timeout", "grace_period": "health_check_grace"}
    for key in service["http"]["healthcheck"]:
        if key != "path":
            assert (mapped[key] in process) != (f"http.healthcheck.{key}" in reported), key
    assert ("deregistration_delay" in process) != ("http.deregistration_delay" in reported)


def test_the_dyno_table_in_the_docs_is_the_one_the_import_uses():
    docs = (Path(__file__).parent.parent / "docs" / "import.md").read_text()
    section = docs[docs.index("**Dyno sizes.**"):docs.index("**Add-ons.**")]
    rows = [line.split("|")[1:4] for line in section.splitlines()
            if line.startswith("| ") and not line.startswith(("| dyno", "| ---"))]
    assert len(rows) == 7
    for dynos, memory, size in rows:
        shown_size = size.strip().split("`")[1]
        for dyno in (d.strip() for d in dynos.split(",")):
            found, dyno_memory = dyno_size(dyno)
            assert dyno_memory == int(memory), dyno
            expected = found if isinstance(found, str) else f"{{cpu: {found['cpu']}, memory: {found['memory']}}}"
            assert shown_size == expected, dyno
