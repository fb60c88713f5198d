"""The spec of an app's load test, as the keyword props of the load-test constructs (the translation layer of
this slice: ``locust_construct`` and ``gate_construct`` know nothing of the spec)."""

from __future__ import annotations

from typing import TypedDict

import aws_cdk as cdk

from .. import naming
from ..props import pools as pool_props
from ..spec import Spec
from ..spec.capacity import loadtest_workers
from ..spec.capacity_name import Fargate
from .commands import Load
from .gate import Thresholds
from .image import locustfile_in_image
from .locust_construct import Names, WorkerCapacity


class LocustLoadTestProps(TypedDict):
    """The keyword props of ``LocustLoadTest`` that come from the spec (``locust_load_test``)."""

    load: Load
    thresholds: Thresholds
    cpu: int
    memory: int
    names: Names
    worker_capacity: WorkerCapacity


class LoadTestRepositoryProps(TypedDict):
    """The keyword props of ``gate_construct.loadtest_repository`` (``loadtest_repository``)."""

    repository_name: str
    untagged_days: int
    keep_images: int


def locust_load_test(spec: Spec, app: str, env: str) -> LocustLoadTestProps | None:
    """The app's load test in ``env`` when ``loadtest.environment`` is ``env``; None otherwise."""
    test = spec.apps[app].loadtest
    if test is None or test.environment != env:
        return None
    return LocustLoadTestProps(
        load=load_of(spec, app),
        thresholds=Thresholds(p95_ms=test.p95_ms, failure_ratio=test.failure_ratio),
        cpu=test.size.cpu,
        memory=test.size.memory,
        names=names(spec, app, env),
        worker_capacity=worker_capacity(spec, env),
    )


def loadtest_repository(spec: Spec, app: str) -> LoadTestRepositoryProps | None:
    """The app's load-test image repository, kept like its image repository; None without a load test."""
    if spec.apps[app].loadtest is None:
        return None
    build = spec.apps[app].build
    return LoadTestRepositoryProps(repository_name=naming.loadtest_repository(spec.name, app),
                                   untagged_days=build.untagged_days, keep_images=build.keep_images)


def load_of(spec: Spec, app: str) -> Load:
    """The app's load test as the command lines need it; the default host is the gated environment's own."""
    test = spec.apps[app].loadtest
    assert test is not None
    return Load(host=test.host or default_host(spec, app), locustfile=locustfile_in_image(test.locustfile),
                workers=test.workers, users=test.users, spawn_rate=test.spawn_rate, run_time=test.run_time)


def default_host(spec: Spec, app: str) -> str:
    """The first host of the app's first web process in the gated environment: that environment's own router,
    never another environment's (host names are per environment, references.py keeps them apart)."""
    test = spec.apps[app].loadtest
    assert test is not None
    web = next(iter(spec.apps[app].web_processes.values()))
    secure = spec.environments[test.environment].router.certificate_arn is not None
    return f"{'https' if secure else 'http'}://{web.hosts_in(test.environment)[0]}"


def worker_capacity(spec: Spec, env: str) -> WorkerCapacity:
    """The workers' capacity where ``loadtest_workers`` puts them: a pool, or FARGATE_SPOT."""
    workers = loadtest_workers(spec.environments[env].cluster)
    if isinstance(workers, Fargate):
        return WorkerCapacity()
    on = pool_props.capacity_on(spec, env, workers)
    key, value = naming.LOADTEST_POOL_METADATA
    return WorkerCapacity(fargate=False, strategies=on.capacity_provider_strategies(),
                          constraints=on.placement_constraints({key: value}))


def names(spec: Spec, app: str, env: str) -> Names:
    project = spec.name
    return Names(
        master_family=naming.task_family(project, app, env, naming.LOADTEST_MASTER),
        worker_family=naming.task_family(project, app, env, naming.LOADTEST_WORKER),
        worker_service=naming.service_name(app, naming.LOADTEST_WORKER),
        discovery=naming.loadtest_master_discovery(app),
        results_bucket=naming.loadtest_results_bucket(project, app, env, cdk.Aws.ACCOUNT_ID, cdk.Aws.REGION),
        master_role=naming.loadtest_role(project, app, env, "master", "task"),
        master_execution_role=naming.loadtest_role(project, app, env, "master", "execution"),
        worker_role=naming.loadtest_role(project, app, env, "worker", "task"),
        worker_execution_role=naming.loadtest_role(project, app, env, "worker", "execution"),
    )
