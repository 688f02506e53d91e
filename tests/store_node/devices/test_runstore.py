"""runstore as a real process: it serves HTTP, WebSockets and the devices, and `hw` in another process
reaches it. The test database is a WAL file, so both processes share the rows this test commits."""

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import make_store, make_terminal

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def node_env(transactional_db, settings, tmp_path):
    store = make_store(settings.STORE_CODE, name="Berlin Mitte")
    terminal = make_terminal(store, "T01", scanner_address="virtual://", printer_address="virtual://t01")
    make_terminal(store, "T02", printer_address="virtual://t02")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL")
    }
    env.update(
        POS_ROLE="store",
        STORE_CODE=settings.STORE_CODE,
        STORE_DB_PATH=connection.settings_dict["NAME"],
        DEVICES_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    return env, terminal, tmp_path


@pytest.fixture
def runstore(node_env, tmp_path):
    env, terminal, devices = node_env
    port = free_port()
    log = open(tmp_path / "runstore.log", "w+b")  # closed in the teardown
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runstore", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process, port, env, terminal, devices, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        log.close()


def test_runstore_serves_health_and_hw_scan_from_another_process_reaches_the_terminal(runstore):
    process, port, env, terminal, devices, log = runstore

    # given runstore is up and its virtual scanner is listening
    assert wait_for(lambda: health(port) == {"status": "ok", "role": "store", "store": env["STORE_CODE"]}, 30)
    assert wait_for(lambda: (devices / "scanner-S01-T01.in").exists(), 10)

    # when the terminal's browser is connected and `hw scan` runs in another process
    sock = ws_connect(port, f"/ws/terminal/{terminal.id}/")
    scanned = manage(env, "hw", "scan", "4006381333931", "--terminal", "S01-T01")

    # then the scan reaches the terminal's WebSocket, parsed
    assert scanned.returncode == 0, scanned.stderr
    assert scanned.stdout.strip() == "S01-T01: scanned ]E04006381333931"
    scan = next_message(sock, "terminal.scan")
    assert scan == {
        "type": "terminal.scan",
        "data": "4006381333931",
        "symbology": "EAN-13",
        "aim": "]E0",
        "kind": "gtin",
        "key": "4006381333931",
        "error": None,
    }
    sock.close()

    # and a test page queued from another process is printed by runstore's print worker
    printed = manage(env, "hw", "test-print", "--terminal", "S01-T02", "--wait", "10")
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert printed.stdout.strip() == "S01-T02: test page printed on virtual://t02"
    assert (devices / "printer-t02" / "0001.bin").exists()

    # when runstore gets SIGTERM, it stops cleanly and removes its scanner feed
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
    log.seek(0)
    output = log.read().decode()
    assert "devices stopped" in output and "runstore: stopped" in output
    assert not (devices / "scanner-S01-T01.in").exists()


def test_hw_scan_without_runstore_says_what_to_do(node_env):
    env, _terminal, _devices = node_env

    result = manage(env, "hw", "scan", "4006381333931")

    assert result.returncode == 1
    assert "the virtual scanner of S01-T01 is not running: start manage.py runstore" in result.stderr


# -- helpers ---------------------------------------------------------------------------------------


def manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def health(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as response:
        return json.loads(response.read())


def ws_connect(port: int, path: str) -> socket.socket:
    """A minimal RFC 6455 client: enough to read the server's text frames."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "connection closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def ws_read_text(sock: socket.socket) -> str:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk, "connection closed"
            data += chunk
        return data

    first, second = exactly(2)
    assert first & 0x0F == 0x1, f"expected a text frame, got opcode {first & 0x0F}"
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(exactly(2), "big")
    elif length == 127:
        length = int.from_bytes(exactly(8), "big")
    return exactly(length).decode()


def next_message(sock: socket.socket, type_: str) -> dict:
    # Printer status news may come first; skip to the wanted type.
    for _ in range(10):
        message = json.loads(ws_read_text(sock))
        if message["type"] == type_:
            return message
    raise AssertionError(f"no {type_} message")
