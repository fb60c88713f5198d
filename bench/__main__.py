"""`make bench` (python -m bench): synth cost against the CDK floor, growth with apps, Node 24 against Node 20,
template budgets and the deploy-time model, written to bench/RESULTS.md.

Every timing is the median of ``--repetitions`` fresh process trees (at least 5 for RESULTS.md), and the
variants of each comparison run interleaved in the same stretch of time, so a ratio never mixes a quiet
minute with a busy one.
"""

from __future__ import annotations

import argparse
import datetime
import filecmp
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from shipway import naming
from shipway.spec import Spec, load_spec

from . import deploy_model as dm
from .budgets import DIRECT_BODY_BYTES, LIMITS, budgets
from .measure import CDK, FLOOR_APP, REPLAY_APP, ROOT, Command, Series, cli_context, compare, python_synth, run_once
from .node_profile import categorize, largest_profile
from .specs import SHIPPED, shipped_data, spec_with_apps, write_spec

RESULTS = Path(__file__).with_name("RESULTS.md")
FINDINGS = Path(__file__).with_name("findings.md")
APP_COUNTS = (1, 10, 50)
TARGET_RATIO = 2.5
TARGET_PER_APP = 0.15  # CPU seconds per added app (issue 16)
REVIEW_APPS = (1, 50)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run(*argv: str) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"unavailable ({exc})"


def system_node() -> str | None:
    """The first Node on PATH outside the virtualenv: the machine's own."""
    venv = Path(sys.prefix).resolve()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder) / "node"
        if candidate.is_file() and os.access(candidate, os.X_OK) and venv not in candidate.resolve().parents:
            return str(candidate)
    return None


def venv_node() -> str:
    return shutil.which("node") or "node"


def machine(node20: str | None) -> list[str]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    load = os.getloadavg()
    return [
        "| what | value |",
        "| --- | --- |",
        f"| CPU | {cpu}, {os.cpu_count()} cores |",
        f"| memory | {memory_kb / 2**20:.1f} GiB |",
        f"| OS | {platform.platform()} |",
        f"| load average at start (1/5/15 min) | {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} |",
        f"| Python | {platform.python_version()} ({sys.executable}) |",
        f"| Node (ours, venv) | {_run(venv_node(), '--version')} ({venv_node()}) |",
        f"| Node (system) | {_run(node20, '--version') if node20 else 'none found'} ({node20}) |",
        f"| aws-cdk-lib | {metadata.version('aws-cdk-lib')} |",
        f"| constructs | {metadata.version('constructs')} |",
        f"| jsii (Python runtime) | {metadata.version('jsii')} |",
        f"| cdk-nag | {metadata.version('cdk-nag')} |",
        f"| CDK CLI | {_run(str(CDK), '--version')} |",
        f"| shipway commit | {_run('git', 'rev-parse', '--short', 'HEAD')} |",
    ]


def mib(value: int) -> str:
    return f"{value / 2**20:.0f} MiB"


def series_rows(series: dict[str, Series]) -> list[str]:
    rows = [
        "| variant | wall, median | wall, min .. max | CPU (user + sys), median | peak RSS, python + node |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for s in series.values():
        low, high = s.spread
        parts = " + ".join(mib(s.peak_rss_of(k)) for k in ("python", "node"))
        rows.append(f"| {s.label} | {s.seconds:.2f} s | {low:.2f} .. {high:.2f} s | {s.cpu_seconds:.2f} s | "
                    f"{mib(s.peak_rss)} ({parts}) |")
    return rows


def ratio_cells(a: Series, b: Series) -> str:
    """Wall-time ratio (the headline) and CPU-time ratio, which a busy machine disturbs less."""
    return f"**{a.seconds / b.seconds:.2f}x** | {a.cpu_seconds / b.cpu_seconds:.2f}x"


def verdict(value: float, target: float) -> str:
    return "holds" if value <= target else "MISSED"


def floor_section(reps: int, tmp: Path) -> tuple[list[str], Path]:
    floor_label = "CDK floor (bare cdk.App, one empty stack; CDK's default built-in validation)"
    bare_label = "CDK floor without built-in validation (CDK_VALIDATION=false)"
    ours_label = "shipway, shipped spec (as shipped: built-in validation off)"
    validated_label = "shipway, shipped spec with built-in validation (CDK_VALIDATION=true, as before the fix)"
    variants = {
        floor_label: python_synth(FLOOR_APP, cli_context()),
        bare_label: python_synth(FLOOR_APP, cli_context(), extra_env={"CDK_VALIDATION": "false"}),
        ours_label: python_synth(ROOT / "app.py", cli_context(SHIPPED)),
        validated_label: python_synth(ROOT / "app.py", cli_context(SHIPPED), extra_env={"CDK_VALIDATION": "true"}),
    }
    shipped_out, validated = tmp / "shipped", tmp / "validated"
    series = compare(variants, reps, log, warm_up=True, keep={ours_label: shipped_out, validated_label: validated})
    same = all(filecmp.cmp(t, validated / t.name, shallow=False) for t in shipped_out.glob("*.template.json"))
    floor, floor_bare, ours, ours_validated = series.values()
    ratio = ours.seconds / floor.seconds
    ratio_bare = ours.seconds / floor_bare.seconds
    lines = [
        "## Synth floor ratio",
        "",
        "Each variant is a fresh `python app.py`-style process (`python bench/floor_app.py` for the floor) with",
        "`CDK_OUTDIR` and the `CDK_CONTEXT_JSON` that the pinned CLI passes (cdk.json's context, path metadata,",
        "version reporting off), the same Python and the venv's Node 24: not through `cdk synth`, whose own",
        "Node start would be added to both sides alike.",
        "",
        *series_rows(series),
        "",
        "| ratio (same run) | wall | CPU | target (on wall time) |",
        "| --- | ---: | ---: | --- |",
        f"| shipped / CDK floor, both as CDK runs them by default | {ratio_cells(ours, floor)} | <= {TARGET_RATIO}x: "
        f"{verdict(ratio, TARGET_RATIO)} |",
        f"| shipped / CDK floor, both without built-in validation (like for like) | {ratio_cells(ours, floor_bare)} | "
        f"<= {TARGET_RATIO}x: {verdict(ratio_bare, TARGET_RATIO)} |",
        f"| shipped with / without built-in validation (the fix) | {ratio_cells(ours_validated, ours)} | |",
        f"| floor with / without built-in validation | {ratio_cells(floor, floor_bare)} | |",
        "",
        f"Templates with and without the built-in validation are byte-identical: **{'yes' if same else 'NO'}**.",
        "",
    ]
    return lines, shipped_out


def growth_section(reps: int, tmp: Path) -> tuple[list[str], dict[int, Path], Series]:
    """Synth of 1, 10 and 50 apps; returns the section, the assemblies and the 50-app series."""
    base = shipped_data()
    variants = {}
    for count in APP_COUNTS:
        path = write_spec(spec_with_apps(base, count), tmp / f"apps-{count}.yaml")
        variants[f"{count} app{'s' if count > 1 else ''}"] = python_synth(ROOT / "app.py", cli_context(path))
    outdirs = {count: tmp / f"out-{count}" for count in APP_COUNTS}
    series = compare(variants, reps, log, keep=dict(zip(variants, outdirs.values(), strict=True)))
    times = [s.seconds for s in series.values()]
    cpu = [s.cpu_seconds for s in series.values()]
    memory = [s.peak_rss for s in series.values()]
    (n1, n10, n50), (t1, t10, t50) = APP_COUNTS, times
    per_app = (t50 - t1) / (n50 - n1)
    per_app_cpu = (cpu[2] - cpu[0]) / (n50 - n1)
    lines = [
        "## Growth with apps",
        "",
        "The shipped spec grown by bench/specs.py: its apps first, then numbered copies (distinct names, hosts,",
        f"repositories, listener priorities). Every app adds 1 + {len(base['environments'])} stacks.",
        "",
        *series_rows(series),
        "",
        "| marginal cost per added app (same run) | wall | CPU | memory |",
        "| --- | ---: | ---: | ---: |",
        f"| 1 -> 10 apps | {(t10 - t1) / (n10 - n1):.3f} s | {(cpu[1] - cpu[0]) / (n10 - n1):.3f} s | "
        f"{mib((memory[1] - memory[0]) // (n10 - n1))} |",
        f"| 10 -> 50 apps | {(t50 - t10) / (n50 - n10):.3f} s | {(cpu[2] - cpu[1]) / (n50 - n10):.3f} s | "
        f"{mib((memory[2] - memory[1]) // (n50 - n10))} |",
        f"| **1 -> 50 apps** | {per_app:.3f} s | **{per_app_cpu:.3f} s** (target <= {TARGET_PER_APP} s: "
        f"{verdict(per_app_cpu, TARGET_PER_APP)}) | {mib((memory[2] - memory[0]) // (n50 - n1))} |",
        "",
    ]
    return lines, outdirs, list(series.values())[-1]


def review_section(reps: int, tmp: Path, full: dict[int, Path], whole: Series | None) -> list[str]:
    """One app's stacks alone (shipway.selection, what ``shipway diff -a`` and ``make review APP=`` synthesize)
    in a fleet of 1 and of 50: with the platform left out, and with it (a change that touches the platform)."""
    app = next(iter(shipped_data()["apps"]))
    own = 1 + len(shipped_data()["environments"])
    specs = {}
    for count in REVIEW_APPS:
        specs[count] = tmp / f"apps-{count}.yaml"
        if not specs[count].exists():
            write_spec(spec_with_apps(shipped_data(), count), specs[count])
    variants, keep = {}, {}
    for with_platform in (False, True):
        for count in REVIEW_APPS:
            label = (f"{app} of {count} app{'s' if count > 1 else ''}, "
                     + ("with the platform and data stacks" if with_platform else f"its {own} stacks only"))
            context = {**cli_context(specs[count]), "apps": app, **({} if with_platform else {"platform": "false"})}
            variants[label] = python_synth(ROOT / "app.py", context)
            keep[label] = tmp / f"review-{count}-{with_platform}"
    series = compare(variants, reps, log, keep=keep)
    rows = list(series.values())
    lines = [
        "## Reviewing one app",
        "",
        f"`shipway diff -a {app}` and `make review APP={app}` synthesize only {app}'s stacks (its pipeline stack and",
        "one runtime stack per environment; CDK context `apps=... platform=false`, shipway/selection.py), plus the",
        "platform and data stacks when the change touches them (the spec outside `apps`, or shipway's template",
        "code, differs from the base: shipway/review/selection.py). Each row is one such synth, a fresh process;",
        "`make review` runs one for the base and one for the head, `shipway diff -a` one.",
        "",
        *series_rows(series),
        "",
        "| one app's review: 50 apps / 1 app (same run) | wall | CPU | target |",
        "| --- | ---: | ---: | --- |",
    ]
    for small, large, what in ((rows[0], rows[1], "its stacks only"), (rows[2], rows[3], "with the platform")):
        ratio = large.cpu_seconds / small.cpu_seconds
        lines.append(f"| {what} | {ratio_cells(large, small)} | independent of fleet size (CPU <= 1.15x): "
                     f"{verdict(ratio, 1.15)} |")
    if whole is not None:
        lines.append(f"| the whole 50-app synth (what a review cost before) / {app}'s stacks of 50 apps | "
                     f"{ratio_cells(whole, rows[1])} | |")
    if 50 in full:
        selected = sorted((tmp / "review-50-False").glob("*.template.json"))
        same = bool(selected) and all(filecmp.cmp(t, full[50] / t.name, shallow=False) for t in selected)
        others = len(list(full[50].glob("*.template.json"))) - len(selected)
        lines += ["", f"{app}'s {len(selected)} templates synthesized alone are byte-identical to the same stacks of "
                      f"the full 50-app synth: **{'yes' if same else 'NO'}**; the other {others} stacks are absent."]
    lines.append("")
    return lines


def reach_section(reps: int, tmp: Path, shipped_out: Path, outdirs: dict[int, Path]) -> list[str]:
    """What CDK alone charges for the same templates (bench/replay_app.py), against the floor and the targets."""
    for count in (1, 50):
        if count not in outdirs:
            outdirs[count] = tmp / f"out-{count}"
            spec = write_spec(spec_with_apps(shipped_data(), count), tmp / f"apps-{count}.yaml")
            run_once(python_synth(ROOT / "app.py", cli_context(spec)), keep=outdirs[count])
    no_validation = {"CDK_VALIDATION": "false"}

    def replay(source: Path, checks: bool) -> Command:
        return python_synth(REPLAY_APP, cli_context(), extra_env={
            **no_validation, "REPLAY_FROM": str(source), "REPLAY_CHECKS": "true" if checks else "false"})

    labels = {
        "floor": "CDK floor without built-in validation (as above)",
        "shipway": "shipway, shipped spec (as above)",
        "bare": "CDK writing the shipped spec's 10 templates, nothing else",
        "checked": "the same with cdk-nag's AwsSolutions rules on every resource",
        "one": "CDK writing the 1-app spec's templates, with cdk-nag",
        "fifty": "CDK writing the 50-app spec's templates, with cdk-nag",
    }
    series = compare({
        labels["floor"]: python_synth(FLOOR_APP, cli_context(), extra_env=no_validation),
        labels["shipway"]: python_synth(ROOT / "app.py", cli_context(SHIPPED)),
        labels["bare"]: replay(shipped_out, checks=False),
        labels["checked"]: replay(shipped_out, checks=True),
        labels["one"]: replay(outdirs[1], checks=True),
        labels["fifty"]: replay(outdirs[50], checks=True),
    }, reps, log)
    floor, shipway, bare, checked, one, fifty = series.values()
    per_app, per_app_wall = ((fifty.cpu_seconds - one.cpu_seconds) / 49, (fifty.seconds - one.seconds) / 49)
    return [
        "## What CDK alone charges for these templates",
        "",
        "bench/replay_app.py is the cheapest CDK app that writes shipway's templates: each stack one",
        "`CfnInclude` of the template shipway wrote, so Node makes every resource the typed L1 construct of",
        "its type with one jsii request per stack, and runs no L2 construct and no shipway code (cdk-nag, where",
        "named, evaluates its rules on those resources and reports, since the replay holds no acknowledgement).",
        "It writes the same templates (`python -m bench.replay_app ASSEMBLY` checks it: equal but for the",
        "construct paths in the metadata and the order of `DependsOn` lists). What it costs is what any CDK",
        "app pays for templates of this size, whatever builds them.",
        "",
        *series_rows(series),
        "",
        "| same run | wall | CPU | target |",
        "| --- | ---: | ---: | --- |",
        f"| shipway, shipped spec / floor | {ratio_cells(shipway, floor)} | <= {TARGET_RATIO}x |",
        f"| CDK writing the same templates / floor | {ratio_cells(bare, floor)} | |",
        f"| the same with cdk-nag / floor | {ratio_cells(checked, floor)} | "
        f"{'within' if checked.seconds / floor.seconds <= TARGET_RATIO else 'already over'} {TARGET_RATIO}x |",
        f"| per added app, CDK writing the templates with cdk-nag (1 -> 50 apps) | {per_app_wall:.3f} s | "
        f"**{per_app:.3f} s** | "
        f"<= {TARGET_PER_APP} s: leaves {max(TARGET_PER_APP - per_app, 0):.3f} s per app for building them |",
        "",
    ]


def node_section(reps: int, node20: str | None, tmp: Path) -> list[str]:
    if node20 is None:
        return ["## Node 24 against Node 20", "", "No system Node found outside the venv: not measured.", ""]
    variants = {
        f"shipped spec on Node 24 ({venv_node()})": python_synth(ROOT / "app.py", cli_context(SHIPPED),
                                                                node=venv_node()),
        f"shipped spec on Node 20 ({node20})": python_synth(ROOT / "app.py", cli_context(SHIPPED), node=node20),
    }
    out24, out20 = tmp / "node24", tmp / "node20"
    series = compare(variants, reps, log, keep=dict(zip(variants, (out24, out20), strict=True)))
    ours, theirs = series.values()
    same = all(filecmp.cmp(t, out20 / t.name, shallow=False) for t in out24.glob("*.template.json"))
    return [
        "## Node 24 against Node 20",
        "",
        "The same synth with jsii's Node picked by `JSII_NODE` (jsii's end-of-life banner silenced for Node 20).",
        "",
        *series_rows(series),
        "",
        f"Node 24 / Node 20 (same run): **{ours.seconds / theirs.seconds:.2f}x** wall time, "
        f"{ours.cpu_seconds / theirs.cpu_seconds:.2f}x CPU time, "
        f"{ours.peak_rss / theirs.peak_rss:.2f}x peak memory. Templates byte-identical: "
        f"**{'yes' if same else 'NO'}**.",
        "",
    ]


def budget_section(assemblies: list[tuple[str, Spec, Path]]) -> list[str]:
    lines = [
        "## Template budgets",
        "",
        "CloudFormation's quotas per stack: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in LIMITS.items())
        + f" (template body through S3; {DIRECT_BODY_BYTES:,} bytes inline). Dynamic references are",
        "`{{resolve:...}}` occurrences. tests/test_budgets.py checks the same quotas on every stack at 52 apps.",
        "",
    ]
    for label, spec, outdir in assemblies:
        rows = {b.stack: b for b in budgets(outdir)}
        over_direct = [name for name, b in rows.items() if b.bytes > DIRECT_BODY_BYTES]
        lines += [f"### {label}", "", "| stack | resources | bytes | outputs | parameters | dynamic refs |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for kind, names in _kinds(spec):
            b = max((rows[n] for n in names), key=lambda b: (b.resources, b.bytes))
            title = b.stack if len(names) == 1 else f"{kind}: largest of {len(names)} ({b.stack})"
            lines.append(f"| {title} | {b.resources} | {b.bytes:,} | {b.outputs} | {b.parameters} | "
                         f"{b.dynamic_references} |")
        peak = {key: max(getattr(b, key) for b in rows.values()) for key in LIMITS}
        lines.append("| **largest / limit** | " + " | ".join(
            f"{peak[k]:,} / {LIMITS[k]:,} ({peak[k] / LIMITS[k]:.0%})" for k in LIMITS) + " |")
        lines.append(
            f"\n{len(rows)} stacks. Over the {DIRECT_BODY_BYTES:,}-byte inline limit (so deployed through an S3 "
            "bucket, as `cdk deploy` does): " + (", ".join(over_direct) if over_direct else "none") + "."
        )
        lines.append("")
    return lines


def _kinds(spec: Spec) -> list[tuple[str, list[str]]]:
    """Each platform and data stack alone; app stacks grouped by kind (pipeline, runtime per environment)."""
    kinds = []
    for env in spec.environments:
        kinds.append(("platform", [naming.platform_stack(spec.name, env)]))
        kinds.append(("data", [naming.data_stack(spec.name, env)]))
    if len(spec.apps) <= 2:
        for app in spec.apps:
            kinds.append(("pipeline", [naming.app_stack(spec.name, app)]))
            kinds += [("runtime", [naming.app_env_stack(spec.name, app, env)]) for env in spec.environments]
        return kinds
    kinds.append(("pipeline stacks", [naming.app_stack(spec.name, app) for app in spec.apps]))
    for env in spec.environments:
        kinds.append((f"{env} runtime stacks", [naming.app_env_stack(spec.name, app, env) for app in spec.apps]))
    return kinds


def minutes(value: float) -> str:
    return f"{value / 60:.1f} min" if value >= 90 else f"{value:.0f} s"


def deploy_section(spec: Spec, outdir: Path) -> list[str]:
    m = dm.model(spec, outdir)
    d = dm.ELB_DEFAULTS
    default_wait = d["interval"] * d["threshold"] + d["deregistration"]
    lines = [
        "## Deploy-time model",
        "",
        "Arithmetic on the shipped spec's synthesized templates (CloudFormation's defaults where a property is",
        "absent) and on the assumptions listed at the end of this section; nothing here was deployed.",
        "",
        "### Per target group: interval x healthy threshold + deregistration delay",
        "",
        "| stack | target group | interval | threshold | deregistration | wait per rolling step | ELB defaults |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for g in m.groups:
        lines.append(f"| {g.stack} | {g.logical_id} | {g.interval} s | {g.threshold} | {g.deregistration} s | "
                     f"**{g.wait} s** | {default_wait} s ({default_wait / g.wait:.0f}x slower) |")
    if not m.groups:
        lines.append("| (no target group in the templates yet) | | | | | | |")
    lines += ["", "### Per app: the create path", "",
              "| app | slow-to-create resources in its own stacks | modeled create of one runtime stack |",
              "| --- | --- | --- |"]
    for app, slow in m.slow.items():
        service = _web_service(spec, m, app)
        seconds, how = dm.app_create_seconds(service)
        lines.append(f"| {app} | {', '.join(slow) if slow else 'none'} | {minutes(seconds)}: {how} |")
    for env in spec.environments:
        stacks = [naming.platform_stack(spec.name, env), naming.data_stack(spec.name, env)]
        lines.append(f"| (shared, once per environment: {env}) | " + "; ".join(
            f"{s}: {', '.join(dm.slow_in(m.templates, s)) or 'none'}" for s in stacks) + " | not on an app's path |")

    lines += ["", f"### Push to live: a rolling deploy of {dm.TASKS} tasks", ""]
    service = next((_web_service(spec, m, app) for app in spec.apps if _web_service(spec, m, app)), None)
    if service is None:
        lines += ["No load-balanced ECS service in the templates yet: not modeled.", ""]
        total = scale_tt = scale_sched = deploy = None
    else:
        steps = dm.push_to_live(service)
        total = sum(s for _, s, _ in steps)
        deploy = steps[-1][1]
        lines += [f"Service `{service.stack}/{service.logical_id}`, values from its template:", "",
                  "| step | modeled | how (assumptions) |", "| --- | ---: | --- |"]
        lines += [f"| {name} | {minutes(sec)} | {how} |" for name, sec, how in steps]
        lines += [f"| **push to live** | **{minutes(total)}** | |", ""]
        lines += [
            "Every load-balanced service, rolling 20 tasks at its template's percents, and with its own strategy:",
            "",
            "| service | min / max % | rolling: deploy step | own strategy: deploy step to all traffic |",
            "| --- | ---: | ---: | --- |",
        ]
        for s in (s for s in m.services if s.target_group is not None):
            own_seconds, how = dm.own_strategy_seconds(s)
            lines.append(f"| {s.stack}/{s.logical_id} | {s.minimum_healthy} / {s.maximum} | "
                         f"{minutes(s.batches() * s.step_seconds())} | {minutes(own_seconds)}: {how} |")
        lines.append("")
        scale_tt, how_tt = dm.scale_out_seconds(service, scheduled=False)
        scale_sched, how_sched = dm.scale_out_seconds(service, scheduled=True)
        lines += ["Scale-out 1 -> 20 tasks:", "", "| trigger | modeled | how |", "| --- | ---: | --- |",
                  f"| target tracking (CPU / requests per target) | {minutes(scale_tt)} | {how_tt} |",
                  f"| scheduled (autoscale.schedules raises the minimum ahead of a spike) | {minutes(scale_sched)} | "
                  f"{how_sched} |", ""]
    app_create = max((dm.app_create_seconds(_web_service(spec, m, a))[0] for a in spec.apps), default=None)
    own = None
    if service is not None and total is not None and deploy is not None:
        own = total - deploy + dm.own_strategy_seconds(service)[0]
        lines += [f"With `{service.stack}/{service.logical_id}`'s own strategy ({service.strategy.lower()}) "
                  f"instead of rolling, push to live is **{minutes(own)}**.", ""]
    ours = {
        "create an app": (app_create, "runtime stack create"),
        "deploy": (total, "push to live, rolling"),
        "deploy, own strategy": (own, "push to live, the app's own strategy"),
        "scale out by one instance": (scale_tt, "1 -> 20 tasks, target tracking"),
        "roll out 20 replicas": (deploy, "deploy step, rolling 20 tasks"),
        "scale out 1 -> 20": (scale_tt, "target tracking"),
        "scale out 1 -> 20, scheduled": (scale_sched, "scheduled minimum"),
        "one rolling step (30 s x 5 + 300 s)": (max((g.wait for g in m.groups), default=None), "target group wait"),
    }
    lines += ["### Against the published figures", "",
              "| who | what | their figure | shipway, modeled | theirs / ours |", "| --- | --- | ---: | ---: | ---: |"]
    for who, what, text, theirs in dm.PUBLISHED:
        for key in [what, f"{what}, own strategy", f"{what}, scheduled"]:
            if key not in ours:
                continue
            mine, how = ours[key]
            ratio = f"{theirs / mine:.1f}x {'faster' if mine < theirs else 'SLOWER'}" if mine else "n/a"
            lines.append(f"| {who} | {what} | {text} | {minutes(mine) + f' ({how})' if mine else 'n/a'} | {ratio} |")
    lines += ["", "minne's own pipeline adds what it asks for on top of the push-to-live path: the staging load-test",
              "gate (`loadtest.run_time`), the manual approval before production and the canary bake",
              "(`deploy.bake_minutes`); they are choices, not waits the platform imposes.", "",
              "Assumptions (seconds, and why):", ""]
    lines += [f"- {key}: {sec} s: {why}" for key, (sec, why) in dm.ASSUMED.items()]
    lines.append("")
    return lines


def _web_service(spec: Spec, m: dm.Model, app: str) -> dm.Service | None:
    """The app's first load-balanced service, in its last environment (production in the shipped spec)."""
    env = list(spec.environments)[-1]
    stack = naming.app_env_stack(spec.name, app, env)
    return next((s for s in m.services if s.stack == stack and s.target_group is not None), None)


def profile_section(tmp: Path, specs: dict[str, Path]) -> list[str]:
    """Single runs for attribution: phases with jsii round-trips, cdk-nag's and validation's cost, V8's profile."""
    runs: dict[str, dict] = {}
    variants: tuple[tuple[list[str], dict[str, str], str], ...] = (
        ([], {}, ""), (["--no-checks"], {}, " without cdk-nag"),
        ([], {"CDK_VALIDATION": "true"}, " with built-in validation"),
    )
    # The built-in validation's cost is shown on the smallest spec only: on the largest it takes minutes.
    plan = [(label + suffix, path, args, env) for label, path in specs.items() for args, env, suffix in variants
            if not (env and label != next(iter(specs)))]
    for label, path, args, env in plan:
        log(f"  profile: {label}")
        out = subprocess.run(
            [sys.executable, "-m", "bench.phases", str(path), str(tmp / "phases"), *args,
             *(["--profile", str(tmp / "pyinstrument.txt")] if not args and not env else [])],
            capture_output=True, text=True, check=True, cwd=ROOT, env=dict(os.environ, **env),
        )
        runs[label] = json.loads(out.stdout.splitlines()[-1])
    names = list(next(iter(runs.values()))["phases"])
    lines = [
        "## Profile: where a synth spends its time",
        "",
        "One fresh process per column (`python -m bench.phases`), single runs for attribution, not timing claims.",
        "Each cell: seconds / jsii round-trips (requests from Python to the Node kernel).",
        "",
        "| phase | " + " | ".join(runs) + " |",
        "| --- |" + " ---: |" * len(runs),
    ]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(
            f"{r['phases'][name]['seconds']:.2f} s / {r['phases'][name]['round_trips']}" for r in runs.values()) + " |")
    lines.append("| **total** | " + " | ".join(
        f"**{sum(p['seconds'] for p in r['phases'].values()):.2f} s** / "
        f"{sum(p['round_trips'] for p in r['phases'].values())}" for r in runs.values()) + " |")
    labels = list(specs)
    if len(labels) == 2:
        small, large = labels
        a, b = runs[small]["phases"], runs[large]["phases"]
        n_small = len(load_spec(specs[small]).apps)
        n_large = len(load_spec(specs[large]).apps)
        build = "build the construct tree"
        trips = (b[build]["round_trips"] - a[build]["round_trips"]) / (n_large - n_small)
        lines += ["", f"jsii round-trips per added app while building the tree: **{trips:.0f}** "
                      f"({small} -> {large})."]
    lines += ["", "Slowest shipway functions (inclusive, pyinstrument, last profiled column):", "",
              "| function | seconds |", "| --- | ---: |"]
    profiled = [r for r in runs.values() if "shipway" in r]
    for function, seconds in (profiled[-1]["shipway"] if profiled else [])[:15]:
        lines.append(f"| `{function}` | {seconds:.2f} |")
    largest = list(specs)[-1]
    lines += ["", f"Most jsii round-trips by the shipway line that makes them ({largest}):", "",
              "| shipway line | round-trips |", "| --- | ---: |"]
    lines += [f"| `{site}` | {count} |" for site, count in runs[largest]["sites"][:15]]
    lines += ["", "Where the jsii Node process spends its CPU (V8 `--cpu-prof`, its samples, one run):", ""]
    v8 = dict(list(specs.items())[:1])  # the profiler slows the Node side badly: the smallest spec only
    lines += ["| category | " + " | ".join(v8) + " |", "| --- |" + " ---: |" * len(v8)]
    shares: dict[str, dict[str, float]] = {}
    for label, path in v8.items():
        folder = tmp / f"cpuprof-{len(shares)}"
        subprocess.run([sys.executable, "-m", "bench.phases", str(path), str(tmp / "phases")], check=True,
                       capture_output=True, cwd=ROOT,
                       env=dict(os.environ, NODE_OPTIONS=f"--cpu-prof --cpu-prof-dir={folder}"))
        shares[label] = categorize(largest_profile(folder))
    categories = list(dict.fromkeys(c for s in shares.values() for c in s))
    for category in categories:
        lines.append(f"| {category} | " + " | ".join(
            f"{s.get(category, 0):.2f} s ({s.get(category, 0) / sum(s.values()):.0%})" for s in shares.values()) + " |")
    lines.append("")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--repetitions", type=int, default=5, help="runs per variant; RESULTS.md wants >= 5")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--skip", action="append", default=[],
                        choices=["floor", "growth", "reach", "review", "node", "profile"],
                        help="leave a section out (development)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    node20 = system_node()
    tmp = Path(tempfile.mkdtemp(prefix="shipway-bench-results-"))
    try:
        header = machine(node20)
        sections: list[str] = []
        log("floor ratio")
        shipped_out = None
        if "floor" not in args.skip:
            lines, shipped_out = floor_section(args.repetitions, tmp)
            sections += lines
        outdirs: dict[int, Path] = {}
        whole = None
        if "growth" not in args.skip:
            log("growth")
            lines, outdirs, whole = growth_section(args.repetitions, tmp)
            sections += lines
        if shipped_out is None:
            shipped_out = tmp / "shipped"
            run_once(python_synth(ROOT / "app.py", cli_context(SHIPPED)), keep=shipped_out)
        if "reach" not in args.skip:
            log("what CDK alone charges")
            sections += reach_section(args.repetitions, tmp, shipped_out, outdirs)
        if "review" not in args.skip:
            log("review")
            sections += review_section(args.repetitions, tmp, outdirs, whole)
        if "node" not in args.skip:
            log("node")
            sections += node_section(args.repetitions, node20, tmp)
        shipped = load_spec(SHIPPED)
        assemblies = [("shipped spec (2 apps)", shipped, shipped_out)]
        if 50 in outdirs:
            assemblies.append(("50 apps", load_spec(tmp / "apps-50.yaml"), outdirs[50]))
        sections += budget_section(assemblies)
        sections += deploy_section(shipped, shipped_out)
        if "profile" not in args.skip:
            log("profile")
            big = tmp / "apps-50.yaml"
            if not big.exists():
                write_spec(spec_with_apps(shipped_data(), 50), big)
            sections += profile_section(tmp, {"shipped (2 apps)": SHIPPED, "50 apps": big})
        elapsed = time.perf_counter() - started
        text = "\n".join([
            "# shipway benchmarks",
            "",
            f"Written by `make bench` (`python -m bench --repetitions {args.repetitions}`) on "
            f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC in {elapsed / 60:.1f} min. Timings are",
            f"medians of {args.repetitions} runs, each a fresh process tree; the variants of a comparison run",
            "interleaved (the first comparison after one discarded warm-up each, for cold disk caches). Peak",
            "memory is the sum of each process's peak RSS",
            "(VmHWM, sampled every 0.1 s) over the tree: python and its jsii node. CPU is user + system time of",
            "the whole tree, which a busy machine inflates far less than wall time.",
            "The machine is shared with other work while this runs: the min .. max columns show the noise.",
            "",
            "## Machine and toolchain",
            "",
            *header,
            "",
            *sections,
            FINDINGS.read_text() if FINDINGS.exists() else "",
        ])
        args.output.write_text(text.rstrip() + "\n")
        log(f"wrote {args.output} in {elapsed:.0f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
