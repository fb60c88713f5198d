"""One app's own database and login role in its environment's PostgreSQL."""

from __future__ import annotations

from pathlib import Path

PROVISION_SCRIPT = Path(__file__).parent.parent / "scripts" / "provision-database.sh"
