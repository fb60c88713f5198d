"""The app database provisioning script, run by real bash against a real PostgreSQL.

The server stands in for RDS: the master user ``shipway`` is not a superuser, it has CREATEROLE and CREATEDB
(as RDS's master has, through rds_superuser), and it owns the instance's first database ``acme``. Every test
runs on two servers: Debian 12's PostgreSQL 15 and the PostgreSQL 16.2 of pgserver's wheel
(requirements-dev.txt), each with its own client tools, since the script grants the master the app's role
differently before 16 and from 16 on (its SET option), and RDS's current versions are 16 and later. What this
cannot show: RDS's own roles and TLS (the local server has no certificate; the task sets PGSSLMODE=require),
and versions after 16, whose role grants work as 16's.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipway.constructs.app_database import PROVISION_SCRIPT
from shipway.synth import ROOT

from .conftest import free_port

pytestmark = pytest.mark.system

MASTER, MASTER_PASSWORD, SHARED = "shipway", "master-secret", "acme"
DEBIAN_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


def test_the_script_passes_shellcheck():
    if not shutil.which("shellcheck"):
        pytest.fail("shellcheck is missing: run `make system` (scripts/install-system-packages.sh)")
    result = subprocess.run(["shellcheck", str(PROVISION_SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def copy_pgserver(to: Path) -> Path:
    """PostgreSQL 16 from pgserver's wheel, copied under ``to`` with the libraries its binaries find relative to
    themselves (``pgserver.libs``, three levels up); returns its bin directory. Found, not imported."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("pgserver is missing: run make setup (requirements-dev.txt)")
    site = Path(spec.submodule_search_locations[0]).parent
    shutil.copytree(site / "pgserver.libs", to / "pgserver.libs")
    return Path(shutil.copytree(site / "pgserver" / "pginstall", to / "pgserver" / "pginstall")) / "bin"


@pytest.fixture(scope="module", params=["debian", "pgserver"])
def server(request) -> Iterator[dict[str, str]]:
    """A PostgreSQL server on loopback whose master user is shaped like RDS's: Debian's (15), then pgserver's
    (16). Yields libpq variables and a PATH whose psql and pg_dump are the server's own version."""
    # PostgreSQL refuses to run as root: as root, run it as Debian's postgres user, in a directory it owns.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="shipway-pg-"))
    base.chmod(0o755)
    if request.param == "debian":
        if not DEBIAN_BINS:
            pytest.fail("postgresql is missing: run `make system` (scripts/install-system-packages.sh)")
        bin_dir = DEBIAN_BINS[-1]
    else:
        # A copy the postgres user can read: the checkout (and its venv) may sit in a directory only root may enter.
        bin_dir = copy_pgserver(base / "install")
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
        path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
        admin = {"PGHOST": str(base), "PGPORT": str(port), "PGUSER": "admin", "PGDATABASE": "postgres", "PATH": path}
        subprocess.run(["psql", "-v", "ON_ERROR_STOP=1",
                        "-c", f"CREATE ROLE {MASTER} LOGIN CREATEROLE CREATEDB PASSWORD '{MASTER_PASSWORD}'",
                        "-c", f"CREATE DATABASE {SHARED} OWNER {MASTER}"],
                       env=os.environ | admin, check=True, capture_output=True)
        yield {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PATH": path}
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
        result = connect(server, app, password, app, "SELECT current_user, pg_get_userbyid(datdba) "
                                                      "FROM pg_database WHERE datname = current_database()")
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
    result = connect(server, "minne", two_apps["minne"], "minne", "SELECT rolsuper, rolcreatedb, rolcreaterole, "
                     "rolreplication FROM pg_roles WHERE rolname = current_user")
    assert result.stdout.strip() == "f|f|f|f"
    refused = connect(server, "minne", two_apps["minne"], "minne", "CREATE DATABASE stolen")
    assert "permission denied to create database" in refused.stderr


def test_running_again_closes_a_database_left_open_to_public(server, two_apps):
    """What a database provisioned before the owner closed it looks like on 16 and later (PUBLIC's CONNECT still
    there): the next run, which every push makes, closes it."""
    reopened = connect(server, "blog", two_apps["blog"], "blog", "GRANT CONNECT, TEMPORARY ON DATABASE blog TO PUBLIC")
    assert reopened.returncode == 0, reopened.stderr
    assert connect(server, "minne", two_apps["minne"], "blog").returncode == 0  # open, as it was
    again = provision(server, "blog", two_apps["blog"])
    assert again.returncode == 0, again.stderr
    refused = connect(server, "minne", two_apps["minne"], "blog")
    assert 'permission denied for database "blog"' in refused.stderr


def test_the_master_may_act_as_each_app_role_as_its_version_allows(server, two_apps):
    """It must be able to SET ROLE to give the database away and to run the documented takeover; from 16 on the
    grant is WITH SET TRUE and INHERIT FALSE, so the master does not carry the app's rights as its own."""
    version = int(connect(server, MASTER, MASTER_PASSWORD, "postgres", "SHOW server_version_num").stdout)
    for app in two_apps:
        acted = connect(server, MASTER, MASTER_PASSWORD, "postgres", f"SET ROLE {app}; SELECT current_user")
        assert acted.stdout.strip() == app, acted.stderr
        inherits = connect(server, MASTER, MASTER_PASSWORD, "postgres",
                           f"SELECT pg_has_role('{MASTER}', '{app}', 'USAGE')")
        assert inherits.stdout.strip() == ("f" if version >= 160000 else "t")


def test_running_again_sets_the_new_password_and_keeps_the_data(server, two_apps):
    again = provision(server, "blog", "blog-pw-2")
    assert again.returncode == 0, again.stderr
    assert connect(server, "blog", "blog-pw-1", "blog").returncode != 0
    kept = connect(server, "blog", "blog-pw-2", "blog", "SELECT count(*) FROM posts")
    assert kept.stdout.strip() == "0", kept.stderr
    provision(server, "blog", two_apps["blog"])  # as the other tests expect it


def docs_blocks(language: str, heading: str = "## Splitting a shared database") -> list[str]:
    """The ``language`` code blocks of docs/data.md's section under ``heading``, in order."""
    after = (ROOT / "docs" / "data.md").read_text().split(f"{heading}\n", 1)[1]
    level = len(heading) - len(heading.lstrip("#"))
    section = re.split(rf"\n#{{1,{level}}} ", after, maxsplit=1)[0]  # up to the next heading as high as it
    return [textwrap.dedent(b) for b in re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)]


def test_the_documented_split_copies_an_apps_tables_into_its_own_database(server, two_apps):
    """docs/data.md's pg_dump | pg_restore, as written, from the shared database into minne's, owned by minne."""
    master = {"PGUSER": MASTER, "PGPASSWORD": MASTER_PASSWORD}
    setup = connect(server, MASTER, MASTER_PASSWORD, SHARED,
                    "CREATE TABLE posts (id serial PRIMARY KEY, title text); INSERT INTO posts (title) VALUES ('a');"
                    "CREATE TABLE comments (id serial PRIMARY KEY, post_id int REFERENCES posts);"
                    "CREATE TABLE schema_migrations (version text PRIMARY KEY); SELECT 'ok'")
    assert setup.stdout.strip() == "ok", setup.stderr
    (dump,) = docs_blocks("sh")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | server | master | {"HOST": server["PGHOST"]}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", dump], env=env, capture_output=True, text=True,
                            cwd=tempfile.mkdtemp(prefix="shipway-split-"), check=False)
    assert result.returncode == 0, result.stderr
    copied = connect(server, "minne", two_apps["minne"], "minne",
                     "INSERT INTO posts (title) VALUES ('b'); "
                     "SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') || ' ' || "
                     "(SELECT count(*) FROM posts) FROM pg_class "
                     "WHERE relname IN ('posts', 'posts_id_seq', 'comments', 'schema_migrations')")
    assert copied.stdout.strip() == "minne 2", copied.stderr


def test_the_documented_takeover_gives_the_shared_tables_to_the_app(server):
    """An app that keeps the shared database: the provision step, then docs/data.md's ownership SQL as written."""
    created = connect(server, MASTER, MASTER_PASSWORD, "postgres", "CREATE DATABASE legacy")
    assert created.returncode == 0, created.stderr
    connect(server, MASTER, MASTER_PASSWORD, "legacy", "CREATE TABLE orders (id serial PRIMARY KEY)")
    taken = provision(server, "keeper", "pw", APP_DATABASE="legacy", SHARED_DATABASE="legacy")
    assert taken.returncode == 0, taken.stderr
    refused = connect(server, "keeper", "pw", "legacy", "SELECT count(*) FROM orders")
    assert "permission denied for table orders" in refused.stderr  # the database is the app's, its tables not yet
    (handover,) = docs_blocks("sql")[-1:]
    handed = connect(server, MASTER, MASTER_PASSWORD, "legacy", handover.replace("minne", "keeper"))
    assert handed.returncode == 0, handed.stderr
    owned = connect(server, "keeper", "pw", "legacy",
                    "SELECT nextval('orders_id_seq'), pg_get_userbyid(datdba) "
                    "FROM pg_database WHERE datname = 'legacy'")
    assert owned.stdout.strip() == "1|keeper", owned.stderr


def test_the_documented_drop_removes_a_removed_apps_database_and_role(server):
    """docs/data.md's SQL for dropping a removed app's database and role, as written, run by the master."""
    made = provision(server, "leaving", "pw")
    assert made.returncode == 0, made.stderr
    (drop,) = docs_blocks("sql", "### Removing an app never drops its database")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | server | {
        "PGUSER": MASTER, "PGPASSWORD": MASTER_PASSWORD, "PGDATABASE": "postgres"}
    dropped = subprocess.run(["psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--file", "-"], env=env, text=True,
                             input=drop.replace("minne", "leaving"), capture_output=True, check=False)
    assert dropped.returncode == 0 and "WARNING" not in dropped.stderr, dropped.stderr
    left = connect(server, MASTER, MASTER_PASSWORD, "postgres",
                   "SELECT (SELECT count(*) FROM pg_database WHERE datname = 'leaving') + "
                   "(SELECT count(*) FROM pg_roles WHERE rolname = 'leaving')")
    assert left.stdout.strip() == "0"


def test_a_missing_variable_is_one_line_and_touches_nothing(server):
    result = provision(server, "nobody", "pw", APP_PASSWORD="")
    assert result.returncode == 2
    assert result.stderr == "provision: APP_PASSWORD is not set\n"
    gone = connect(server, MASTER, MASTER_PASSWORD, "postgres",
                   "SELECT count(*) FROM pg_roles WHERE rolname = 'nobody'")
    assert gone.stdout.strip() == "0"
