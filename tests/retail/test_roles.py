import os
import subprocess
import sys
from pathlib import Path

import pytest

from retail.roles import RoleError, resolve_settings_module

ROOT = Path(__file__).resolve().parents[2]


def test_role_picks_its_dev_settings():
    assert resolve_settings_module({"POS_ROLE": "cloud"}) == "cloud.settings.dev"
    assert resolve_settings_module({"POS_ROLE": "store"}) == "store_node.settings.dev"


def test_settings_module_alone_picks_its_role():
    assert (
        resolve_settings_module({"DJANGO_SETTINGS_MODULE": "store_node.settings.prod"})
        == "store_node.settings.prod"
    )


@pytest.mark.parametrize(
    "env, message",
    [
        ({"POS_ROLE": "cloud", "DJANGO_SETTINGS_MODULE": "store_node.settings.dev"}, "contradicts"),
        ({"POS_ROLE": "till"}, "not a role"),
        ({"DJANGO_SETTINGS_MODULE": "mysite.settings"}, "belongs to no role"),
        ({}, "Say which role"),
    ],
)
def test_contradictions_and_unknown_roles_are_refused(env, message):
    with pytest.raises(RoleError, match=message):
        resolve_settings_module(env)


def run_manage(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("POS_ROLE", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_py_refuses_a_role_mismatch_before_touching_anything():
    result = run_manage({"POS_ROLE": "store", "DJANGO_SETTINGS_MODULE": "cloud.settings.dev"})
    assert result.returncode == 2
    assert "contradicts" in result.stderr


def test_settings_refuse_to_load_under_the_other_role():
    result = subprocess.run(
        [sys.executable, "-c", "import cloud.settings.dev"],
        cwd=ROOT,
        env={**os.environ, "POS_ROLE": "store"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "the cloud settings were loaded" in result.stderr
