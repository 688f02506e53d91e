"""Scanner frames and the reader thread, over a real pty read by real pyserial."""

from __future__ import annotations

import logging
import queue
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.addresses import SUFFIX_BYTES
from hardware.scanner import FrameSplitter, OverlongFrame, Scan, ScannerReader, ScanRejected, parse_frame
from hardware.simulators import VirtualSerialScanner


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (b"]E04006381333931", Scan("4006381333931", "EAN-13", "]E0", b"]E04006381333931")),
        (b"]E496385074", Scan("96385074", "EAN-8", "]E4", b"]E496385074")),
        (
            b"]C10101234567890128\x1d10ABC",
            Scan("0101234567890128\x1d10ABC", "GS1-128", "]C1", b"]C10101234567890128\x1d10ABC"),
        ),
        (b"]d2010950123456789", Scan("010950123456789", "GS1 DataMatrix", "]d2", b"]d2010950123456789")),
        (
            b"]Q3https://x.test/\xc3\xa9",
            Scan("https://x.test/é", "GS1 QR Code", "]Q3", b"]Q3https://x.test/\xc3\xa9"),
        ),
        (b"]A0CODE-39", Scan("CODE-39", "Code 39", "]A0", b"]A0CODE-39")),
        (b"]C0R-0001-000123", Scan("R-0001-000123", "Code 128", "]C0", b"]C0R-0001-000123")),
        (b"]I7123", Scan("123", "ITF", "]I7", b"]I7123")),
        (b"4006381333931", Scan("4006381333931", None, None, b"4006381333931")),
        (b"\n4006381333931", Scan("4006381333931", None, None, b"4006381333931")),
        (b"]", Scan("]", None, None, b"]")),
    ],
)
def test_frames_parse_with_aim_identifiers(frame: bytes, expected: Scan) -> None:
    assert parse_frame(frame) == expected


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"40063\x00813", "non-printable character 0x00 at 5"),
        (b"\x1b[A", "non-printable character 0x1b at 0"),
        (b"ab\xffcd", "not UTF-8 text (byte 0xff at 2)"),
        (b"]E0", "symbology identifier ]E0 with no data"),
    ],
)
def test_garbage_frames_are_rejected(frame: bytes, reason: str) -> None:
    with pytest.raises(ScanRejected) as excinfo:
        parse_frame(frame)
    assert str(excinfo.value) == reason


def test_empty_frames_are_ignored() -> None:
    assert parse_frame(b"") is None
    assert parse_frame(b"\r\n") is None


_frame_body = st.binary(min_size=0, max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b)


@given(
    bodies=st.lists(_frame_body, min_size=1, max_size=8),
    suffix=st.sampled_from(list(SUFFIX_BYTES.values())),
    max_len=st.integers(min_value=1, max_value=30),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=20),
)
def test_same_frames_however_the_stream_is_chunked(
    bodies: list[bytes], suffix: bytes, max_len: int, cuts: list[int]
) -> None:
    stream = b"".join(body + suffix for body in bodies)
    expected = [OverlongFrame(len(b)) if len(b) > max_len else b for b in bodies]

    splitter = FrameSplitter(suffix, max_len)
    got: list[bytes | OverlongFrame] = []
    edges = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    for start, end in zip(edges, edges[1:], strict=False):
        got += splitter.feed(stream[start:end])

    assert got == expected


class Collector:
    def __init__(self) -> None:
        self.scans: queue.Queue[Scan] = queue.Queue()

    def __call__(self, scan: Scan) -> None:
        self.scans.put(scan)

    def next(self, timeout: float = 2.0) -> Scan:
        return self.scans.get(timeout=timeout)

    def assert_empty(self) -> None:
        assert self.scans.empty(), self.scans.get_nowait()


@pytest.mark.parametrize(("suffix_name", "suffix"), list(SUFFIX_BYTES.items()))
def test_reader_delivers_scans_for_each_suffix(
    virtual_scanner: VirtualSerialScanner, suffix_name: str, suffix: bytes
) -> None:
    got = Collector()
    with ScannerReader(virtual_scanner.address(suffix=suffix_name), got) as reader:
        assert reader.wait_connected(2)
        virtual_scanner.scan("4006381333931", aim="]E0", suffix=suffix)
        virtual_scanner.scan("0101234567890128", aim="]C1", suffix=suffix)
        # Two reads in one write, the way a fast scanner's buffer can flush.
        virtual_scanner.write(b"]E496385074" + suffix + b"NOAIM" + suffix)

        assert got.next() == Scan("4006381333931", "EAN-13", "]E0", b"]E04006381333931")
        assert got.next() == Scan("0101234567890128", "GS1-128", "]C1", b"]C10101234567890128")
        assert got.next().data == "96385074"
        assert got.next() == Scan("NOAIM", None, None, b"NOAIM")


def test_reader_drops_garbage_and_overlong_frames_with_a_log_line(
    virtual_scanner: VirtualSerialScanner, caplog: pytest.LogCaptureFixture
) -> None:
    got = Collector()
    caplog.set_level(logging.WARNING, logger="hardware.scanner")
    with ScannerReader(virtual_scanner.address(), got, max_frame=64) as reader:
        assert reader.wait_connected(2)
        virtual_scanner.write(b"\x00\xff\x13noise\r")
        virtual_scanner.scan("9" * 100, aim=None)
        virtual_scanner.scan("4006381333931")

        assert got.next().data == "4006381333931"
        got.assert_empty()
        assert reader.rejected == 2
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "dropped frame b'\\x00\\xff\\x13noise': not UTF-8 text (byte 0xff at 1)" in m for m in messages
    )
    assert any("dropped a 100-byte frame (max 64)" in m for m in messages)


def test_reader_survives_unplug_and_replug(virtual_scanner: VirtualSerialScanner) -> None:
    got = Collector()
    with ScannerReader(virtual_scanner.address(), got, backoff_initial=0.01, backoff_max=0.1) as reader:
        assert reader.wait_connected(2)
        virtual_scanner.scan("4006381333931")
        assert got.next().data == "4006381333931"

        virtual_scanner.unplug()
        _wait_for(lambda: not reader.connected)
        time.sleep(0.2)  # a few failed reopen attempts while it is gone
        virtual_scanner.replug()
        assert reader.wait_connected(2)

        virtual_scanner.scan("96385074", aim="]E4")
        assert got.next() == Scan("96385074", "EAN-8", "]E4", b"]E496385074")
        assert reader.connects == 2


def test_a_failing_callback_does_not_stop_the_reader(
    virtual_scanner: VirtualSerialScanner, caplog: pytest.LogCaptureFixture
) -> None:
    got = Collector()

    def flaky(scan: Scan) -> None:
        if scan.data == "boom":
            raise RuntimeError("consumer bug")
        got(scan)

    with ScannerReader(virtual_scanner.address(), flaky) as reader:
        assert reader.wait_connected(2)
        virtual_scanner.scan("boom", aim=None)
        virtual_scanner.scan("4006381333931")
        assert got.next().data == "4006381333931"
    assert "on_scan failed for 'boom'" in caplog.text


def test_stop_returns_promptly(virtual_scanner: VirtualSerialScanner) -> None:
    reader = ScannerReader(virtual_scanner.address(), Collector(), poll_interval=5.0)
    reader.start()
    assert reader.wait_connected(2)
    started = time.perf_counter()
    reader.stop()
    assert time.perf_counter() - started < 1.0


def test_reader_needs_a_serial_address() -> None:
    with pytest.raises(ValueError, match="a scanner needs a serial:// address, got tcp://10.0.0.5:9100"):
        ScannerReader("tcp://10.0.0.5:9100", Collector())


def _wait_for(condition, timeout: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
