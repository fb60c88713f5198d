"""`shipway config*` against moto's server on 127.0.0.1: the spec edit, the API calls read back, and a synth of
the edited spec that agrees with what the verb applied."""

from __future__ import annotations

from shipway import naming
from tests import emulator
from tests.cli.conftest import synth_templates, template_environment, template_secrets

ENVS = ("staging", "production")
PROCESSES = ("web", "worker")


def environment_of(task_definition: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in emulator.container_of(task_definition).get("environment", [])}


def secrets_of(task_definition: dict) -> dict[str, str]:
    return {s["name"]: s["valueFrom"] for s in emulator.container_of(task_definition).get("secrets", [])}


def test_config_lists_the_spec_and_never_a_secret_value(shop):
    result = shop.run("config")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["=== store Config Vars", "FEATURE_X: on", "LANG:      en_US.UTF-8"]


def test_config_set_edits_the_spec_rolls_out_and_agrees_with_the_next_synth(shop, tmp_path):
    before = shop.spec_path.read_text()
    result = shop.run("config:set", "FEATURE_X=off", "GREETING=hello world")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Set FEATURE_X, GREETING on store and restarted it in staging, production in ")
    # the spec: only the config line changed
    after = shop.spec_path.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before.splitlines(), after, strict=True) if a != b]
    assert changed == [("    config: {LANG: en_US.UTF-8, FEATURE_X: \"on\"}",
                        "    config: {LANG: en_US.UTF-8, FEATURE_X: \"off\", GREETING: hello world}")]
    # the emulator: every service and the one-off family run a new revision with the values
    templates = synth_templates(shop.spec_path, tmp_path)
    for env in ENVS:
        template = templates[naming.app_env_stack("shop", "store", env)]
        for process in PROCESSES:
            applied = emulator.running_task_definition(shop.spec, "store", env, process)
            assert applied["revision"] == 2
            family = naming.task_family("shop", "store", env, process)
            assert environment_of(applied) == template_environment(template, family)
            assert environment_of(applied)["GREETING"] == "hello world"
        release = emulator.latest_task_definition(shop.spec, "store", env, "release")
        release_family = naming.task_family("shop", "store", env, "release")
        assert environment_of(release) == template_environment(template, release_family)


def test_config_get_and_unset(shop, tmp_path):
    assert shop.run("config:get", "LANG").stdout == "en_US.UTF-8\n"
    result = shop.run("config:unset", "FEATURE_X")
    assert result.exit_code == 0, result.output
    assert "FEATURE_X" not in shop.edited().apps["store"].config
    applied = emulator.running_task_definition(shop.spec, "store", "production", "web")
    assert "FEATURE_X" not in environment_of(applied)
    template = synth_templates(shop.spec_path, tmp_path)[naming.app_env_stack("shop", "store", "production")]
    web_family = naming.task_family("shop", "store", "production", "web")
    assert environment_of(applied) == template_environment(template, web_family)
    missing = shop.run("config:get", "FEATURE_X")
    assert missing.exit_code == 5 and missing.stderr == "shipway: store has no config var 'FEATURE_X'\n"


def test_config_set_secret_stores_the_value_in_secrets_manager_and_only_its_arn_in_the_spec(shop, tmp_path):
    value = "sk_live_do-not-print-me"
    result = shop.run("config:set", "--secret", f"STRIPE_KEY={value}")
    assert result.exit_code == 0, result.output
    assert value not in result.output
    text = shop.spec_path.read_text()
    assert value not in text
    arn = shop.edited().apps["store"].secrets["STRIPE_KEY"]
    sm = emulator.client("secretsmanager")
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == value
    assert sm.describe_secret(SecretId=arn)["Name"] == "shipway/shop/store/STRIPE_KEY"
    templates = synth_templates(shop.spec_path, tmp_path)
    for env in ENVS:
        template = templates[naming.app_env_stack("shop", "store", env)]
        assert value not in str(template)
        applied = emulator.running_task_definition(shop.spec, "store", env, "web")
        assert secrets_of(applied)["STRIPE_KEY"] == arn
        assert template_secrets(template, naming.task_family("shop", "store", env, "web"))["STRIPE_KEY"] == arn
        # the execution role may read it until the next deploy grants it in the template
        role = applied["executionRoleArn"].rsplit("/", 1)[-1]
        policy = emulator.client("iam").get_role_policy(RoleName=role, PolicyName="shipway-cli-secret-STRIPE_KEY")
        assert policy["PolicyDocument"]["Statement"][0]["Resource"] == arn
    # a second set writes a new version into the same secret: the spec does not change
    again = shop.run("config:set", "--secret", "STRIPE_KEY=rotated")
    assert again.exit_code == 0, again.output
    assert shop.spec_path.read_text() == text
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "rotated"
    assert shop.run("config:get", "STRIPE_KEY").stdout == "rotated\n"
    # unset keeps the secret, says so, and drops the interim grant
    unset = shop.run("config:unset", "STRIPE_KEY")
    assert unset.exit_code == 0, unset.output
    assert f"STRIPE_KEY: the secret itself is kept: {arn}" in unset.stderr
    assert "STRIPE_KEY" not in secrets_of(emulator.running_task_definition(shop.spec, "store", "staging", "web"))
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "rotated"


def test_no_apply_edits_only_the_spec(shop):
    result = shop.run("config:set", "--no-apply", "LANG=C")
    assert result.exit_code == 0, result.output
    assert shop.edited().apps["store"].config["LANG"] == "C"
    assert emulator.running_task_definition(shop.spec, "store", "staging", "web")["revision"] == 1


def test_a_reserved_or_bad_key_changes_nothing(shop):
    before = shop.spec_path.read_text()
    reserved = shop.run("config:set", "PORT=1")
    assert reserved.exit_code == 3
    assert reserved.stderr.startswith("shipway: the change would make the spec invalid, so nothing was written: ")
    assert "apps.store.config" in reserved.stderr and "Traceback" not in reserved.output
    bad = shop.run("config:set", "1X=2")
    assert bad.exit_code == 2
    assert shop.spec_path.read_text() == before


def test_config_set_wait_waits_for_the_restarted_tasks(shop, monkeypatch):
    from shipway.cli import ps as ps_module

    for env in ENVS:
        emulator.set_running(shop.spec, "store", env, "worker", 1)  # one new worker task still starting

    def ecs_starts_it(seconds):
        for env in ENVS:
            emulator.set_running(shop.spec, "store", env, "worker", 2)

    monkeypatch.setattr(ps_module, "sleep", ecs_starts_it)
    result = shop.run("config:set", "LANG=C.UTF-8", "--wait")
    assert result.exit_code == 0, result.output
    assert "  staging: waiting for 1 of 4 tasks to be running" in result.stderr.splitlines()
    assert result.stdout.startswith("Set LANG on store and restarted it in staging, production in ")


def test_a_refused_secret_stores_nothing(shop):
    before = shop.spec_path.read_text()
    result = shop.run("config:set", "--secret", "DATABASE_URL=postgres://x")
    assert result.exit_code == 3 and "apps.store.secrets" in result.stderr
    assert shop.spec_path.read_text() == before
    assert emulator.client("secretsmanager").list_secrets()["SecretList"] == []


def test_a_config_var_made_secret_leaves_the_environment(shop):
    result = shop.run("config:set", "--secret", "FEATURE_X=hidden")
    assert result.exit_code == 0, result.output
    edited = shop.edited().apps["store"]
    assert "FEATURE_X" not in edited.config and "FEATURE_X" in edited.secrets
    applied = emulator.running_task_definition(shop.spec, "store", "staging", "web")
    assert "FEATURE_X" not in environment_of(applied) and "FEATURE_X" in secrets_of(applied)
