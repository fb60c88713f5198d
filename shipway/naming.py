"""Every physical name and SSM parameter path shipway derives, in one place.

The platform writes SSM parameters under ``parameter_prefix``; app stacks read the same paths. Keeping
both sides on these functions is what lets an app stack be added or removed without touching the platform.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .spec.model import Spec


def platform_stack(name: str, env: str) -> str:
    return f"{name}-{env}-platform"


def data_stack(name: str, env: str) -> str:
    return f"{name}-{env}-data"


def app_stack(name: str, app: str) -> str:
    return f"{name}-{app}"


def app_env_stack(name: str, app: str, env: str) -> str:
    return f"{name}-{app}-{env}"


def stack_names_with_paths(spec: Spec) -> Iterator[tuple[tuple[str, ...], str]]:
    """Each stack the spec yields, with the spec path that gives rise to it."""
    for env in spec.environments:
        yield ("environments", env), platform_stack(spec.name, env)
        yield ("environments", env), data_stack(spec.name, env)
    for app in spec.apps:
        yield ("apps", app), app_stack(spec.name, app)
        for env in spec.environments:
            yield ("apps", app), app_env_stack(spec.name, app, env)


def load_balancer_name(name: str, env: str) -> str:
    return f"{name}-{env}"


def database_identifier(name: str, env: str) -> str:
    return f"{name}-{env}"


def database_name(name: str) -> str:
    """The database created with the instance: the project name as a PostgreSQL identifier."""
    return name.replace("-", "_")


# The RDS master user; RDS keeps its password in Secrets Manager and rotates it.
DATABASE_USERNAME = "shipway"


def cluster_name(name: str, env: str) -> str:
    return f"{name}-{env}"


def capacity_provider_name(name: str, env: str, pool: str) -> str:
    return f"{name}-{env}-{pool}"


POOL_ATTRIBUTE = "shipway.pool"
"""The ECS instance attribute naming an instance's pool: cloud-init writes it, placement constrains on it."""


def parameter_prefix(name: str, env: str) -> str:
    """SSM path under which the platform and data stacks publish what apps read."""
    return f"/shipway/{name}/{env}"


def parameter(name: str, env: str, key: str) -> str:
    return f"{parameter_prefix(name, env)}/{key}"


class Param:
    """Keys of the SSM parameters under ``parameter_prefix``: the platform's published interface.

    The platform stack writes the first group, the data stack the second; app stacks only read. A key
    never changes once published: renaming one breaks every app stack that reads it.
    """

    # platform stack
    VPC_ID = "vpc/id"
    PRIVATE_SUBNETS = "vpc/private-subnets"
    ISOLATED_SUBNETS = "vpc/isolated-subnets"
    APP_SECURITY_GROUP = "apps/security-group-id"
    CLUSTER_ARN = "cluster/arn"
    LISTENER_ARN = "router/listener-arn"
    TEST_LISTENER_ARN = "router/test-listener-arn"
    ROUTER_SECURITY_GROUP = "router/security-group-id"
    LOAD_BALANCER_FULL_NAME = "router/load-balancer-full-name"
    ROUTER_DNS_NAME = "router/dns-name"
    ALARM_TOPIC_ARN = "alarms/topic-arn"
    NAMESPACE_ID = "discovery/namespace-id"
    NAMESPACE_ARN = "discovery/namespace-arn"
    EXEC_LOG_GROUP = "cluster/exec-log-group"
    # data stack
    DATABASE_URL_SECRET_ARN = "database/url-secret-arn"
    DATABASE_SECRET_ARN = "database/master-secret-arn"


def namespace(name: str, env: str) -> str:
    """The environment's Cloud Map private DNS namespace."""
    return f"{env}.{name}.internal"


def service_name(app: str, process: str) -> str:
    """ECS service name inside the environment's cluster; the pipeline's deploy actions address it."""
    return f"{app}-{process}"


CONTAINER_NAME = "app"
"""The app container of every task definition shipway writes (processes, release, cron): the name the
pipeline's image definitions and ``run-task --overrides`` address."""


def dashboard_name(name: str, app: str, env: str) -> str:
    return f"{name}-{app}-{env}"


def schedule_name(name: str, app: str, env: str, job: str) -> str:
    """EventBridge Scheduler schedule of a cron job (at most 64 characters; the spec checks it)."""
    return f"{name}-{app}-{env}-{job}"


def task_family(name: str, app: str, env: str, role: str) -> str:
    """Task definition family: ``role`` is a process name, ``release`` (one-off) or a load-test role."""
    return f"{name}-{app}-{env}-{role}"


def image_tag_parameter(name: str, app: str, env: str) -> str:
    """SSM parameter where the pipeline records the image tag it deployed to ``env``; ``<name>-<app>-<env>`` reads it.

    One per environment: production keeps the tag it was last deployed with while staging moves ahead, so a
    ``cdk deploy`` of either stack runs what that environment already runs. The ``<name>-<app>`` stack creates
    it with the value ``NO_IMAGE_TAG`` until the pipeline's first deploy to ``env``.
    """
    return f"/shipway/{name}/apps/{app}/{env}/image-tag"


NO_IMAGE_TAG = "none"
"""The image tag parameter's value before the first deploy: runtime stacks scale to zero while they read it."""


def image_repository(name: str, app: str) -> str:
    return f"{name}/{app}"


def build_cache_repository(name: str, app: str) -> str:
    """The app's MUTABLE ECR repository that holds the build's layer cache (never deployed from)."""
    return f"{name}/{app}/build-cache"


def pipeline_name(name: str, app: str) -> str:
    return f"{name}-{app}"


def pipeline_log_group(name: str, app: str) -> str:
    """CodeBuild logs of the app's pipeline: build, release and image-tag recording."""
    return f"/shipway/{name}/apps/{app}/pipeline"


def log_group(name: str, app: str, env: str) -> str:
    return f"/shipway/{name}/{app}/{env}"


# --- the load test (issue 6): names both the app-env stack and the pipeline's gate action derive ---

LOADTEST_MASTER = "loadtest-master"
LOADTEST_WORKER = "loadtest-worker"
# A pool whose metadata carries this key and value hosts the environment's Locust workers.
LOADTEST_POOL_METADATA = ("loadtest", "true")


# The load-test repository is the app's image repository plus this suffix, so the build stage derives its
# name and URI from the app repository's (buildspecs carry no deploy-time tokens).
LOADTEST_REPOSITORY_SUFFIX = "-loadtest"


def loadtest_repository(name: str, app: str) -> str:
    """ECR repository of the app's load-test image (Locust, the app's locustfile and shipway's gate)."""
    return f"{image_repository(name, app)}{LOADTEST_REPOSITORY_SUFFIX}"


def loadtest_master_discovery(app: str) -> str:
    """Cloud Map service of the app's Locust master: workers dial ``<this>.<namespace>``.

    Per app, because the namespace is the environment's: two apps' masters must not share a name.
    """
    return f"{app}-loadtest-master"


def loadtest_results_bucket(name: str, app: str, env: str, account: str, region: str) -> str:
    """The results bucket; account and region (tokens in agnostic stacks) make the global name unique."""
    return f"{loadtest_results_bucket_prefix(name, app, env)}-{account}-{region}"


def loadtest_results_bucket_prefix(name: str, app: str, env: str) -> str:
    return f"{name}-{app}-{env}-loadtest"


# S3 bucket names stop at 63 characters; an account ID is 12 and the longest region name 14.
LOADTEST_BUCKET_PREFIX_MAX = 63 - len("-123456789012-ap-southeast-5")


def loadtest_parameter(name: str, app: str, env: str, key: str) -> str:
    """SSM parameters the app-env stack publishes for the pipeline's load-test gate to read at run time."""
    return f"/shipway/{name}/apps/{app}/{env}/loadtest/{key}"


class LoadTestParam:
    MASTER_SECURITY_GROUP = "master-security-group-id"
    DISCOVERY_SERVICE_ID = "discovery-service-id"
    DISCOVERY_SERVICE_ARN = "discovery-service-arn"


def loadtest_role(name: str, app: str, env: str, role: str, kind: str) -> str:
    """IAM role of a load-test task (``kind``: task or execution): named, so the gate may pass exactly it."""
    return f"{name}-{app}-{env}-loadtest-{role}-{kind}"


def loadtest_roles(name: str, app: str, env: str) -> list[str]:
    """Every role the load-test gate passes to ECS: the master's and the workers' task and execution roles."""
    return [loadtest_role(name, app, env, role, kind) for role in ("master", "worker") for kind in ROLE_KINDS]


# --- IAM roles the pipeline passes to ECS: named, so iam:PassRole can name exactly them ------------------

ROLE_KINDS = ("task", "execution")
IAM_ROLE_NAME_MAX = 64


def app_role(name: str, app: str, env: str, kind: str) -> str:
    """The IAM role (``kind``: task or execution) that every task of the app in ``env`` runs with: its processes,
    release and cron. Named, so the pipeline's deploy and release may pass exactly it. A generated name would
    start with the stack's name, which CloudFormation shortens when it is long, and a prefix can match another
    app's roles (``acme-web-*`` also matches ``acme-web-admin-...``)."""
    return f"{name}-{app}-{env}-{kind}"


def app_roles(name: str, app: str, env: str) -> list[str]:
    return [app_role(name, app, env, kind) for kind in ROLE_KINDS]


def role_names_with_paths(spec: Spec) -> Iterator[tuple[tuple[str, ...], str]]:
    """Each IAM role name the spec yields, with the spec path that gives rise to it (the spec checks that each
    fits IAM's 64 characters and that no two are the same: role names are unique per account)."""
    for app_name, app in spec.apps.items():
        for env in spec.environments:
            for role in app_roles(spec.name, app_name, env):
                yield ("apps", app_name), role
        if app.loadtest is not None and app.loadtest.environment in spec.environments:
            for role in loadtest_roles(spec.name, app_name, app.loadtest.environment):
                yield ("apps", app_name, "loadtest"), role
