"""`shipway import heroku`: a Heroku app as a ``shipway.yaml`` and a report (docs/import.md).

It reads files, so it works offline: ``app.json`` and ``Procfile`` from the app's repository, and optionally the
output of ``heroku config --json``, ``heroku ps --json`` and a list of Heroku Scheduler jobs. Config values that
look like secrets never reach the spec: they become secret references to placeholders, to be created in Secrets
Manager before the first deploy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..spec import vocabulary as v
from ..spec.references import RESERVED_VARIABLES
from .manifest import read_json
from .report import PLACEHOLDER_ACCOUNT, PLACEHOLDER_REGION, Report
from .schedules import ScheduleError, eventbridge
from .sizes import dyno_size

# A config var is treated as a secret when its name says so, or its value carries credentials (a URL with a
# password in it, such as REDIS_URL).
SECRET_NAME = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD|PASSWD|PASS|PWD|CREDENTIALS?|PRIVATE|AUTH|SALT|DSN|CERT)",
                         re.IGNORECASE)
URL_WITH_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@", re.IGNORECASE)
# Variables Heroku itself sets on dynos; the platform that replaces it sets its own.
HEROKU_SET = {"PORT", "DYNO", "HEROKU_APP_ID", "HEROKU_APP_NAME", "HEROKU_DYNO_ID", "HEROKU_RELEASE_CREATED_AT",
              "HEROKU_RELEASE_VERSION", "HEROKU_SLUG_COMMIT", "HEROKU_SLUG_DESCRIPTION"}

BUILDER = "heroku/builder:24"  # the Cloud Native Buildpacks builder that runs Heroku's buildpacks
# Add-on service (the plan's part before ':') -> (shipway's equivalent or None, what to do).
ADDONS: dict[str, tuple[str | None, str]] = {
    "heroku-postgresql": ("environments.<env>.database (RDS PostgreSQL); shipway sets DATABASE_URL",
                          "move the data: pg_dump from Heroku, pg_restore into the environment's database"),
    "heroku-redis": (None, "not yet: keep a Redis (ElastiCache or the provider's) and pass its URL as a secret"),
    "rediscloud": (None, "not yet: keep the Redis Cloud subscription and pass its URL as a secret"),
    "scheduler": ("apps.<app>.cron (EventBridge Scheduler)", "pass the jobs with --scheduler"),
    "papertrail": ("CloudWatch Logs: every process logs to the app's log group", "nothing, or ship the log group on"),
    "logentries": ("CloudWatch Logs: every process logs to the app's log group", "nothing, or ship the log group on"),
    "sumologic": ("CloudWatch Logs: every process logs to the app's log group", "nothing, or ship the log group on"),
    "heroku-kafka": (None, "not yet: use Amazon MSK and pass its brokers in config"),
    "bucketeer": (None, "not yet: keep the bucket and pass its name in config"),
    "cloudamqp": (None, "not yet: keep the CloudAMQP instance and pass its URL as a secret"),
    "sendgrid": (None, "not yet: keep SendGrid (its API key becomes a secret) or move to Amazon SES"),
    "mailgun": (None, "not yet: keep Mailgun (its API key becomes a secret) or move to Amazon SES"),
    "newrelic": (None, "not yet: keep New Relic's agent in the image, its license key as a secret"),
    "memcachier": (None, "not yet: keep MemCachier and pass its servers as secrets"),
}
# Heroku Scheduler frequencies (the dashboard's choices) -> how to build the schedule from `at`.
FREQUENCIES = ("every_ten_minutes", "every_hour", "every_day")


@dataclass
class HerokuImport:
    spec: dict
    comments: dict[tuple, str]
    report: Report
    application: str
    secrets: list[str] = field(default_factory=list)


def import_heroku(directory: Path, *, name: str | None = None, environment: str = "production",
                  config: Path | None = None, ps: Path | None = None, scheduler: Path | None = None,
                  region: str | None = None, account: str | None = None, hosts: tuple[str, ...] = ()) -> HerokuImport:
    directory = Path(directory)
    report = Report(f"the Heroku app in {directory}")
    app_json = _app_json(directory, report)
    procfile = _procfile(directory / "Procfile", report)
    config_vars = _object(config, report, "heroku config --json") if config else {}
    dynos = _list(ps, report, "heroku ps --json") if ps else []
    jobs = _list(scheduler, report, "the scheduler jobs") if scheduler else []
    report.raise_problems()

    app_name = str(name or app_json.get("name") or directory.resolve().name).lower()
    if not re.match(v.NAME, app_name) or len(app_name) > 32:
        report.problem("app.json" if not name else "--name", "name",
                       f"{app_name!r} is not a shipway name ({v.NAME_HELP}); pass --name")
    if not re.match(v.NAME, environment):
        report.problem("--environment", None, f"{environment!r} is not a shipway name ({v.NAME_HELP})")
    report.raise_problems()

    where = ("apps", app_name)
    comments: dict[tuple, str] = {}
    app: dict[str, Any] = {"source": {"codecommit": app_name, "branch": "main"}}
    comments[(*where, "source")] = "git push to this CodeCommit repository deploys, as git push heroku did"
    _build(app_json, app, report, comments, where)
    release = procfile.pop("release", None)
    if release:
        app["release"] = release
        comments[(*where, "release")] = "Procfile release phase: runs before every deploy"
    ctx = _Secrets(app_name, region or PLACEHOLDER_REGION, account or PLACEHOLDER_ACCOUNT)
    _config(app_json, config_vars, config, app, report, comments, where, ctx)
    processes = _processes(procfile, app_json, dynos, ps, report, comments, where, list(hosts))
    if not processes:
        report.problem("Procfile", None, "no process types (a line such as `web: bundle exec puma`)")
        report.raise_problems()
    app["processes"] = processes
    cron = _scheduler(jobs, scheduler, report, comments, where)
    if cron:
        app["cron"] = cron
    _addons(app_json, report)
    _rest(app_json, report)
    report.raise_problems()
    spec = {"name": app_name, "environments": {environment: {}}, "apps": {app_name: app}}
    comments[("environments", environment)] = ("every default: 2 AZs, 1 NAT gateway (your fixed egress IP), "
                                               "RDS PostgreSQL 17")
    return HerokuImport(spec, comments, report, app_name, ctx.created)


# --- files ---------------------------------------------------------------------------------------


def _app_json(directory: Path, report: Report) -> dict:
    path = directory / "app.json"
    if not path.exists():
        return {}
    data = read_json(path, "app.json", report)
    if data is None:
        return {}
    if not isinstance(data, dict):
        report.problem("app.json", None, "must be a JSON object")
        return {}
    for key, kind in APP_JSON_SHAPES.items():
        if key in data and not isinstance(data[key], kind):
            report.problem("app.json", key, f"must be a JSON {'object' if kind is dict else 'array'} (app.json schema)")
            del data[key]
    return data


# app.json fields the import reads, by the JSON type Heroku's app.json schema gives them.
APP_JSON_SHAPES = {"env": dict, "formation": dict, "addons": list, "buildpacks": list, "scripts": dict}


def _procfile(path: Path, report: Report) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        report.problem("Procfile", None, "no such file: a Heroku app names its processes in a Procfile")
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        report.problem("Procfile", None, f"cannot be read: {exc}")
        return {}
    processes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line.strip())
        if not match:
            report.problems.append(f"Procfile:{number}: expected `<process type>: <command>`, got {line.strip()!r}")
            continue
        processes[match[1]] = match[2].strip()
    return processes


def _object(path: Path, report: Report, what: str) -> dict:
    data = read_json(path, str(path), report)
    if data is not None and not isinstance(data, dict):
        report.problem(str(path), None, f"must be a JSON object ({what})")
        return {}
    return data or {}


def _list(path: Path, report: Report, what: str) -> list:
    data = read_json(path, str(path), report)
    if data is not None and not isinstance(data, list):
        report.problem(str(path), None, f"must be a JSON array ({what})")
        return []
    return data or []


# --- parts ---------------------------------------------------------------------------------------


def _build(app_json: dict, app: dict, report: Report, comments: dict, where: tuple) -> None:
    buildpacks = app_json.get("buildpacks") or []
    urls = [b.get("url") if isinstance(b, dict) else b for b in buildpacks]
    app["build"] = {"buildpacks": BUILDER}
    if urls:
        comments[(*where, "build", "buildpacks")] = f"app.json buildpacks: {', '.join(map(str, urls))}"
        for i, url in enumerate(urls):
            if not str(url).startswith("heroku/"):
                report.unsupported("app.json", f"buildpacks[{i}].url", url,
                                   f"the builder {BUILDER} runs Heroku's own buildpacks; a third-party classic "
                                   "buildpack does not run on Cloud Native Buildpacks",
                                   "add a project.toml naming a CNB equivalent, or switch to a Dockerfile")
    else:
        comments[(*where, "build", "buildpacks")] = "Heroku's buildpacks, detected as on Heroku"
    stack = app_json.get("stack")
    if stack and stack not in ("heroku-22", "heroku-24"):
        report.unsupported("app.json", "stack", stack, f"the builder {BUILDER} builds on Ubuntu 24.04 "
                           "(heroku-24)", "check the app builds there")


@dataclass
class _Secrets:
    app: str
    region: str
    account: str
    created: list[str] = field(default_factory=list)

    def reference(self, key: str) -> str:
        self.created.append(key)
        return f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:{self.app}/{key}"


def is_secret(key: str, value: str) -> bool:
    return bool(SECRET_NAME.search(key) or URL_WITH_PASSWORD.match(value or ""))


def _config(app_json: dict, config_vars: dict, config_file: Path | None, app: dict, report: Report, comments: dict,
            where: tuple, secrets: _Secrets) -> None:
    declared = app_json.get("env") or {}
    values: dict[str, tuple[str, str]] = {}  # key -> (value, file)
    for key, spec in declared.items():
        if isinstance(spec, dict):
            if "value" in spec:
                values[key] = (str(spec["value"]), "app.json")
            elif spec.get("generator") == "secret" or spec.get("required", True):
                values[key] = ("", "app.json")
        else:
            values[key] = (str(spec), "app.json")
    for key, value in config_vars.items():
        values[key] = ("" if value is None else str(value), str(config_file))
    config: dict[str, str] = {}
    refs: dict[str, str] = {}
    for key, (value, file) in values.items():
        field_name = f"env.{key}" if file == "app.json" else key
        if key in HEROKU_SET:
            continue
        if key in RESERVED_VARIABLES:
            report.unsupported(file, field_name, "(hidden)", f"shipway sets {key} itself (from the environment's "
                               "database)" if key == "DATABASE_URL" else f"shipway sets {key} itself",
                               "nothing" if key == "DATABASE_URL" else "read it under another name")
            continue
        if not re.match(v.ENV_VAR, key):
            report.unsupported(file, field_name, "(hidden)", "not an environment variable name ECS accepts",
                               "rename it")
            continue
        generated = file == "app.json" and isinstance(declared.get(key), dict) and \
            declared[key].get("generator") == "secret"
        if generated or is_secret(key, value):
            refs[key] = secrets.reference(key)
            comments[(*where, "secrets", key)] = (f"placeholder: aws secretsmanager create-secret --name "
                                                  f"{secrets.app}/{key}, then its ARN here")
            report.note(file, field_name, "(hidden)", "looks like a secret: the spec holds a placeholder reference, "
                        "never the value", f"create the secret {secrets.app}/{key} and put its ARN in place")
        else:
            config[key] = value
    if config:
        app["config"] = config
    if refs:
        app["secrets"] = refs


def _processes(procfile: dict[str, str], app_json: dict, dynos: list, ps_file: Path | None, report: Report,
               comments: dict, where: tuple, hosts: list[str]) -> dict:
    formation = app_json.get("formation") or {}
    counts: dict[str, int] = {}
    sizes: dict[str, str] = {}
    for kind, settings in formation.items():
        if isinstance(settings, dict):
            if "quantity" in settings:
                counts[kind] = _quantity(settings["quantity"], "app.json", f"formation.{kind}.quantity", report)
            if "size" in settings:
                sizes[kind] = str(settings["size"])
    ps_counts: dict[str, int] = {}
    for dyno in dynos:
        if not isinstance(dyno, dict) or "type" not in dyno:
            report.problem(str(ps_file), None, "each dyno is an object with type, size and command "
                                               "(heroku ps --json)")
            continue
        kind = str(dyno["type"])
        if kind == "run" or kind.startswith("scheduler"):
            continue  # one-off dynos: `heroku run` and Scheduler's runs
        ps_counts[kind] = ps_counts.get(kind, 0) + _quantity(dyno.get("quantity", 1), str(ps_file), kind, report)
        if dyno.get("size"):
            sizes[kind] = str(dyno["size"])
    counts.update(ps_counts)
    processes: dict[str, dict] = {}
    for kind, command in procfile.items():
        name = kind.lower().replace("_", "-")
        if not re.match(v.NAME, name):
            report.problem("Procfile", kind, f"{kind!r} cannot be a shipway process name ({v.NAME_HELP})")
            continue
        process: dict[str, Any] = {"command": command}
        if kind == "web":
            process["port"] = 5000
            comments[(*where, "processes", name, "port")] = "shipway sets PORT to this port, as Heroku set $PORT"
            if hosts:
                process["hosts"] = hosts
            else:
                report.unsupported("Procfile", "web", command, "Heroku routed <app>.herokuapp.com and the app's "
                                   "domains to web; shipway routes the host names listed in hosts:",
                                   f"import again with --host your.domain, or add hosts: to apps.{where[1]}."
                                   "processes.web")
        size_name = sizes.get(kind)
        if size_name:
            found = dyno_size(size_name)
            if found is None:
                report.unsupported(str(ps_file or "app.json"), f"{kind}.size", size_name, "an unknown dyno type",
                                   "set size: by hand (docs/import.md has the dyno table)")
            else:
                process["size"], memory = found
                comments[(*where, "processes", name, "size")] = f"Heroku {size_name}: {memory} MiB"
                given = v.SIZES[found[0]][1] if isinstance(found[0], str) else found[0]["memory"]
                if given < memory:
                    report.note(str(ps_file or "app.json"), f"{kind}.size", size_name,
                                f"Fargate's largest task has {given} MiB, less than the dyno's {memory}",
                                "lower the process's memory use, or run it on an EC2 pool")
        if kind in counts:
            process["count"] = counts[kind]
        processes[name] = process
    return processes


def _quantity(value: Any, file: str, where: str, report: Report) -> int:
    if isinstance(value, bool) or not str(value).isdigit():
        report.problem(file, where, f"quantity {value!r} is not a whole number")
        return 0
    return int(value)


def _scheduler(jobs: list, file: Path | None, report: Report, comments: dict, where: tuple) -> dict:
    cron: dict[str, dict] = {}
    for i, job in enumerate(jobs):
        path = f"[{i}]"
        if not isinstance(job, dict) or not job.get("command"):
            report.problem(str(file), path, "a job is an object with command, frequency and at")
            continue
        frequency = job.get("frequency")
        at = str(job.get("at", "00:00"))
        try:
            schedule = _schedule(frequency, at)
        except ScheduleError as exc:
            report.problem(str(file), f"{path}.frequency", f"{frequency!r} at {at!r} cannot be converted to "
                                                           f"EventBridge: {exc}")
            continue
        name = job.get("name") or f"job-{i + 1}"
        entry: dict[str, Any] = {"schedule": schedule, "command": str(job["command"])}
        if job.get("dyno_size"):
            found = dyno_size(str(job["dyno_size"]))
            if found is not None:
                entry["size"] = found[0]
        cron[name] = entry
        when = "" if frequency == "every_ten_minutes" else f" at {at} UTC"
        comments[(*where, "cron", name, "schedule")] = f"Heroku Scheduler: {frequency}{when}"
    return cron


def _schedule(frequency: Any, at: str) -> str:
    """A Heroku Scheduler job's frequency and time (UTC) as an EventBridge expression."""
    if frequency == "every_ten_minutes":
        return eventbridge("@every 10m")
    match = re.match(r"^(?:([01]?[0-9]|2[0-3]))?:?([0-5][0-9])$", at.strip())
    if not match:
        raise ScheduleError(f"at {at!r} is not HH:MM (or :MM for every_hour)")
    hour, minute = match[1], int(match[2])
    if frequency == "every_hour":
        return eventbridge(f"{minute} * * * *")
    if frequency == "every_day":
        return eventbridge(f"{minute} {int(hour or 0)} * * *")
    raise ScheduleError(f"frequency is one of {', '.join(FREQUENCIES)}")


def _addons(app_json: dict, report: Report) -> None:
    for i, addon in enumerate(app_json.get("addons") or []):
        plan = addon.get("plan") if isinstance(addon, dict) else addon
        service = str(plan).split(":", 1)[0]
        equivalent, todo = ADDONS.get(service, (None, "not yet: keep the provider's service and pass its "
                                                      "credentials as secrets"))
        if equivalent is None:
            report.unsupported("app.json", f"addons[{i}]", plan, "no shipway equivalent yet", todo)
        else:
            report.note("app.json", f"addons[{i}]", plan, f"shipway equivalent: {equivalent}", todo)


# app.json fields with no bearing on how the app runs: read, not reported.
DESCRIPTIVE = {"name", "description", "keywords", "website", "repository", "logo", "success_url"}
HANDLED = {"env", "formation", "buildpacks", "addons", "stack"}


def _rest(app_json: dict, report: Report) -> None:
    scripts = app_json.get("scripts") or {}
    for key, value in scripts.items():
        report.unsupported("app.json", f"scripts.{key}", value,
                           "review-app and CI scripts: shipway has no review apps or Heroku CI",
                           "run it by hand (aws ecs run-task with the release task definition)")
    for key, value in app_json.items():
        if key in DESCRIPTIVE | HANDLED | {"scripts"}:
            continue
        report.unsupported("app.json", key, value, "shipway has no counterpart for this field",
                           "carry it over by hand (docs/import.md lists how)")
