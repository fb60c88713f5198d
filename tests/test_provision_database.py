"""The app database provisioning script, run by real bash against a real PostgreSQL.

The server stands in for RDS: the master user ``shipway`` is not a superuser, it has CREATEROLE and CREATEDB
(as RDS's master has, through rds_superuser), and it owns the instance's first database ``acme``. What this
cannot show: RDS's own roles and TLS (the local server has no certificate; the task sets PGSSLMODE=require),
and PostgreSQL 16's SET option on role grants, since Debian 12 ships PostgreSQL 15.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipway.constructs.app_database import PROVISION_SCRIPT

from .conftest import free_port

pytestmark = pytest.mark.system

MASTER, MASTER_PASSWORD, SHARED = "shipway", "master-secret", "acme"
PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def test_the_script_passes_shellcheck():
    if not shutil.which("shellcheck"):
        pytest.fail("shellcheck is missing: run `make system` (scripts/install-system-packages.sh)")
    result = subprocess.run(["shellcheck", str(PROVISION_SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, str]]:
    """A PostgreSQL server on loopback whose master user is shaped like RDS's; yields libpq variables."""
    if not PG_BINS:
        pytest.fail("postgresql is missing: run `make system` (scripts/install-system-packages.sh)")
    bin_dir = PG_BINS[-1].parent
    # PostgreSQL refuses to run as root: as root, run it as Debian's postgres user, in a directory it owns.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="shipway-pg-"))
    base.chmod(0o755)
    if as_user:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
    data, port = base / "data", free_port()
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True, text=True)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "admin", "--auth-local=trust",
        "--auth-host=scram-sha-256", "--no-sync")
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "start",
        "-o", f"-k {base} -p {port} -c listen_addresses=127.0.0.1")
    try:
        admin = {"PGHOST": str(base), "PGPORT": str(port), "PGUSER": "admin", "PGDATABASE": "postgres"}
        subprocess.run(["psql", "-v", "ON_ERROR_STOP=1",
                        "-c", f"CREATE ROLE {MASTER} LOGIN CREATEROLE CREATEDB PASSWORD '{MASTER_PASSWORD}'",
                        "-c", f"CREATE DATABASE {SHARED} OWNER {MASTER}"],
                       env=os.environ | admin, check=True, capture_output=True)
        yield {"PGHOST": "127.0.0.1", "PGPORT": str(port)}
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def provision(server: dict[str, str], app: str, password: str, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | server | {
        "PGUSER": MASTER, "PGPASSWORD": MASTER_PASSWORD,
        "APP_DATABASE": app, "APP_ROLE": app, "APP_PASSWORD": password, "SHARED_DATABASE": SHARED,
    } | extra
    return subprocess.run(["bash", str(PROVISION_SCRIPT)], env=env, capture_output=True, text=True, check=False)


def connect(server: dict[str, str], user: str, password: str, database: str,
            sql: str = "SELECT current_user") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | server | {
        "PGUSER": user, "PGPASSWORD": password, "PGDATABASE": database,
    }
    return subprocess.run(["psql", "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "-tAc", sql], env=env,
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def two_apps(server) -> dict[str, str]:
    """minne and blog provisioned; a password with quotes and a backslash shows psql quotes what it is given."""
    passwords = {"minne": "minne-'pw'\\1", "blog": "blog-pw-1"}
    for app, password in passwords.items():
        result = provision(server, app, password)
        assert result.returncode == 0, result.stderr
        assert password not in result.stdout + result.stderr
    return passwords


def test_each_app_connects_to_its_own_database_as_its_owner(server, two_apps):
    for app, password in two_apps.items():
        result = connect(server, app, password, app,
                         "SELECT current_user, pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"{app}|{app}"
    made = connect(server, "blog", two_apps["blog"], "blog", "CREATE TABLE posts (id int); SELECT 'made'")
    assert made.stdout.strip() == "made", made.stderr


def test_an_app_role_cannot_connect_to_another_apps_database(server, two_apps):
    refused = connect(server, "minne", two_apps["minne"], "blog")
    assert refused.returncode != 0
    assert 'permission denied for database "blog"' in refused.stderr
    assert "User does not have CONNECT privilege" in refused.stderr
    refused = connect(server, "blog", two_apps["blog"], "minne")
    assert 'permission denied for database "minne"' in refused.stderr


def test_an_app_role_cannot_connect_to_the_shared_database_but_the_master_can(server, two_apps):
    refused = connect(server, "minne", two_apps["minne"], SHARED)
    assert f'permission denied for database "{SHARED}"' in refused.stderr
    for database in (SHARED, "minne", "blog"):
        result = connect(server, MASTER, MASTER_PASSWORD, database)
        assert result.stdout.strip() == MASTER, result.stderr


def test_an_app_role_has_no_power_beyond_its_database(server, two_apps):
    result = connect(server, "minne", two_apps["minne"], "minne",
                     "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication FROM pg_roles WHERE rolname = current_user")
    assert result.stdout.strip() == "f|f|f|f"
    refused = connect(server, "minne", two_apps["minne"], "minne", "CREATE DATABASE stolen")
    assert "permission denied to create database" in refused.stderr


def test_running_again_sets_the_new_password_and_keeps_the_data(server, two_apps):
    again = provision(server, "blog", "blog-pw-2")
    assert again.returncode == 0, again.stderr
    assert connect(server, "blog", "blog-pw-1", "blog").returncode != 0
    kept = connect(server, "blog", "blog-pw-2", "blog", "SELECT count(*) FROM posts")
    assert kept.stdout.strip() == "0", kept.stderr
    provision(server, "blog", two_apps["blog"])  # as the other tests expect it


def test_an_app_may_take_the_shared_database_over(server):
    taken = provision(server, "minne", "pw", APP_DATABASE=SHARED, APP_ROLE="keeper")
    assert taken.returncode == 0, taken.stderr
    owner = connect(server, "keeper", "pw", SHARED,
                    "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
    assert owner.stdout.strip() == "keeper", owner.stderr


def test_a_missing_variable_is_one_line_and_touches_nothing(server):
    result = provision(server, "nobody", "pw", APP_PASSWORD="")
    assert result.returncode == 2
    assert result.stderr == "provision: APP_PASSWORD is not set\n"
    gone = connect(server, MASTER, MASTER_PASSWORD, "postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'nobody'")
    assert gone.stdout.strip() == "0"
