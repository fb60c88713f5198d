"""The capacity check, with its numbers written out.

c6i.large: 2 vCPU (2048 units), 4096 MiB (3686 counted), 3 ENIs (2 tasks), 10 branch ENIs with trunking.
c6i.xlarge: 4 vCPU (4096 units), 8192 MiB (7372 counted), 4 ENIs (3 tasks), 20 branch ENIs with trunking.
A 2x task is 512 CPU units / 1024 MiB.
"""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from shipway import catalog
from shipway.spec import SpecError, load_spec, parse_spec
from shipway.spec.capacity import bounds, deploy_need, fits, pool_demands
from shipway.spec.model import Process, Size

from .conftest import SHIPPED

TWO_X = Size(cpu=512, memory=1024)

BASE = {
    "name": "cap",
    "environments": {
        "staging": {
            "cluster": {
                "pools": {"dedicated": {"instance_types": ["c6i.large", "c6a.large"], "min": 1, "max": 2}},
            },
        },
    },
    "apps": {
        "minne": {
            "source": {"codecommit": "minne"},
            "processes": {"web": {"port": 3000, "size": "2x", "count": 4, "capacity": "pool:dedicated",
                                  "hosts": ["minne.example.com"]}},
            "deploy": {"strategy": "canary"},
        },
    },
}


def problems(edit=lambda spec: None) -> list[str]:
    spec = copy.deepcopy(BASE)
    edit(spec)
    try:
        parse_spec(yaml.safe_dump(spec, sort_keys=False), "shipway.yaml")
    except SpecError as exc:
        return exc.problems
    return []


def env(spec):
    return spec["environments"]["staging"]


def pool(spec):
    return env(spec)["cluster"]["pools"]["dedicated"]


def web(spec):
    return spec["apps"]["minne"]["processes"]["web"]


def test_tasks_per_instance_by_interfaces_cpu_and_memory():
    large, xlarge, medium = (catalog.instance_type(n) for n in ("c6i.large", "c6i.xlarge", "t3.medium"))
    assert bounds(large, TWO_X, trunking=False) == {"network interfaces": 2, "CPU": 4, "memory": 3}
    assert bounds(large, TWO_X, trunking=True) == {"branch interfaces": 10, "CPU": 4, "memory": 3}
    assert bounds(xlarge, TWO_X, trunking=True) == {"branch interfaces": 20, "CPU": 8, "memory": 7}  # 7372 // 1024
    assert bounds(xlarge, Size(cpu=256, memory=512), trunking=True) == {"branch interfaces": 20, "CPU": 16,
                                                                         "memory": 14}  # 7372 // 512
    assert bounds(medium, TWO_X, trunking=True) == {"network interfaces": 2, "CPU": 4, "memory": 3}  # burstable
    assert min(bounds(large, Size(cpu=4096, memory=8192), trunking=True).values()) == 0


def test_what_a_deploy_needs():
    assert deploy_need(Process(port=80, hosts=["a.example.com"], count=4), "canary") == (
        8, "a canary deploy at count 4 runs both revisions at full size: 2 x 4")
    web_scaled = Process(port=80, hosts=["a.example.com"], count=4,
                         autoscale={"min": 4, "max": 40, "schedules": [{"cron": "rate(1 day)", "min": 20}]})
    assert deploy_need(web_scaled, "blue-green")[0] == 80
    assert deploy_need(web_scaled, "rolling") == (80, "a rolling deploy at autoscale max 40 starts up to 200 %: 80")
    # non-web processes always roll: maxPercent 200 of their count
    assert deploy_need(Process(count=3), "canary") == (6, "a rolling deploy at count 3 starts up to 200 %: 6")


def test_staging_cannot_hold_its_canary_without_trunking():
    """The issue's case: 2 x c6i.large hold 2 tasks each by their interfaces; a canary of 4 needs 8."""
    assert problems() == [
        "shipway.yaml:21: apps.minne.processes.web.capacity: environment staging, process minne.web: needs 8 tasks "
        "of 512 CPU / 1024 MiB on pool dedicated (a canary deploy at count 4 runs both revisions at full size: "
        "2 x 4), but 4 fit: 2 x c6i.large at 2 per instance, bound by network interfaces; raise "
        "environments.staging.cluster.pools.dedicated.max to 4, or turn ENI trunking on for the account and set "
        "environments.staging.cluster.awsvpc_trunking: true (6 fit then), or choose larger instance_types, or "
        "lower its count"
    ]


def test_what_each_fix_does():
    assert problems(lambda s: pool(s).update(max=4)) == []  # 4 x 2 = 8
    assert "but 6 fit" in problems(lambda s: pool(s).update(max=3))[0]  # 3 x 2
    assert problems(lambda s: web(s).update(count=2)) == []  # needs 2 x 2 = 4; 2 x 2 fit
    (line,) = problems(lambda s: pool(s).update(instance_types=["c6i.xlarge"]))
    assert "but 6 fit: 2 x c6i.xlarge at 3 per instance, bound by network interfaces" in line  # 4 ENIs - 1
    assert "awsvpc_trunking: true (14 fit then)" in line  # 2 x 7, memory-bound

def test_trunking_counts_branch_interfaces_and_then_memory_binds():
    def trunking(s, count):
        env(s)["cluster"]["awsvpc_trunking"] = True
        web(s)["count"] = count

    assert problems(lambda s: trunking(s, 3)) == []  # 6 <= 2 x 3 (memory-bound: 3686 MiB // 1024)
    (line,) = problems(lambda s: trunking(s, 4))
    assert "needs 8 tasks" in line and "but 6 fit: 2 x c6i.large at 3 per instance, bound by memory" in line
    assert "raise environments.staging.cluster.pools.dedicated.max to 3" in line
    assert "awsvpc_trunking" not in line  # already on


def test_processes_sharing_a_pool_add_up():
    """4 x c6i.xlarge with trunking hold 7 2x tasks each. web (canary, count 7) needs 14 = 2 instances; api
    (rolling, count 10) needs 20 = 20/7 instances. Together 34/7 > 4: neither fits beside the other."""
    def shared(s):
        env(s)["cluster"]["awsvpc_trunking"] = True
        pool(s).update(instance_types=["c6i.xlarge"], max=4)
        web(s)["count"] = 7
        s["apps"]["minne"]["processes"]["api"] = {"size": "2x", "count": 10, "capacity": "pool:dedicated"}

    found = problems(shared)
    assert len(found) == 2
    web_line, api_line = found
    # web: 4 - 20/7 = 8/7 instances left x 7 = 8 tasks
    assert "process minne.web: needs 14 tasks" in web_line and "but 8 fit beside 20 of process minne.api" in web_line
    assert "raise environments.staging.cluster.pools.dedicated.max to 5" in web_line  # 14/7 + 20/7 = 34/7
    # api: 4 - 14/7 = 2 instances left x 7 = 14 tasks
    assert "process minne.api: needs 20 tasks" in api_line and "but 14 fit beside 14 of process minne.web" in api_line
    assert problems(lambda s: shared(s) or pool(s).update(max=5)) == []


def test_many_on_one_pool_are_summed_up_in_the_line():
    def crowded(s):
        for name in ("a", "b", "c"):
            s["apps"]["minne"]["processes"][name] = {"size": "2x", "count": 1, "capacity": "pool:dedicated"}

    lines = problems(crowded)  # web 8, a/b/c 2 each: 14 tasks on 2 x 2
    assert len(lines) == 4
    assert "process minne.web: needs 8 tasks" in lines[0]
    assert "but 0 fit beside 6 tasks of 3 others on the pool" in lines[0]
    assert "process minne.a: needs 2 tasks" in lines[1] and "beside 12 tasks of 3 others" in lines[1]


def test_load_test_workers_on_their_pool():
    def loadtest(s, workers):
        env(s)["cluster"]["pools"]["locust"] = {"provisioning": "spot-fleet", "instance_types": ["c6i.large"],
                                                "capacity": 1, "metadata": {"loadtest": "true"}}
        s["apps"]["minne"]["loadtest"] = {"locustfile": "l.py", "environment": "staging", "workers": workers}
        pool(s)["max"] = 4

    assert problems(lambda s: loadtest(s, 2)) == []  # 1 x c6i.large: 2 tasks by its interfaces
    (line,) = problems(lambda s: loadtest(s, 4))
    assert line.startswith("shipway.yaml:") and ": apps.minne.loadtest.workers: environment staging, the load test "
    assert "needs 4 tasks of 512 CPU / 1024 MiB on pool locust (4 Locust workers), but 2 fit" in line
    assert "raise environments.staging.cluster.pools.locust.capacity to 2" in line
    assert "lower loadtest.workers" in line


def test_load_tests_count_beside_the_processes_one_at_a_time():
    """Two apps' load tests of 4 workers on one pool of 4 x c6i.large (2 each): each fits beside web's 4 (canary
    of 2), not beside each other; web counts beside the larger load test."""
    def two_tests(s):
        env(s)["cluster"]["pools"]["dedicated"].update(max=4, metadata={"loadtest": "true"})
        web(s)["count"] = 2
        for app in ("minne", "blog"):
            s["apps"].setdefault(app, {"source": {"codecommit": app},
                                       "processes": {"web": {"port": 80, "hosts": [f"{app}.example.com"]}}})
            s["apps"][app]["loadtest"] = {"locustfile": "l.py", "environment": "staging", "workers": 4}

    assert problems(two_tests) == []  # web 4/2 + one test 4/2 = 4 instances
    web_line, *test_lines = problems(lambda s: two_tests(s) or web(s).update(count=3))  # web 6/2 + 4/2 = 5 > 4
    assert "process minne.web: needs 6 tasks" in web_line and "but 4 fit beside 4 of the load test of blog" in web_line
    assert [line.split(": ")[1] for line in test_lines] == ["apps.minne.loadtest.workers", "apps.blog.loadtest.workers"]
    assert all("needs 4 tasks" in line and "but 2 fit beside 6 of process minne.web:" in line for line in test_lines)


def test_a_task_no_instance_type_holds():
    (line,) = problems(lambda s: web(s).update(size="16x"))
    assert "but one c6i.large cannot hold even one (CPU); choose larger" in line


def test_an_instance_type_the_catalog_does_not_know():
    (line,) = problems(lambda s: pool(s).update(instance_types=["c6i.large", "x9z.large"]))
    assert (": environments.staging.cluster.pools.dedicated.instance_types[1]: x9z.large is not in shipway's "
            "instance catalog") in line


def test_the_shipped_example_fits_with_room_to_spare():
    spec = load_spec(SHIPPED)
    for env_name in ("staging", "production"):
        environment = spec.environments[env_name]
        demands = [d for p, d in pool_demands(spec, env_name, environment) if p == "dedicated"]
        assert [(d.label, d.tasks) for d in demands] == [("process minne.web", 48)]  # canary at autoscale max 24
        ((fit, per, others),) = fits(environment.cluster.pools["dedicated"], demands, trunking=True)
        assert (fit, per.tasks, per.bound, others) == (56, 7, "memory", [])  # 8 x c6i.xlarge at 7
    staging = spec.environments["staging"]
    (workers,) = [d for p, d in pool_demands(spec, "staging", staging) if p == "loadtest"]
    ((fit, per, _),) = fits(staging.cluster.pools["loadtest"], [workers], trunking=True)
    assert (workers.tasks, fit, per.tasks) == (4, 6, 3)  # 2 instances x 3 (memory-bound c5/c6i.large)


@pytest.mark.parametrize("name", ["c6i.large", "c6a.large", "c5.large", "m6i.large", "m6a.large", "m5.large",
                                  "c6i.xlarge", "c6a.xlarge"])
def test_catalog_rows_the_shipped_spec_uses(name):
    """EC2's DescribeInstanceTypes (the catalog's source) and the ECS guide's trunking table for these types."""
    row = catalog.instance_type(name)
    size = name.split(".")[1]
    expected = {"large": (2, 3, 10), "xlarge": (4, 4, 20)}[size]
    assert (row.vcpu, row.max_enis, row.trunk_enis) == expected
    assert row.memory_mib == row.vcpu * (4096 if name[0] == "m" else 2048)


def test_every_catalog_row_matches_describe_instance_types_as_moto_records_it():
    """moto ships EC2's DescribeInstanceTypes answers; the catalog's vCPU, memory and ENI numbers must agree."""
    import gzip
    import json
    from importlib import resources

    recorded = json.loads(gzip.decompress(
        (resources.files("moto") / "ec2" / "resources" / "instance_types.json.gz").read_bytes()))
    for name in catalog.known_instance_types():
        row, aws = catalog.instance_type(name), recorded[name]
        assert (row.vcpu, row.memory_mib, row.max_enis) == (
            aws["VCpuInfo"]["DefaultVCpus"], aws["MemoryInfo"]["SizeInMiB"],
            aws["NetworkInfo"]["MaximumNetworkInterfaces"]), name


@settings(max_examples=200, deadline=None)
@given(
    types=st.lists(st.sampled_from(["c6i.large", "m6i.large", "c6i.xlarge", "r6i.xlarge", "t3.medium", "m5.2xlarge"]),
                   min_size=1, max_size=3, unique=True),
    sizes=st.lists(st.sampled_from(["1x", "2x", "4x"]), min_size=1, max_size=3),
    counts=st.lists(st.integers(0, 30), min_size=3, max_size=3),
    strategy=st.sampled_from(["rolling", "canary", "blue-green"]),
    trunking=st.booleans(),
    pool_max=st.integers(1, 40),
)
def test_the_suggested_max_is_exactly_enough(types, sizes, counts, strategy, trunking, pool_max):
    """Whatever the mix on one pool: raising max to the number a line suggests clears that line, and one less
    does not (the suggestion is the least that works)."""
    def spec(max_):
        def edit(s):
            env(s)["cluster"]["awsvpc_trunking"] = trunking
            pool(s).update(instance_types=types, max=max_, min=0)
            s["apps"]["minne"]["deploy"] = {"strategy": strategy}
            processes = s["apps"]["minne"]["processes"]
            processes["web"].update(size=sizes[0], count=counts[0])
            for i, size in enumerate(sizes[1:], start=1):
                processes[f"p{i}"] = {"size": size, "count": counts[i], "capacity": "pool:dedicated"}
        return edit

    for line in problems(spec(pool_max)):
        if "cannot hold even one" in line:
            continue
        suggested = int(re.search(r"pools\.dedicated\.max to (\d+)", line).group(1))
        assert suggested > pool_max
        process = re.search(r"apps\.minne\.processes\.(\w+)\.capacity", line).group(1)
        assert not any(f"processes.{process}.capacity" in later for later in problems(spec(suggested)))
        assert any(f"processes.{process}.capacity" in later for later in problems(spec(suggested - 1)))
