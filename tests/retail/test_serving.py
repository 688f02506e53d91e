import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from pprint import pformat
from types import SimpleNamespace

import httpx
import pytest
from autobahn.websocket import protocol as autobahn_protocol
from daphne.http_protocol import WebRequest

from retail.serving import LazyPformat, serving_tune

ROOT = Path(__file__).resolve().parents[2]


class _Channel:
    """Just enough of a Twisted HTTP channel for daphne's WebRequest to be built."""

    def __init__(self):
        self.connected = []
        self.transport = SimpleNamespace()
        self.factory = SimpleNamespace(server=SimpleNamespace(protocol_connected=self.connected.append))

    def getPeer(self):
        return None

    def getHost(self):
        return None


def test_daphnes_requests_leave_post_bodies_unparsed_for_the_application():
    serving_tune()
    serving_tune()  # idempotent: the second call does not wrap the first
    channel = _Channel()
    request = WebRequest(channel)
    # Twisted would otherwise parse each POST's Content-Type (and a form body) into request.args
    assert request._parsePOSTFormSubmission is False
    assert channel.connected == [request]  # daphne's own set-up still ran, once


class _Counted:
    def __init__(self):
        self.reprs = 0

    def __repr__(self):
        self.reprs += 1
        return "<counted>"


def test_autobahns_debug_pformat_is_made_only_when_written():
    serving_tune()
    assert autobahn_protocol.pformat is LazyPformat
    value = _Counted()
    lazy = autobahn_protocol.pformat([("openHandshakeTimeout", value, "Factory")])
    assert value.reprs == 0  # building the debug line's argument formats nothing
    assert f"{lazy}" == str(lazy) == repr(lazy) == pformat([("openHandshakeTimeout", value, "Factory")])
    assert f"{lazy:>40}".endswith("Factory')]")


def test_a_lazy_pformat_in_a_written_log_line_reads_as_pformat(caplog):
    with caplog.at_level(logging.DEBUG, logger="test.serving"):
        logging.getLogger("test.serving").debug("\n%s", LazyPformat({"b": 2, "a": 1}))
    assert caplog.records[0].getMessage() == "\n" + pformat({"b": 2, "a": 1})


ECHO_APP = """
from retail.serving import serving_tune

serving_tune()


async def application(scope, receive, send):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/octet-stream")]})
    await send({"type": "http.response.body", "body": body})
"""


@pytest.mark.processes
def test_under_real_daphne_form_bodies_still_reach_the_application_byte_for_byte(tmp_path):
    # given daphne serving an app that echoes the body it was handed, tuned as our roles are
    (tmp_path / "echo_app.py").write_text(ECHO_APP)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "echo_app:application"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "daphne did not come up"
                time.sleep(0.1)
        bodies = {
            "application/x-www-form-urlencoded": b"username=c101&pin=1111&next=%2Fpos%2F",
            "multipart/form-data; boundary=XyZ": (
                b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
                b"sku,price\r\nA1,1.99\r\n--XyZ--\r\n"
            ),
            "application/json": b'{"scan": "2900000000017"}',
        }
        for content_type, body in bodies.items():
            # when each is posted
            answer = httpx.post(
                f"http://127.0.0.1:{port}/", content=body, headers={"Content-Type": content_type}
            )
            # then the application got exactly the bytes sent
            assert answer.status_code == 200
            assert answer.content == body, content_type
    finally:
        server.terminate()
        server.wait(10)
