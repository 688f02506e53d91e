"""Both roles' databases migrate from nothing, in a fresh process, as an operator would run them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("role", ["cloud", "store"])
def test_each_role_migrates_an_empty_sqlite_database(role, tmp_path):
    db = tmp_path / f"{role}.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL")}
    env.update(POS_ROLE=role, STORE_DB_PATH=str(db), DATABASE_URL=f"sqlite:///{db}")
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Applying outbox.0001_initial... OK" in result.stdout
    assert db.stat().st_size > 0
