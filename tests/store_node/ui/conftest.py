"""Browser tests: the real store node (daphne, HTTP and WebSocket) on a thread of the test process.

Daphne runs in this process, not a subprocess, so it uses the test database (a file, see
store_node/settings/test.py) and the same in-memory channel layer as the test: a test can push a
serial scan into a terminal's group and the browser receives it, as the hardware glue would do.
Twisted's reactor runs once per process, hence one server per pytest process (session scope).
Tests that use it need committed data: they take ``transactional_db``.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _fresh_store_application():
    """store_node.asgi's application, built anew so its middleware reads the settings in force now."""
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.core.asgi import get_asgi_application

    from store_node.routing import websocket_urlpatterns

    return ProtocolTypeRouter({"http": get_asgi_application(), "websocket": URLRouter(websocket_urlpatterns)})


class TillServer:
    def __init__(self):
        from daphne.server import Server  # installs the asyncio reactor before twisted is imported
        from django.test import override_settings

        # Static files straight from the apps, as in development: no collectstatic in tests.
        with override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True):
            application = _fresh_store_application()

        self.ready = threading.Event()
        self.server = Server(
            application,
            endpoints=["tcp:port=0:interface=127.0.0.1"],
            signal_handlers=False,
            verbosity=0,
            ready_callable=self.ready.set,
        )
        self.thread = threading.Thread(target=self.server.run, name="daphne", daemon=True)

    def start(self) -> TillServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.listening_addresses and time.monotonic() < deadline:
            time.sleep(0.02)
        host, port = self.server.listening_addresses[0]
        self.url = f"http://{host}:{port}"
        return self

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        from twisted.internet import reactor

        return reactor._asyncioEventloop

    def group_send(self, group: str, message: dict, timeout: float = 5) -> None:
        """Send to a Channels group on the server's own loop (the in-memory layer is loop-bound)."""
        from channels.layers import get_channel_layer

        future = asyncio.run_coroutine_threadsafe(get_channel_layer().group_send(group, message), self.loop)
        future.result(timeout)

    def call(self, fn, timeout: float = 10):
        """Run sync code (a service, an applier) as the server's own threads run it, so what it
        pushes after commit (``async_to_sync`` of a group send) goes through the server's loop and
        channel layer to the browsers, as the sync worker's pushes do in a store."""
        from asgiref.sync import sync_to_async
        from django.db import connection

        def run():
            try:
                return fn()
            finally:
                connection.close()

        future = asyncio.run_coroutine_threadsafe(sync_to_async(run, thread_sensitive=False)(), self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(reactor.stop)
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def till_server(django_db_setup, django_db_blocker):
    # The server's threads open their own connections to the test database: allow them.
    with django_db_blocker.unblock():
        server = TillServer().start()
        yield server
        server.stop()


@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium for one test module.

    Not pytest-playwright's session-wide ``browser``: Playwright's sync API keeps an event loop
    running on the main thread while it is started, and Django then refuses every ORM call of
    every later test in the process (SynchronousOnlyOperation). Scoped to a module, the loop and
    the permission to use the ORM beside it end with the browser tests.
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def console_errors(page):
    """Every console error and uncaught exception of the page; the test fails if there is any."""
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: errors.append(f"{msg.text} ({msg.location.get('url')})") if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield errors
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture
def ui(page, console_errors, till_server, transactional_db, request):
    """A page on the live till server whose console must stay clean, and a screenshot helper."""
    flow = request.node.originalname.removeprefix("test_")
    folder = ARTIFACTS / flow
    folder.mkdir(parents=True, exist_ok=True)
    # Patience, not leniency: on a loaded 2-core CI machine a screen can take seconds to settle;
    # every expectation still has to come true.
    page.set_default_timeout(15_000)
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)

    class Ui:
        server = till_server
        url = till_server.url

        def shot(self, name: str) -> Path:
            path = folder / f"{name}.png"
            page.screenshot(path=str(path))
            return path

    ui = Ui()
    ui.page = page
    return ui


@pytest.fixture
def floor_staff(store):
    """A cashier (c101, PIN 1111) and a supervisor (s101, PIN 2222) of this node's store."""
    from retail.staff.models import Role
    from tests.factories import make_user

    return {
        "cashier": make_user(
            Role.CASHIER, store, pin="1111", username="c101", first_name="Cara", last_name="Berg"
        ),
        "supervisor": make_user(Role.SUPERVISOR, store, pin="2222", username="s101", first_name="Sven"),
    }


def handheld_sign_in(client, username: str, pin: str, **data):
    """Sign in on the handheld with Django's test client (``data``: e.g. ``next``)."""
    response = client.post("/h/login", {"username": username, "pin": pin, **data})
    assert response.status_code == 302, response.content.decode()
    return response


@pytest.fixture
def handheld(client, floor_staff):
    """The test client signed in on the handheld as the cashier c101."""
    handheld_sign_in(client, "c101", "1111")
    return client


@pytest.fixture
def supervisor_handheld(client, floor_staff):
    """The test client signed in on the handheld as the supervisor s101."""
    handheld_sign_in(client, "s101", "2222")
    return client


def handheld_browser_sign_in(page, username: str, pin: str) -> None:
    """On the handheld's sign-in page: the staff number typed, the PIN on the on-screen pad."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("handheld-login")).to_be_visible()
    page.fill("#username", username)
    for digit in pin:
        page.click(f"[data-pinpad] [data-key='{digit}']")
    page.get_by_test_id("sign-in").click()
