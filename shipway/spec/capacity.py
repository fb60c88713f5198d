"""Does every pool hold what its processes need? The capacity check of the spec.

A task on an EC2 pool takes one network interface (awsvpc), its CPU units and its memory from one instance. A
pool's instances may be any of its ``instance_types``, so the check counts the weakest type: the fewest tasks of
a given size that one instance of the pool surely holds (``per_instance``). Without ENI trunking an
instance's interfaces bound it (every interface but the primary); with ``cluster.awsvpc_trunking`` its branch
interfaces do; CPU and memory bound it always.

What a process needs is the most tasks it ever runs at once: its largest count (``count``, autoscale ``max``,
every scheduled ``min`` and ``max``) during a deploy. Canary, linear and blue/green start the new revision at full
size beside the old one: twice the tasks. A rolling deploy starts up to ``ROLLING_MAX_PERCENT`` of them. Non-web
processes always roll (service.py). The load test's workers need ``loadtest.workers`` on the pool that hosts
them. Several demands on one pool add up: each takes its share of the pool's instances (load tests, which run
only during their gates, one at a time: see ``fits``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

from .. import catalog, naming
from .capacity_name import CapacityName, Fargate, OnPool
from .model import ROLLING_MAX_PERCENT, Cluster, Environment, Pool, Process, Size, Spec

MEMORY_SHARE = Fraction(9, 10)
"""Share of an instance's installed memory counted as free for tasks. The ECS agent registers less than the
installed memory (the kernel and the platform keep some: AWS Batch's guide shows an m4.large with 7985 of its
8192 MiB available, and smaller types lose a larger share); 90 % keeps the check on the safe side."""


def registered_memory_mib(instance: catalog.InstanceType) -> int:
    return int(instance.memory_mib * MEMORY_SHARE)


def bounds(instance: catalog.InstanceType, size: Size, *, trunking: bool) -> dict[str, int]:
    """awsvpc tasks of ``size`` one empty instance holds, by each of its limits."""
    interfaces = "branch interfaces" if trunking and instance.trunk_enis is not None else "network interfaces"
    return {
        interfaces: instance.awsvpc_tasks(trunking=trunking),
        "CPU": instance.vcpu * 1024 // size.cpu,
        "memory": registered_memory_mib(instance) // size.memory,
    }


def loadtest_workers(cluster: Cluster) -> CapacityName:
    """Where the load test's workers run: the first pool (by name) whose metadata offers ``loadtest: "true"``;
    Fargate Spot when none does."""
    key, value = naming.LOADTEST_POOL_METADATA
    offered = sorted(name for name, pool in cluster.pools.items() if pool.metadata.get(key) == value)
    return OnPool(offered[0]) if offered else Fargate.SPOT


def loadtest_pool(cluster: Cluster) -> str | None:
    """The pool that hosts the load test's workers; None when they run on Fargate (``loadtest_workers``)."""
    workers = loadtest_workers(cluster)
    return workers.pool if isinstance(workers, OnPool) else None


def largest_count(process: Process) -> tuple[int, str]:
    """The most tasks the process is ever asked to run, with where that number comes from."""
    found = [(process.count, f"count {process.count}")]
    if process.autoscale is not None:
        found.append((process.autoscale.max, f"autoscale max {process.autoscale.max}"))
        for sched in process.autoscale.schedules:
            for key in ("min", "max"):
                value = getattr(sched, key)
                if value is not None:
                    found.append((value, f"the scheduled {key} {value} ({sched.cron})"))
    return max(found, key=lambda item: item[0])


def deploy_need(process: Process, strategy: str) -> tuple[int, str]:
    """Tasks a deploy of the process needs at once, with the reason in words."""
    largest, source = largest_count(process)
    if strategy != "rolling" and process.is_web:
        return 2 * largest, f"a {strategy} deploy at {source} runs both revisions at full size: 2 x {largest}"
    need = math.ceil(largest * ROLLING_MAX_PERCENT / 100)
    return need, f"a rolling deploy at {source} starts up to {ROLLING_MAX_PERCENT} %: {need}"


@dataclass(frozen=True)
class Demand:
    """Tasks of one size that something needs on a pool at once."""

    path: tuple[str | int, ...]
    label: str
    size: Size
    tasks: int
    why: str
    lower: str
    """What the user could lower instead of growing the pool."""
    transient: bool = False
    """A load test: its workers run only while its gate does."""


@dataclass(frozen=True)
class PerInstance:
    """Tasks of one size that the pool's weakest instance type holds, and the limit that sets it."""

    tasks: int
    instance_type: str
    bound: str


@dataclass(frozen=True)
class Shortfall:
    """A demand the pool cannot hold, with the numbers its message gives."""

    environment: str
    pool_name: str
    pool: Pool
    demand: Demand
    fit: int
    per_instance: PerInstance
    others: list[Demand]
    instances_needed: int
    fit_with_trunking: int | None

    def message(self) -> str:
        d, per = self.demand, self.per_instance
        cluster = f"environments.{self.environment}.cluster"
        size = f"{d.size.cpu} CPU / {d.size.memory} MiB"
        head = (f"environment {self.environment}, {d.label}: needs {d.tasks} tasks of {size} on pool "
                f"{self.pool_name} ({d.why})")
        if per.tasks == 0:
            return (f"{head}, but one {per.instance_type} cannot hold even one ({per.bound}); choose larger "
                    f"{cluster}.pools.{self.pool_name}.instance_types or a smaller size")
        beside = ""
        if len(self.others) > 2:
            beside = f" beside {sum(o.tasks for o in self.others)} tasks of {len(self.others)} others on the pool"
        elif self.others:
            beside = " beside " + " and ".join(f"{o.tasks} of {o.label}" for o in self.others)
        fixes = [f"raise {cluster}.pools.{self.pool_name}.{self.pool.SIZE_KEY} to {self.instances_needed}"]
        if self.fit_with_trunking is not None:
            fixes.append(f"turn ENI trunking on for the account and set {cluster}.awsvpc_trunking: true "
                         f"({self.fit_with_trunking} fit then)")
        fixes += ["choose larger instance_types", f"lower {d.lower}"]
        return (f"{head}, but {self.fit} fit{beside}: {self.pool.most_instances} x {per.instance_type} at "
                f"{per.tasks} per instance, bound by {per.bound}; {', or '.join(fixes)}")


def pool_demands(spec: Spec, env_name: str, env: Environment) -> Iterator[tuple[str, Demand]]:
    """(pool, demand) for every process and load test on a pool of ``env``."""
    for app_name, app in spec.apps.items():
        for proc_name, proc in app.processes.items():
            if proc.pool is None:
                continue
            tasks, why = deploy_need(proc, app.deploy.strategy)
            lower = "its autoscale max and schedules" if proc.autoscale else "its count"
            yield proc.pool, Demand(("apps", app_name, "processes", proc_name, "capacity"),
                                    f"process {app_name}.{proc_name}", proc.size, tasks, why, lower)
        test = app.loadtest
        if test is not None and test.environment == env_name:
            pool = loadtest_pool(env.cluster)
            if pool is not None:
                yield pool, Demand(("apps", app_name, "loadtest", "workers"), f"the load test of {app_name}",
                                   test.size, test.workers, f"{test.workers} Locust workers", "loadtest.workers",
                                   transient=True)


def per_instance(pool: Pool, size: Size, *, trunking: bool) -> PerInstance:
    """Tasks of ``size`` that any instance of the pool holds: its weakest type's, by that type's tightest limit."""
    weakest: PerInstance | None = None
    for name in pool.instance_types:
        instance = catalog.instance_type(name)
        assert instance is not None, "check_capacity skips pools with an unknown instance type"
        limits = bounds(instance, size, trunking=trunking)
        bound = min(limits, key=limits.__getitem__)
        if weakest is None or limits[bound] < weakest.tasks:
            weakest = PerInstance(limits[bound], name, bound)
    assert weakest is not None
    return weakest


def check_capacity(spec: Spec, add: Callable[[tuple, str], None]) -> None:
    """One line per demand a pool cannot hold, at the demand's path; unknown instance types are named too."""
    for env_name, env in spec.environments.items():
        by_pool: dict[str, list[Demand]] = {}
        for pool_name, demand in pool_demands(spec, env_name, env):
            if pool_name in env.cluster.pools:  # a missing pool is references.py's to report
                by_pool.setdefault(pool_name, []).append(demand)
        for pool_name, demands in by_pool.items():
            pool = env.cluster.pools[pool_name]
            where = ("environments", env_name, "cluster", "pools", pool_name, "instance_types")
            unknown = [(i, name) for i, name in enumerate(pool.instance_types) if catalog.instance_type(name) is None]
            for i, name in unknown:
                add((*where, i), f"{name} is not in shipway's instance catalog (shipway/catalog/instances.json), so "
                                 "the pool's capacity cannot be checked; choose a listed type or add its row")
            if not unknown:
                for shortfall in shortfalls(env_name, env, pool_name, pool, demands):
                    add(shortfall.demand.path, shortfall.message())


def fits(pool: Pool, demands: list[Demand], *, trunking: bool) -> list[tuple[int, PerInstance, list[Demand]]]:
    """For each demand: the tasks of it that fit in what the others leave of the pool, its per-instance fit, and
    the others. Each demand takes tasks / tasks-per-instance of the pool's instances.

    Every process counts beside every other. A load test's workers run only during its gate: a process counts
    beside the largest load test on the pool, a load test beside the processes only (two gates at once on one
    pool share it, and wait for each other)."""
    pers = [per_instance(pool, d.size, trunking=trunking) for d in demands]
    share = {j: Fraction(d.tasks, pers[j].tasks) for j, d in enumerate(demands) if pers[j].tasks and d.tasks}
    tests = sorted((j for j in share if demands[j].transient), key=share.__getitem__)
    result = []
    for i, per in enumerate(pers):
        others = [j for j in share if j != i and not demands[j].transient]
        if not demands[i].transient and tests:
            others.append(tests[-1])
        taken = sum((share[j] for j in others), Fraction(0))
        result.append((max(0, math.floor((pool.most_instances - taken) * per.tasks)), per,
                       [demands[j] for j in others]))
    return result


def shortfalls(env_name: str, env: Environment, pool_name: str, pool: Pool, demands: list[Demand]) -> list[Shortfall]:
    """The demands on one pool that it cannot hold."""
    trunking = env.cluster.awsvpc_trunking
    found = []
    for i, (fit, per, others) in enumerate(fits(pool, demands, trunking=trunking)):
        demand = demands[i]
        if demand.tasks <= fit:
            continue
        needed = 0
        if per.tasks:
            taken = sum((Fraction(o.tasks, per_instance(pool, o.size, trunking=trunking).tasks) for o in others),
                        Fraction(0))
            needed = math.ceil(taken + Fraction(demand.tasks, per.tasks))
        with_trunking = None
        if not trunking:
            trunk_fit, trunk_per, _ = fits(pool, demands, trunking=True)[i]
            if trunk_per.tasks > per.tasks:
                with_trunking = trunk_fit
        found.append(Shortfall(env_name, pool_name, pool, demand, fit, per, others, needed, with_trunking))
    return found
