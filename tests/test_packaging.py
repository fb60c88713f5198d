"""`pip install .` gives another CDK app the constructs, the cloud-init templates they render and their scripts."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from shipway.synth import ROOT


def test_wheel_ships_the_package_and_its_templates(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("shipway-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "shipway/constructs/__init__.py" in names
    assert "shipway/stacks/platform.py" in names
    assert "shipway/spec/model.py" in names
    templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "shipway" / "cloud-init").glob("[!.]*")}
    assert templates <= names
    assert {"shipway/catalog/instances.json", "shipway/catalog/prices.json", "shipway/catalog/heroku.json"} <= names
    # the app database provision script, which constructs/app_database.py reads into the task's command
    assert "shipway/scripts/provision-database.sh" in names
    # the buildspecs' shell templates, which shipway.templates.package_environment loads from the package
    shell = {p.relative_to(ROOT).as_posix() for p in (ROOT / "shipway").rglob("*.sh.j2")}
    assert {"shipway/scripts/functions.sh.j2", "shipway/loadtest/gate.sh.j2"} <= shell <= names
    assert "shipway/loadtest/Dockerfile.j2" in names  # the load-test image's, rendered into its build context
    assert not any(name.startswith(("tests/", "constructs/")) for name in names)
