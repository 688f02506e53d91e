import asyncio
import logging
import os
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from hardware.scanner import Scan
from hardware.simulators import VirtualSerialScanner
from store_node.devices.publish import GroupPublisher
from store_node.devices.scanners import ScannerBridge, VirtualScannerFeed, scan_message
from store_node.routing import websocket_urlpatterns

# Channels closes database connections around each message, hence the transactional database.
pytestmark = pytest.mark.django_db(transaction=True)


async def connect(terminal_id) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/terminal/{terminal_id}/")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def milk_scan(error=None, kind="gtin", key="4006381333931", data="4006381333931"):
    return {
        "type": "terminal.scan",
        "data": data,
        "symbology": "EAN-13",
        "aim": "]E0",
        "kind": kind,
        "key": key,
        "error": error,
    }


def test_scans_reach_their_terminal_only_and_survive_unplug_garbage_and_overlong_frames(caplog):
    caplog.set_level(logging.WARNING)
    async_to_sync(_scanner_to_websocket)(caplog)


async def _scanner_to_websocket(caplog):
    # given two terminals with browsers connected, the first with a serial scanner on a pty
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    browser, other_browser = await connect(mine), await connect(theirs)
    publisher = GroupPublisher(asyncio.get_running_loop())
    with VirtualSerialScanner() as scanner:
        bridge = ScannerBridge(
            terminal_id=mine, label="S01-T01", address=scanner.address(), publisher=publisher
        )
        bridge.start()
        try:
            assert await asyncio.to_thread(bridge.reader.wait_connected, 5)

            # when a barcode is scanned, then its terminal's browser gets it, parsed
            scanner.scan("4006381333931")
            assert await browser.receive_json_from(timeout=2) == milk_scan()
            # and the other terminal hears nothing
            assert await other_browser.receive_nothing(timeout=0.2)

            # when the scanner is unplugged and plugged back in, scans arrive again
            scanner.unplug()
            await asyncio.sleep(0.2)
            scanner.replug()
            assert await asyncio.to_thread(_wait_for_reconnect, bridge, 5)
            scanner.scan("4006381333931")
            assert await browser.receive_json_from(timeout=2) == milk_scan()

            # when line noise and an over-long frame arrive, they are dropped with a log line
            scanner.write(b"\x00\x01\xfe\xff\r")
            scanner.write(b"7" * 600 + b"\r")
            scanner.scan("4006381333931")
            assert await browser.receive_json_from(timeout=2) == milk_scan()
            assert await browser.receive_nothing(timeout=0.1)
            warnings = [r.getMessage() for r in caplog.records if r.name == "hardware.scanner"]
            assert any("dropped frame" in w for w in warnings)
            assert any("dropped a 600-byte frame (max 512)" in w for w in warnings)
            assert bridge.reader.rejected == 2
        finally:
            bridge.stop()
    await browser.disconnect()
    await other_browser.disconnect()


def _wait_for_reconnect(bridge, timeout):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bridge.reader.connects >= 2 and bridge.reader.connected:
            return True
        time.sleep(0.01)
    return False


def test_a_scan_the_checkout_parser_refuses_is_logged_and_sent_with_its_error(caplog):
    caplog.set_level(logging.WARNING)
    scan = Scan(data="4006381333932", symbology="EAN-13", aim="]E0", raw=b"]E04006381333932")

    message = scan_message(scan)

    assert message == milk_scan(error="check_digit", kind=None, key=None, data="4006381333932")
    assert any("4006381333932" in r.getMessage() for r in caplog.records)


def test_a_gs1_scan_carries_the_gtin_as_its_key():
    scan = Scan(data="0104006381333931\x1d10ABC", symbology="GS1-128", aim="]C1", raw=b"")

    message = scan_message(scan)

    assert (message["kind"], message["key"], message["error"]) == ("gs1", "4006381333931", None)


def test_virtual_scanner_feed_types_what_another_process_writes_into_its_fifo(tmp_path):
    async_to_sync(_feed_to_websocket)(tmp_path)


async def _feed_to_websocket(tmp_path):
    # given a virtual scanner for S01-T01 under the devices folder, bridged to its terminal
    terminal = uuid.uuid4()
    browser = await connect(terminal)
    feed = VirtualScannerFeed(tmp_path, "S01-T01")
    bridge = ScannerBridge(
        terminal_id=terminal,
        label="S01-T01",
        address=feed.address(),
        publisher=GroupPublisher(asyncio.get_running_loop()),
    )
    bridge.start()
    try:
        assert (tmp_path / "scanner-S01-T01").is_symlink()
        assert await asyncio.to_thread(bridge.reader.wait_connected, 5)

        # when someone writes a scanner frame into the FIFO
        fd = os.open(tmp_path / "scanner-S01-T01.in", os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"]E04006381333931\r")
        os.close(fd)

        # then the terminal receives the scan
        assert await browser.receive_json_from(timeout=2) == milk_scan()
    finally:
        bridge.stop()
        feed.close()
        await browser.disconnect()
    assert not (tmp_path / "scanner-S01-T01.in").exists()
