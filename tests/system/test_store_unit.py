"""The store node started the way its systemd unit starts it serves the tills' pages with their CSS
and JS (DEBUG off: whitenoise serves only what ``collectstatic`` put in ``STATIC_ROOT``)."""

import re
import subprocess

import httpx
import pytest

from tests.system.nodes import PY, ROOT, make_node

pytestmark = pytest.mark.processes

UNIT = ROOT / "deploy/store/omnitill-store.service"
ASSETS = ("pos_ui/pos.css", "pos_ui/js/scanner.js", "pos_ui/js/terminal.js", "django_htmx/htmx-2.min.js")


def _exec_start_pre() -> list[list[str]]:
    commands = re.findall(r"^ExecStartPre=(.+)$", UNIT.read_text(), flags=re.M)
    return [
        [PY if word.endswith("/.venv/bin/python") else word for word in line.split()] for line in commands
    ]


def test_a_store_started_as_its_unit_starts_it_serves_the_tills_css_and_js(workdir, tmp_path):
    node = make_node("store", workdir, "S09")
    node.env.update(STATIC_ROOT=str(tmp_path / "static"), DEBUG="0")
    # given the steps the unit runs before it starts the store
    for command in _exec_start_pre():
        subprocess.run(command, cwd=ROOT, env=node.env, check=True, capture_output=True, timeout=120)
    # when the store serves with DEBUG off
    node.serve()
    try:
        login = httpx.get(f"{node.url}/h/login", timeout=10)
        assert login.status_code == 200
        named = set(re.findall(r'/static/([^"?]+)', login.text))
        assert named, login.text[:500]
        # then every asset the page names, and the till's scripts, are there
        for asset in sorted(named | set(ASSETS)):
            response = httpx.get(f"{node.url}/static/{asset}", timeout=10)
            assert response.status_code == 200, f"{asset}: {response.status_code}"
            assert len(response.content) > 100, asset
    finally:
        node.stop()
