"""The spec of one environment's database, and of each app's own database in it, as construct props."""

from __future__ import annotations

from typing import TypedDict

from aws_cdk import aws_logs as logs

from .. import naming
from ..constructs.retention import retention
from ..spec import Spec
from ..spec.model import app_database as database_and_role


class DatabaseProps(TypedDict):
    """The keyword props of ``Database`` that the spec decides (``database``)."""

    version: str
    instance_type: str
    storage_gb: int
    multi_az: bool
    backup_retention_days: int
    instance_identifier: str
    database_name: str
    username: str
    log_retention: logs.RetentionDays


def database(spec: Spec, env: str) -> DatabaseProps:
    """``env``'s PostgreSQL instance: its ``database`` settings, identifier, first database and master user."""
    db = spec.environments[env].database
    return DatabaseProps(
        version=db.version,
        instance_type=db.instance_type,
        storage_gb=db.storage_gb,
        multi_az=db.multi_az,
        backup_retention_days=db.backup_retention_days,
        instance_identifier=naming.database_identifier(spec.name, env),
        database_name=naming.database_name(spec.name),
        username=naming.DATABASE_USERNAME,
        log_retention=retention(db.log_retention_days),
    )


class AppDatabaseProps(TypedDict):
    """The keyword props of ``AppDatabase`` that the spec decides (``app_database``)."""

    database_name: str
    role_name: str
    shared_database: str
    rotation_days: int
    provision_family: str
    provision_role_name: str
    state_machine_name: str


def app_database(spec: Spec, app: str, env: str) -> AppDatabaseProps:
    """``app``'s own database and role in ``env``, the rotation of their password and the provision step's names."""
    database_name, role_name = database_and_role(app, spec.apps[app])
    return AppDatabaseProps(
        database_name=database_name,
        role_name=role_name,
        shared_database=naming.database_name(spec.name),
        rotation_days=spec.environments[env].database.rotation_days,
        provision_family=naming.task_family(spec.name, app, env, naming.PROVISION),
        provision_role_name=naming.provision_role(spec.name, app, env),
        state_machine_name=naming.provision_state_machine(spec.name, app, env),
    )
