import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from pos_ui.consumers import terminal_group
from store_node.devices import publish
from store_node.routing import websocket_urlpatterns

# No pytest-asyncio here: each test runs its coroutine with async_to_sync. Channels closes old
# database connections around each message, hence the (transactional) database.
pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(terminal_id):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/terminal/{terminal_id}/")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@pytest.mark.parametrize(
    "message",
    [
        {"type": "terminal.scan", "data": "4000000000013", "symbology": "EAN13", "aim": "]E0"},
        {"type": "terminal.printer", "status": "paper_out", "detail": "Out of paper"},
        {"type": "terminal.drawer", "event": "opened"},
        {"type": "terminal.sync", "online": True, "pending": 3, "last_sync": "2026-11-23T00:00:00Z"},
        {"type": "terminal.order", "order": {"number": "W-1001"}},
    ],
)
def test_group_messages_reach_the_terminal_browser_unchanged(message):
    async_to_sync(_forwards)(message)


async def _forwards(message):
    # given a browser connected to its terminal's channel
    terminal_id = uuid.uuid4()
    communicator = await _connect(terminal_id)

    # when the store node sends to the terminal's group
    await get_channel_layer().group_send(terminal_group(terminal_id), message)

    # then the browser receives the message as it was sent
    assert await communicator.receive_json_from(timeout=2) == message
    await communicator.disconnect()


def test_a_terminal_only_hears_its_own_group():
    async_to_sync(_only_own_group)()


async def _only_own_group():
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    communicator = await _connect(mine)

    await get_channel_layer().group_send(
        terminal_group(theirs), {"type": "terminal.drawer", "event": "opened"}
    )
    await get_channel_layer().group_send(terminal_group(mine), {"type": "terminal.drawer", "event": "closed"})

    assert await communicator.receive_json_from(timeout=2) == {"type": "terminal.drawer", "event": "closed"}
    assert await communicator.receive_nothing(timeout=0.1)
    await communicator.disconnect()


def test_ping_is_answered():
    async_to_sync(_ping)()


async def _ping():
    communicator = await _connect(uuid.uuid4())

    await communicator.send_json_to({"type": "ping"})

    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}
    await communicator.disconnect()


def test_on_connecting_the_browser_hears_its_printers_last_known_state(monkeypatch):
    # given the device runtime's board knows this terminal's printer is out of paper (and another's)
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    board = publish.PrinterBoard(None)
    board.report(mine, "paper_out", "Printer out of paper")
    board.report(theirs, "ready", "Printer ready")
    monkeypatch.setattr(publish, "current_board", board)

    async_to_sync(_hears_printer_state)(mine)


async def _hears_printer_state(terminal_id):
    # when the terminal's browser connects
    communicator = await _connect(terminal_id)

    # then the first thing it hears is its own printer's state, once
    assert await communicator.receive_json_from(timeout=2) == {
        "type": "terminal.printer",
        "status": "paper_out",
        "detail": "Printer out of paper",
    }
    assert await communicator.receive_nothing(timeout=0.1)
    await communicator.disconnect()
