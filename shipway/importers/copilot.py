"""`shipway import copilot`: an AWS Copilot workspace as a ``shipway.yaml`` and a report (docs/import.md).

A workspace is ``copilot/.workspace`` (the application's name), ``copilot/environments/<env>/manifest.yml``,
``copilot/<workload>/manifest.yml`` (a Load Balanced Web Service, Backend Service, Worker Service or Scheduled
Job), ``copilot/pipelines/<name>/manifest.yml`` and addon templates (``copilot/<workload>/addons/*.yml``,
``copilot/environments/addons/*.yml``). Field names follow Copilot's manifest reference.

Copilot builds one image per workload; shipway builds one per app and runs each process from it. Workloads that
build the same Dockerfile become processes (and cron jobs) of one app; each other image becomes an app of its own.
"""

from __future__ import annotations

import re
import shlex
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..spec import vocabulary as v
from ..spec.capacity_name import Fargate
from ..spec.model import LogRetention
from ..spec.references import RESERVED_VARIABLES
from .copilot_reasons import ADDON_WHY, BY_HAND, ENV_WHY, PIPELINE_WHY, WHY
from .manifest import Section, read_yaml
from .report import PLACEHOLDER_ACCOUNT, PLACEHOLDER_REGION, Report, shown
from .schedules import ScheduleError, eventbridge, seconds
from .sizes import fargate_size

WEB, BACKEND, WORKER, JOB = "Load Balanced Web Service", "Backend Service", "Worker Service", "Scheduled Job"
WORKLOAD_TYPES = (WEB, BACKEND, WORKER, JOB)
# Copilot types shipway has no counterpart for: the whole manifest goes to the report.
OTHER_TYPES = {
    "Request-Driven Web Service": "it runs on App Runner; shipway runs ECS services behind its ALB",
    "Static Site": "it serves files from S3 and CloudFront; shipway runs containers",
}
COPILOT_VPC_CIDR = "10.0.0.0/16"  # Copilot's default, and the CDK Vpc's that shipway builds on
COPILOT_DEFAULT_SIZE = (256, 512)
PLACEHOLDER_CONNECTION = "arn:aws:codeconnections:{region}:{account}:connection/00000000-0000-0000-0000-000000000000"

@dataclass
class Workload:
    name: str
    kind: str
    file: str
    image: tuple[str, str]  # how its image is built: (dockerfile, context), or ("location", uri)
    process: dict | None = None
    cron: dict | None = None
    config: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    private: bool = False


@dataclass
class CopilotImport:
    spec: dict
    comments: dict[tuple, str]
    report: Report
    application: str


@dataclass
class _Context:
    root: Path
    app: str
    region: str
    account: str
    report: Report
    comments: dict[tuple, str] = field(default_factory=dict)
    placeholders: bool = False  # no --region or --account: the ARNs the import builds hold placeholders

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def unsupported(self, file: str, path: str, value: Any, table: dict[str, tuple[str, str]] = WHY) -> None:
        why, todo = _lookup(table, path)
        self.report.unsupported(file, path, value, why, todo)


def _lookup(table: dict[str, tuple[str, str]], path: str) -> tuple[str, str]:
    generic = re.sub(r"\[[0-9]+\]", "", path)
    generic = re.sub(r"^environments\.[^.]+\.", "", generic)
    parts = generic.split(".")
    for depth in range(len(parts), 0, -1):
        if ".".join(parts[:depth]) in table:
            return table[".".join(parts[:depth])]
    return "shipway has no counterpart for this field", BY_HAND


def import_copilot(root: Path, *, region: str | None = None, account: str | None = None) -> CopilotImport:
    """Read the workspace at ``root`` (the directory holding ``copilot/``); raise ImportFailure on bad input."""
    root = Path(root)
    report = Report(f"the Copilot workspace {root}")
    ws_file = root / "copilot" / ".workspace"
    workspace = read_yaml(ws_file, "copilot/.workspace", report)
    report.raise_problems()
    if not isinstance(workspace, dict) or not isinstance(workspace.get("application"), str):
        report.problem("copilot/.workspace", "application", "missing: the workspace names its application")
        report.raise_problems()
    application = workspace["application"]
    ctx = _Context(root, application, region or PLACEHOLDER_REGION, account or PLACEHOLDER_ACCOUNT, report,
                   placeholders=region is None or account is None)
    if not re.match(v.NAME, application) or len(application) > 32:
        report.problem("copilot/.workspace", "application", f"{application!r} is not a shipway name ({v.NAME_HELP}, "
                                                            "at most 32 characters)")

    environments = _environments(ctx)
    # Every environment with a manifest, readable or not: a broken one is reported once, not at each reference.
    known = [p.parent.name for p in sorted((root / "copilot" / "environments").glob("*/manifest.yml"))]
    pipeline = _pipeline(ctx, known)
    workloads = _workloads(ctx, known)
    report.raise_problems()
    if not environments:
        report.problem("copilot/environments", None, "no environment manifests (copilot/environments/<env>/"
                                                      "manifest.yml); run `copilot env show --manifest` to write them")
    if not any(w.process for w in workloads):
        report.problem("copilot", None, "no service manifests (copilot/<service>/manifest.yml) to import")
    report.raise_problems()

    order = [e for e in pipeline["order"] if e in environments] + [e for e in environments
                                                                     if e not in pipeline["order"]]
    if any(w.private for w in workloads):
        for env_name, env in environments.items():
            network = env.setdefault("network", {})
            network["nat_gateways"] = network.get("max_azs", 2)
            ctx.comments[("environments", env_name, "network", "nat_gateways")] = (
                "Copilot adds a NAT gateway per AZ for private placement")
    spec = {"name": application, "environments": {e: environments[e] for e in order}}
    for env_name in order:
        if not spec["environments"][env_name]:
            spec["environments"][env_name] = {}
            ctx.comments[("environments", env_name)] = "every default: 2 AZs, 1 NAT gateway, Fargate and Fargate Spot"
    spec["apps"] = _apps(ctx, workloads, pipeline)
    _hosts_per_environment(ctx, spec, order)
    _addons(ctx)
    return CopilotImport(spec, ctx.comments, report, application)


def _hosts_per_environment(ctx: _Context, spec: dict, order: list[str]) -> None:
    """Copilot's alias serves every environment; shipway routes a host name in one environment only. With more
    than one, the aliases stay with the last environment the pipeline deploys (production, as a rule) and each
    other environment gets ``<env>.<alias>``; the report says so."""
    if len(order) < 2:
        return
    last = order[-1]
    for app in spec["apps"].values():
        for name, process in app["processes"].items():
            hosts = process.get("hosts")
            if not isinstance(hosts, list):
                continue
            process["hosts"] = {env: hosts if env == last else [f"{env}.{host}" for host in hosts] for env in order}
            others = ", ".join(f"{env}: {env}.{hosts[0]}" for env in order if env != last)
            ctx.report.note(f"copilot/{name}/manifest.yml", "http.alias", hosts,
                            f"a host name leads to one environment's router: {last} keeps the alias, and {others}",
                            f"point each name at its environment's RouterDnsName, "
                            f"or edit apps.*.processes.{name}.hosts")


# --- environments --------------------------------------------------------------------------------


def _environments(ctx: _Context) -> dict[str, dict]:
    found: dict[str, dict] = {}
    base = ctx.root / "copilot" / "environments"
    for manifest in sorted(base.glob("*/manifest.yml")):
        file = ctx.rel(manifest)
        data = read_yaml(manifest, file, ctx.report)
        if data is None:
            continue
        if not isinstance(data, dict):
            ctx.report.problem(file, None, "must be a mapping (an Environment manifest)")
            continue
        name = manifest.parent.name
        if data.get("type") != "Environment":
            ctx.report.problem(file, "type", f"must be 'Environment', not {data.get('type')!r}")
            continue
        if not re.match(v.NAME, name):
            ctx.report.problem(file, "name", f"{name!r} is not a shipway name ({v.NAME_HELP})")
            continue
        found[name] = _environment(ctx, file, name, Section(data))
    return found


def _environment(ctx: _Context, file: str, name: str, manifest: Section) -> dict:
    manifest.take("name"), manifest.take("type")
    env: dict[str, Any] = {}
    network = manifest.sub("network")
    vpc = network.sub("vpc")
    cidr = vpc.peek("cidr")
    if cidr in (None, COPILOT_VPC_CIDR):
        vpc.take("cidr")
    subnets = vpc.sub("subnets")
    zones = max(len(subnets.peek("public") or []), len(subnets.peek("private") or []))
    if zones:
        env["network"] = {"max_azs": min(max(zones, 2), 6)}
        ctx.comments[("environments", name, "network", "max_azs")] = f"Copilot's {zones} subnets per tier"
    flow_logs = vpc.peek("flow_logs")
    if flow_logs is True or flow_logs is False:
        vpc.take("flow_logs")
    elif isinstance(flow_logs, dict) and set(flow_logs) == {"retention"} and _log_retention(flow_logs["retention"]):
        env["log_retention_days"] = vpc.take("flow_logs")["retention"]
    for section in (subnets, vpc, network):
        for path, value in section.rest():
            ctx.unsupported(file, path, value, ENV_WHY)

    http = manifest.sub("http")
    public = http.sub("public")
    certificates = public.peek("certificates") or []
    if isinstance(certificates, list) and certificates and re.match(v.CERTIFICATE_ARN, str(certificates[0])):
        env["router"] = {"certificate_arn": certificates[0]}
        if len(certificates) == 1:
            public.take("certificates")
        else:
            public.data["certificates"] = certificates[1:]
    elif certificates:
        ctx.report.unsupported(file, "http.public.certificates", public.take("certificates"),
                               "not an ACM certificate ARN as written (Copilot substitutes ${AWS_REGION} and "
                               "${AWS_ACCOUNT_ID} at deploy time)", "write the ARN in router.certificate_arn")
    logs = public.peek("access_logs")
    if logs is True:
        public.take("access_logs")
    elif isinstance(logs, dict):
        access = public.sub("access_logs")
        for path, value in access.rest():
            ctx.unsupported(file, path, value, ENV_WHY)
    for section in (public, http):
        for path, value in section.rest():
            ctx.unsupported(file, path, value, ENV_WHY)
    observability = manifest.sub("observability")
    if observability.peek("container_insights") is True:
        observability.take("container_insights")
    for section in (observability, manifest):
        for path, value in section.rest():
            ctx.unsupported(file, path, value, ENV_WHY)
    return env


def _log_retention(days: Any) -> bool:
    return days in typing.get_args(LogRetention)


# --- pipelines -----------------------------------------------------------------------------------


def _pipeline(ctx: _Context, environments: list[str]) -> dict:
    """The first pipeline's source, environment order and approval; other pipelines go to the report whole."""
    result: dict[str, Any] = {"source": None, "order": [], "approve_before": None, "file": None}
    manifests = sorted((ctx.root / "copilot" / "pipelines").glob("*/manifest.yml"))
    legacy = ctx.root / "copilot" / "pipeline.yml"
    if legacy.exists():
        manifests.insert(0, legacy)
    for i, manifest in enumerate(manifests):
        file = ctx.rel(manifest)
        data = read_yaml(manifest, file, ctx.report)
        if data is None:
            continue
        if not isinstance(data, dict):
            ctx.report.problem(file, None, "must be a mapping (a pipeline manifest)")
            continue
        if i > 0:
            ctx.report.unsupported(file, "name", data.get("name", manifest.parent.name),
                                   "shipway has one pipeline per app, built from the first pipeline manifest",
                                   "its stages deploy with the first pipeline")
            continue
        result["file"] = file
        _pipeline_fields(ctx, file, Section(data), result, environments)
    return result


def _pipeline_fields(ctx: _Context, file: str, manifest: Section, result: dict, environments: list[str]) -> None:
    manifest.take("name"), manifest.take("version")
    source = manifest.sub("source")
    provider = source.take("provider")
    properties = source.sub("properties")
    repository = str(properties.take("repository") or "")
    branch = properties.take("branch")
    if provider == "CodeCommit":
        name = repository.rstrip("/").rsplit("/", 1)[-1]
        result["source"] = {"codecommit": name}
    elif provider in ("GitHub", "Bitbucket", "GitLab"):
        match = re.search(r"(?:github\.com|bitbucket\.org|gitlab\.com)[/:]([^/]+/[^/.]+)", repository)
        slug = match[1] if match else repository
        arn = PLACEHOLDER_CONNECTION.format(region=ctx.region, account=ctx.account)
        connection = properties.take("connection_name")
        result["source"] = {"connection_arn": arn, "repository": slug}
        ctx.report.note(file, "source.properties.connection_name", connection or f"(a {provider} connection)",
                        "shipway names the CodeConnections connection by ARN; the spec holds a placeholder",
                        "put the connection's ARN in source.connection_arn (aws codeconnections list-connections)")
        result["placeholder_connection"] = connection or provider
    else:
        ctx.report.problem(file, "source.provider", f"unknown provider {provider!r}; Copilot's are GitHub, "
                                                    "Bitbucket, CodeCommit")
    if branch:
        result["source"] = {**(result["source"] or {}), "branch": str(branch)}
    for section in (properties, source):
        for path, value in section.rest():
            ctx.unsupported(file, path, value, PIPELINE_WHY)

    stages = manifest.take("stages") or []
    for i, entry in enumerate(stages if isinstance(stages, list) else []):
        stage = Section(entry if isinstance(entry, dict) else {}, f"stages[{i}]")
        name = stage.take("name")
        if name not in environments:
            ctx.report.problem(file, f"stages[{i}].name", f"no environment manifest for {name!r} "
                                                           f"(environments: {', '.join(environments) or 'none'})")
            continue
        result["order"].append(name)
        if stage.peek("requires_approval") is False:
            stage.take("requires_approval")
        elif stage.peek("requires_approval") is True and result["approve_before"] is None:
            stage.take("requires_approval")
            result["approve_before"] = name
        for path, value in stage.rest():
            ctx.unsupported(file, path, value, PIPELINE_WHY)
    for path, value in manifest.rest():
        ctx.unsupported(file, path, value, PIPELINE_WHY)


# --- workloads -----------------------------------------------------------------------------------


def _workloads(ctx: _Context, environments: list[str]) -> list[Workload]:
    found = []
    for manifest in sorted((ctx.root / "copilot").glob("*/manifest.yml")):
        if manifest.parent.name in ("environments", "pipelines"):
            continue
        file = ctx.rel(manifest)
        data = read_yaml(manifest, file, ctx.report)
        if data is None:
            continue
        if not isinstance(data, dict):
            ctx.report.problem(file, None, "must be a mapping (a service or job manifest)")
            continue
        kind = data.get("type")
        if kind in OTHER_TYPES:
            ctx.report.unsupported(file, "type", kind, OTHER_TYPES[kind], "rewrite it as a Load Balanced Web "
                                                                         "Service first, or keep it in Copilot")
            continue
        if kind not in WORKLOAD_TYPES:
            ctx.report.problem(file, "type", f"unknown workload type {kind!r}; Copilot's are "
                                             f"{', '.join(WORKLOAD_TYPES + tuple(OTHER_TYPES))}")
            continue
        name = manifest.parent.name
        if not re.match(v.NAME, name):
            ctx.report.problem(file, "name", f"{name!r} is not a shipway name ({v.NAME_HELP})")
            continue
        try:
            found.append(_workload(ctx, file, name, kind, Section(data), environments))
        except _BadValue as exc:
            ctx.report.problem(file, exc.field, exc.message)
    return sorted(found, key=lambda w: WORKLOAD_TYPES.index(w.kind))


class _BadValue(ValueError):
    """A manifest value of the wrong kind (a duration or a number); stops the workload with one line."""

    def __init__(self, field_path: str, message: str):
        super().__init__(message)
        self.field, self.message = field_path, message


def _duration(value: Any, field_path: str) -> int:
    try:
        return seconds(value)
    except ScheduleError as exc:
        raise _BadValue(field_path, str(exc)) from None


def _number(value: Any, field_path: str) -> int:
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise _BadValue(field_path, f"{value!r} is not a whole number")
    return int(value)


def _workload(ctx: _Context, file: str, name: str, kind: str, m: Section, environments: list[str]) -> Workload:
    base = dict(m.data)
    m.take("name"), m.take("type")
    image, port = _image(ctx, file, m, name)
    workload = Workload(name, kind, file, image)
    size = _size(ctx, file, name, m)
    command = m.take("command")
    if isinstance(command, list):
        command = shlex.join(str(c) for c in command)
    config, secrets = _variables(ctx, file, m), _secrets(ctx, file, m)
    workload.config, workload.secrets = config, secrets
    if m.peek("exec") is True:
        m.take("exec")
    platform = m.peek("platform")
    if platform in ("linux/x86_64", "linux/amd64") or platform == {"osfamily": "linux", "architecture": "x86_64"}:
        m.take("platform")
    deployment = m.sub("deployment")
    if deployment.peek("rolling") in (None, "default"):
        deployment.take("rolling")
    network = m.sub("network")
    vpc = network.sub("vpc")
    placement = vpc.take("placement")
    workload.private = placement == "private"
    if placement == "public":
        ctx.report.note(file, "network.vpc.placement", placement, "shipway runs tasks in private subnets",
                        "nothing: they reach the internet through the environment's NAT gateways")

    if kind == JOB:
        _job(ctx, file, m, workload, command, size)
    else:
        process: dict[str, Any] = {}
        if command:
            process["command"] = str(command)
        if port is not None:
            process["port"] = _number(port, "image.port")
        process["size"] = size
        _count(ctx, file, name, m, process)
        if kind == WEB:
            _http(ctx, file, m, process, name)
        workload.process = process
    _overrides(ctx, file, m, base, environments)
    for section in (vpc, network, deployment, m):
        for path, value in section.rest():
            ctx.unsupported(file, path, value)
    return workload


def _image(ctx: _Context, file: str, m: Section, name: str) -> tuple[tuple[str, str], Any]:
    """How the workload's image is built ((dockerfile, context) or ("location", uri)), and its port."""
    image = m.sub("image")
    port = image.take("port")
    build = image.peek("build")
    result: tuple[str, str]
    if isinstance(build, str):
        image.take("build")
        context = str(Path(build).parent.as_posix())
        result = (build.removeprefix("./"), context)
        if context not in (".", ""):
            ctx.unsupported(file, "image.build.context", context)
    elif isinstance(build, dict):
        section = image.sub("build")
        dockerfile = str(section.take("dockerfile") or "Dockerfile").removeprefix("./")
        context = section.take("context")
        if context is None:
            context = Path(dockerfile).parent.as_posix()
        if str(context).strip("./") != "":
            ctx.unsupported(file, "image.build.context", context)
        result = (dockerfile, str(context))
        for path, value in section.rest():
            ctx.unsupported(file, path, value)
    else:
        location = image.peek("location")
        result = ("location", str(location or name))
    for path, value in image.rest():
        ctx.unsupported(file, path, value)
    return result, port


def _size(ctx: _Context, file: str, name: str, m: Section) -> str | dict:
    cpu, memory = m.take("cpu", COPILOT_DEFAULT_SIZE[0]), m.take("memory", COPILOT_DEFAULT_SIZE[1])
    size, rounded = fargate_size(_number(cpu, "cpu"), _number(memory, "memory"))
    if rounded:
        ctx.report.note(file, "cpu/memory", f"{cpu}/{memory}", f"not a Fargate pair; rounded up to {shown(size)}",
                        "check the size")
        ctx.comments[("_w", name, "size")] = f"rounded up from Copilot's cpu {cpu}, memory {memory}"
    return size


def _variables(ctx: _Context, file: str, m: Section) -> dict[str, str]:
    config = {}
    variables = m.sub("variables")
    for key, value in list(variables.data.items()):
        if isinstance(value, (dict, list)) or not re.match(v.ENV_VAR, str(key)):
            continue
        variables.take(key)
        config[str(key)] = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
    for path, value in variables.rest():
        ctx.report.unsupported(file, path, value, "shipway's config holds plain values only",
                               "write the value itself in config")
    return config


def _secrets(ctx: _Context, file: str, m: Section) -> dict[str, str]:
    found = {}
    secrets = m.sub("secrets")
    for key, value in list(secrets.data.items()):
        arn, why = _secret_arn(ctx, value)
        if arn is None:
            continue
        secrets.take(key)
        found[str(key)] = arn
        if why:
            ctx.report.note(file, f"secrets.{key}", value, why, "check the region and account in the ARN")
    for path, value in secrets.rest():
        _, why = _secret_arn(ctx, value)
        ctx.report.unsupported(file, path, value, why or "not a secret shipway can name by ARN",
                               "give the secret's ARN in secrets:")
    return found


def _secret_arn(ctx: _Context, value: Any) -> tuple[str | None, str | None]:
    """The ARN shipway passes for a Copilot secret reference (never its value), and a note, or (None, why)."""
    placeholder = None
    if ctx.placeholders:
        placeholder = f"Copilot names it without region and account; the ARN has {ctx.region}/{ctx.account}"
    if isinstance(value, dict) and set(value) == {"secretsmanager"}:
        kind, name = "secretsmanager", str(value["secretsmanager"])
    elif isinstance(value, str):
        kind, name = "ssm", value
    else:
        return None, "an output of another stack (from_cfn), which shipway does not read"
    name = name.replace("${COPILOT_APPLICATION_NAME}", ctx.app)
    if "${" in name:
        return None, "names a different secret in each environment; shipway passes one ARN to every environment"
    if name.startswith("arn:"):
        return (name, None) if re.match(v.SECRET_ARN, name) else (None, "a secret ARN with a JSON key or version, "
                                                                         "which shipway does not pass")
    if kind == "secretsmanager":
        arn = f"arn:aws:secretsmanager:{ctx.region}:{ctx.account}:secret:{name}"
    else:
        arn = f"arn:aws:ssm:{ctx.region}:{ctx.account}:parameter/{name.lstrip('/')}"
    return (arn, placeholder) if re.match(v.SECRET_ARN, arn) else (None, "not a name an ARN can hold")


def _count(ctx: _Context, file: str, name: str, m: Section, process: dict) -> None:
    count = m.peek("count")
    if count is None:
        return
    if isinstance(count, int):
        process["count"] = m.take("count")
        return
    if not isinstance(count, dict):
        return
    c = m.sub("count")
    if c.peek("spot") is not None and not c.has("range"):
        process["count"] = c.take("spot")
        process["capacity"] = Fargate.SPOT.value
        ctx.comments[("_w", name, "capacity")] = "Copilot's count.spot"
    scale: dict[str, Any] = {}
    rng = c.peek("range")
    if isinstance(rng, str) and re.match(r"^[0-9]+-[0-9]+$", rng):
        c.take("range")
        low, high = (int(x) for x in rng.split("-"))
        scale.update(min=low, max=high)
    elif isinstance(rng, dict):
        r = c.sub("range")
        scale.update(min=r.take("min", 1), max=r.take("max"))
        for path, value in r.rest():
            ctx.unsupported(file, path, value)
    if not scale:
        for path, value in c.rest():
            ctx.unsupported(file, path, value)
        return
    process["count"] = scale["min"]
    metrics = {"cpu_percentage": "cpu", "memory_percentage": "memory", "requests": "requests_per_target"}
    cooldown = c.peek("cooldown")
    if isinstance(cooldown, dict) and set(cooldown) <= {"in", "out"}:
        c.take("cooldown")
        if "in" in cooldown:
            scale["scale_in_cooldown"] = _duration(cooldown["in"], "count.cooldown.in")
        if "out" in cooldown:
            scale["scale_out_cooldown"] = _duration(cooldown["out"], "count.cooldown.out")
    scale["cpu"] = None  # Copilot scales on CPU only when asked to
    for key, target in metrics.items():
        value = c.peek(key)
        if isinstance(value, dict) and "value" in value:
            metric = c.sub(key)
            scale[target] = metric.take("value")
            for path, rest in metric.rest():
                ctx.unsupported(file, path, rest)
        elif isinstance(value, int):
            scale[target] = c.take(key)
    if all(scale.get(k) is None for k in metrics.values()):
        scale["cpu"] = 60
        ctx.report.note(file, "count.range", rng, "Copilot scaled on nothing but the range; shipway scales on "
                                                  "CPU at 60 percent", "set autoscale.cpu to taste")
    process["autoscale"] = scale
    for path, value in c.rest():
        ctx.unsupported(file, path, value)


def _http(ctx: _Context, file: str, m: Section, process: dict, name: str) -> None:
    if m.peek("http") is False:
        m.take("http")
        ctx.report.unsupported(file, "http", False, "the service is reached through a Network Load Balancer only; "
                               "shipway routes web processes through its Application Load Balancer",
                               f"give hosts: to apps.*.processes.{name} if it speaks HTTP")
        return
    http = m.sub("http")
    path = http.peek("path")
    if path in (None, "/", ""):
        http.take("path")
    alias = http.peek("alias")
    hosts = []
    if isinstance(alias, str):
        hosts = [alias]
    elif isinstance(alias, list) and all(isinstance(a, str) for a in alias):
        hosts = list(alias)
    elif isinstance(alias, list) and all(isinstance(a, dict) and "name" in a for a in alias):
        hosts = [a["name"] for a in alias]
        zones = [a["hosted_zone"] for a in alias if "hosted_zone" in a]
        if zones:
            ctx.unsupported(file, "http.alias[].hosted_zone", zones)
    if hosts and all(v.HOSTNAME.match(h) for h in hosts) and len(hosts) <= 5:
        http.take("alias")
        process["hosts"] = hosts
    elif not hosts:
        ctx.report.unsupported(file, "http.alias", "(none)", "Copilot serves the service on the load balancer's "
                               "own DNS name; shipway routes web processes by host name",
                               f"give hosts: to apps.*.processes.{name}")
    if http.peek("redirect_to_https") is True:
        http.take("redirect_to_https")
    if http.peek("version") in ("http1", "HTTP1"):
        http.take("version")
    health = http.peek("healthcheck")
    if isinstance(health, str):
        process["health_check"] = http.take("healthcheck")
    elif isinstance(health, dict):
        _healthcheck(ctx, file, http, process)
    delay = http.peek("deregistration_delay")
    if delay is not None:
        process["deregistration_delay"] = _duration(http.take("deregistration_delay"), "http.deregistration_delay")
    _fit_health_check(ctx, file, process)
    for field_path, value in http.rest():
        ctx.unsupported(file, field_path, value)


def _healthcheck(ctx: _Context, file: str, http: Section, process: dict) -> None:
    check = http.sub("healthcheck")
    if check.peek("path") is not None:
        process["health_check"] = check.take("path")
    for key, target, convert in (("healthy_threshold", "healthy_threshold", _number),
                                 ("interval", "health_check_interval", _duration),
                                 ("timeout", "health_check_timeout", _duration),
                                 ("grace_period", "health_check_grace", _duration)):
        if check.peek(key) is not None:
            process[target] = convert(check.take(key), f"http.healthcheck.{key}")
    for path, value in check.rest():
        ctx.unsupported(file, path, value)


# shipway's bounds on the health check fields (spec/model.py), to keep what fits and report the rest.
_HEALTH_BOUNDS = {"healthy_threshold": (2, 10), "health_check_interval": (5, 300), "health_check_timeout": (2, 120),
                  "health_check_grace": (0, 600), "deregistration_delay": (0, 110)}
_HEALTH_SOURCES = {"healthy_threshold": "http.healthcheck.healthy_threshold",
                   "health_check_interval": "http.healthcheck.interval",
                   "health_check_timeout": "http.healthcheck.timeout",
                   "health_check_grace": "http.healthcheck.grace_period",
                   "deregistration_delay": "http.deregistration_delay"}


def _fit_health_check(ctx: _Context, file: str, process: dict) -> None:
    """Keep the health check values shipway accepts; report the ones its deploy-speed bounds refuse."""
    for key, (low, high) in _HEALTH_BOUNDS.items():
        if key in process and not low <= process[key] <= high:
            ctx.report.unsupported(file, _HEALTH_SOURCES[key], process.pop(key),
                                   f"shipway allows {low} to {high} s" if key != "healthy_threshold"
                                   else f"shipway allows {low} to {high}", "the spec keeps shipway's default")
    wait = (process.get("health_check_interval", 5) * process.get("healthy_threshold", 2)
            + process.get("deregistration_delay", 30))
    if wait > 45:
        for key in ("health_check_interval", "healthy_threshold", "deregistration_delay"):
            if key in process:
                ctx.report.unsupported(file, _HEALTH_SOURCES[key], process.pop(key),
                                       f"shipway keeps a rolling step's wait (interval x healthy_threshold + "
                                       f"deregistration_delay) at most 45 s, and this makes it {wait} s",
                                       "the spec keeps shipway's default")
    if process.get("health_check_timeout", 4) >= process.get("health_check_interval", 5) and \
            "health_check_timeout" in process:
        ctx.report.unsupported(file, _HEALTH_SOURCES["health_check_timeout"], process.pop("health_check_timeout"),
                               "the timeout must be shorter than the interval", "the spec keeps shipway's default")


def _job(ctx: _Context, file: str, m: Section, workload: Workload, command: str | None, size: Any) -> None:
    on = m.sub("on")
    schedule = on.peek("schedule")
    try:
        converted = eventbridge(str(schedule)) if schedule is not None else None
    except ScheduleError as exc:
        ctx.report.problem(file, "on.schedule", f"{schedule!r} cannot be converted to EventBridge: {exc}")
        return
    if converted is None:
        ctx.report.problem(file, "on.schedule", "missing: a Scheduled Job needs a schedule")
        return
    on.take("schedule")
    if not command:
        ctx.unsupported(file, "command", "(the image's command)")
        return
    workload.cron = {"schedule": converted, "command": str(command), "size": size}
    if converted != schedule:
        ctx.comments[("_cron", workload.name)] = f"Copilot: {schedule}"
    for path, value in on.rest():
        ctx.unsupported(file, path, value)


def _overrides(ctx: _Context, file: str, m: Section, base: dict, environments: list[str]) -> None:
    """Per-environment overrides equal to the base value change nothing; every other one is reported."""
    overrides = m.take("environments") or {}
    for env_name, override in (overrides.items() if isinstance(overrides, dict) else []):
        if env_name not in environments:
            ctx.report.problem(file, f"environments.{env_name}", f"no environment manifest for {env_name!r}")
            continue
        for path, value in _leaves(override or {}, ()):
            if _get(base, path) != value:
                ctx.report.unsupported(file, ".".join(("environments", env_name, *path)), value, *WHY["environments"])


def _leaves(value: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict) and value:
        return [leaf for key, inner in value.items() for leaf in _leaves(inner, (*path, str(key)))]
    return [(path, value)]


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return object()
        data = data[key]
    return data


# --- apps ----------------------------------------------------------------------------------------


def _apps(ctx: _Context, workloads: list[Workload], pipeline: dict) -> dict:
    groups: dict[tuple[str, str], list[Workload]] = {}
    for workload in workloads:
        groups.setdefault(workload.image, []).append(workload)
    apps: dict[str, dict] = {}
    for image, members in groups.items():
        services = [w for w in members if w.process]
        if not services:
            for job in members:
                ctx.report.unsupported(job.file, "image", shown(image), "a Scheduled Job whose image no service "
                                       "builds: shipway runs cron on its app's image",
                                       "build the job's command into a service's image and import again")
            continue
        name = ctx.app if len(groups) == 1 else services[0].name
        apps[name] = _app(ctx, name, image, members, pipeline, first=len(apps) == 0)
    return apps


def _app(ctx: _Context, name: str, image: tuple[str, str], members: list[Workload], pipeline: dict,
         first: bool) -> dict:
    app: dict[str, Any] = {}
    where = ("apps", name)
    source = dict(pipeline["source"] or {"codecommit": ctx.app})
    if pipeline["source"] is None:
        ctx.comments[(*where, "source")] = "no pipeline manifest: a CodeCommit repository named after the app"
    elif "codecommit" in source and not first:
        source["codecommit"] = f"{source['codecommit']}-{name}"
        ctx.report.note(pipeline["file"], "source.properties.repository", source["codecommit"],
                        f"shipway creates one CodeCommit repository per app; app {name} gets its own",
                        "push the code to it too, or use a CodeConnections source")
    if "connection_arn" in source:
        ctx.comments[(*where, "source", "connection_arn")] = (f"placeholder: the ARN of connection "
                                                              f"{pipeline.get('placeholder_connection')}")
    app["source"] = source
    if image[0] == "location":
        app["build"] = {"dockerfile": "Dockerfile"}
        for w in members:
            ctx.unsupported(w.file, "image.location", image[1])
        ctx.comments[(*where, "build")] = f"Copilot ran the prebuilt image {image[1]}"
    else:
        app["build"] = {"dockerfile": image[0]}
    config: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for w in members:
        for section, values, target in (("variables", w.config, config), ("secrets", w.secrets, secrets)):
            for key, value in values.items():
                if key in target and target[key] != value:
                    ctx.unsupported(w.file, f"{section}.{key}", value)
                    continue
                if key in RESERVED_VARIABLES:
                    ctx.report.unsupported(w.file, f"{section}.{key}", value, f"shipway sets {key} itself",
                                           "read it under another name")
                    continue
                target[key] = value
    for key in set(config) & set(secrets):
        ctx.report.unsupported(members[0].file, f"variables.{key}", config.pop(key),
                               "it is also a secret of another process of the app", "rename one of them")
    if config:
        app["config"] = config
    if secrets:
        app["secrets"] = secrets
    app["processes"] = {w.name: w.process for w in members if w.process}
    for w in members:
        for comment_key in [k for k in ctx.comments if k[:2] == ("_w", w.name)]:
            kind = "cron" if w.cron else "processes"
            ctx.comments[(*where, kind, w.name, *comment_key[2:])] = ctx.comments.pop(comment_key)
    jobs = {w.name: w.cron for w in members if w.cron}
    if jobs:
        app["cron"] = jobs
        for job in jobs:
            note = ctx.comments.pop(("_cron", job), None)
            if note:
                ctx.comments[(*where, "cron", job, "schedule")] = note
    if pipeline["approve_before"]:
        app["deploy"] = {"strategy": "rolling", "approve_before": pipeline["approve_before"]}
    return app


# --- addons --------------------------------------------------------------------------------------


def _addons(ctx: _Context) -> None:
    """Addon templates are CloudFormation of their own: each resource is reported with what to do with it."""
    for template in sorted((ctx.root / "copilot").glob("*/addons/*.y*ml")):
        if template.stem == "addons.parameters":
            continue  # the parameters Copilot passes to the addon templates, not a template
        file = ctx.rel(template)
        data = read_yaml(template, file, ctx.report)
        if not isinstance(data, dict):
            if data is not None:
                ctx.report.problem(file, None, "must be a CloudFormation template (a mapping)")
            continue
        resources = data.get("Resources")
        if not isinstance(resources, dict):
            ctx.report.problem(file, "Resources", "missing: an addon template holds resources")
            continue
        for logical_id, resource in resources.items():
            kind = resource.get("Type", "?") if isinstance(resource, dict) else "?"
            why, todo = ADDON_WHY.get(kind, ("an addon resource; shipway has no addons yet",
                                             "keep it in a stack of your own (import --plan lists how)"))
            ctx.report.unsupported(file, f"Resources.{logical_id}", kind, why, todo)
    ctx.report.raise_problems()
