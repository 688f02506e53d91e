"""Sending jobs and reading status over real sockets (fake Epson on loopback), files and virtual printers."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from conftest import make_receipt
from escpos_decoder import Op, decode
from fake_printer import FakeEpsonPrinter

from hardware.errors import (
    CoverOpen,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterTimeout,
    PrinterUnsupported,
)
from hardware.layout import PAPER_58MM
from hardware.printer import kick_drawer, print_receipt, read_status, receipt_bytes
from hardware.simulators import virtual_printer
from hardware.status import PrinterStatus
from hardware.transport import send_bytes


def test_job_reaches_the_network_printer_byte_for_byte(fake_printer: FakeEpsonPrinter) -> None:
    job = receipt_bytes(make_receipt(), paper=PAPER_58MM)

    status = send_bytes(fake_printer.address, job)

    assert status.online is True
    _wait_for(lambda: len(fake_printer.job_bytes()) == len(job))
    assert fake_printer.job_bytes() == job
    # The pre-check asked DLE EOT 1 only, because the printer said it was fine.
    assert bytes(fake_printer.received).startswith(b"\x10\x04\x01\x1b@")


def test_status_reads_like_an_epson_reports_it(fake_printer: FakeEpsonPrinter) -> None:
    assert read_status(fake_printer.address) == PrinterStatus(
        online=True,
        paper_low=False,
        paper_out=False,
        cover_open=False,
        drawer_open=False,
        error=False,
        raw=(0x12, 0x12, 0x12),
    )

    fake_printer.paper_low = True
    fake_printer.drawer_pin3_high = True
    status = read_status(fake_printer.address)
    assert (status.online, status.paper_low, status.paper_out, status.drawer_open) == (
        True,
        True,
        False,
        True,
    )
    assert read_status(fake_printer.address, drawer_open_when_high=False).drawer_open is False


def test_paper_out_is_a_typed_error_and_nothing_is_sent(fake_printer: FakeEpsonPrinter) -> None:
    fake_printer.paper_out = True

    with pytest.raises(PaperOut) as excinfo:
        send_bytes(fake_printer.address, b"\x1b@hello\n")

    assert excinfo.value.code == "paper_out"
    assert fake_printer.job_bytes() == b""
    status = read_status(fake_printer.address)
    assert (status.online, status.paper_out, status.paper_low, status.cover_open) == (
        False,
        True,
        True,
        False,
    )


def test_cover_open_is_a_typed_error(fake_printer: FakeEpsonPrinter) -> None:
    fake_printer.cover_open = True
    with pytest.raises(CoverOpen):
        send_bytes(fake_printer.address, b"\x1b@hello\n")
    assert read_status(fake_printer.address).cover_open is True


def test_offline_printer_raises_printer_offline_then_works_when_back(fake_printer: FakeEpsonPrinter) -> None:
    fake_printer.go_offline()

    with pytest.raises(PrinterOffline) as excinfo:
        send_bytes(fake_printer.address, b"\x1b@hello\n")
    assert f"cannot connect to printer at tcp://127.0.0.1:{fake_printer.port}" in str(excinfo.value)
    with pytest.raises(PrinterOffline):
        read_status(fake_printer.address)

    fake_printer.come_back()
    send_bytes(fake_printer.address, b"\x1b@hello\n")
    _wait_for(lambda: fake_printer.job_bytes() == b"\x1b@hello\n")


def test_printer_that_never_answers_status_is_unknown_and_still_gets_the_job(
    fake_printer: FakeEpsonPrinter,
) -> None:
    fake_printer.silent = True

    started = time.perf_counter()
    status = read_status(fake_printer.address)
    assert status.unknown and status == PrinterStatus()
    assert time.perf_counter() - started < 2  # one timeout (0.5 s), not three

    assert send_bytes(fake_printer.address, b"\x1b@hello\n").unknown
    _wait_for(lambda: fake_printer.job_bytes() == b"\x1b@hello\n")


def test_printer_that_stops_reading_times_out(fake_printer: FakeEpsonPrinter) -> None:
    fake_printer.stalled = True
    started = time.perf_counter()

    with pytest.raises(PrinterTimeout):
        send_bytes(fake_printer.address, b"x" * 32_000_000, check_status=False)

    assert time.perf_counter() - started < 3


def test_connection_refused_on_a_closed_port_is_offline() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(PrinterOffline):
        send_bytes(f"tcp://127.0.0.1:{port}?timeout=0.5", b"x")


def test_print_receipt_with_drawer_kick_over_the_network(fake_printer: FakeEpsonPrinter) -> None:
    print_receipt(make_receipt(), fake_printer.address, paper=PAPER_58MM, profile="TM-T20II", drawer_pin=2)

    _wait_for(lambda: b"\x1dV\x01" in fake_printer.received)
    ops = decode(fake_printer.job_bytes())
    assert ops[:2] == [Op("INIT"), Op("PULSE", "pin=2 on=100ms off=100ms")]


def test_file_address_appends_jobs(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    send_bytes(f"file://{target}", b"one")
    send_bytes(f"file://{target}", b"two")
    assert target.read_bytes() == b"onetwo"
    assert read_status(f"file://{target}").unknown


def test_file_address_in_missing_folder_is_offline(tmp_path: Path) -> None:
    with pytest.raises(PrinterOffline, match="cannot open .*/missing/lp0: No such file or directory"):
        send_bytes(f"file://{tmp_path}/missing/lp0", b"one")


FAKE_LP = """#!/bin/sh
# A stand-in for CUPS's lp: records its arguments and the job, or fails like lp does.
echo "$@" > "$LP_SPOOL/args"
cat > "$LP_SPOOL/job"
if [ "$2" = "Missing" ]; then echo "lp: The printer or class does not exist." >&2; exit 1; fi
echo "request id is $2-1 (1 file(s))"
"""


@pytest.fixture
def fake_lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "lp").write_text(FAKE_LP)
    (bin_dir / "lp").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("LP_SPOOL", str(tmp_path))
    return tmp_path


def test_cups_without_pycups_or_lp_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no lp anywhere
    with pytest.raises(PrinterUnsupported, match=r"cups:// needs pycups .* or the CUPS client's lp command"):
        send_bytes("cups://Receipts", b"x")


def test_cups_without_pycups_submits_one_raw_job_through_lp(fake_lp: Path) -> None:
    data = receipt_bytes(make_receipt(), paper=PAPER_58MM)

    send_bytes("cups://Receipts", data)

    assert (fake_lp / "args").read_text().split() == ["-d", "Receipts", "-o", "raw", "-t", "omnitill"]
    assert (fake_lp / "job").read_bytes() == data


def test_a_queue_cups_refuses_is_offline_with_lps_own_words(fake_lp: Path) -> None:
    with pytest.raises(PrinterOffline, match="CUPS queue Missing: lp: The printer or class does not exist."):
        send_bytes("cups://Missing", b"x")


def test_virtual_printer_records_jobs_and_files(tmp_path: Path) -> None:
    printer = virtual_printer("till-3", folder=tmp_path)

    print_receipt(make_receipt(), "virtual://till-3", paper=PAPER_58MM, drawer_pin=5)

    assert printer.jobs == [receipt_bytes(make_receipt(), paper=PAPER_58MM, drawer_pin=5)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0001.bin", "0001.png", "0001.txt"]
    assert (tmp_path / "0001.bin").read_bytes() == printer.jobs[0]
    assert "TOTAL                  EUR 12.85" in (tmp_path / "0001.txt").read_text(encoding="utf-8")
    assert (tmp_path / "0001.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [kick.pin for kick in printer.drawer.kicks] == [5]
    assert read_status("virtual://till-3").drawer_open is True
    printer.drawer.close()
    assert read_status("virtual://till-3").drawer_open is False


@pytest.mark.parametrize(
    ("breakage", "error"),
    [("go_offline", PrinterOffline), ("run_out_of_paper", PaperOut), ("open_cover", CoverOpen)],
)
def test_virtual_printer_error_paths(breakage: str, error: type[PrinterError]) -> None:
    printer = virtual_printer("broken")
    getattr(printer, breakage)()

    with pytest.raises(error):
        print_receipt(make_receipt(), "virtual://broken")
    assert printer.jobs == []
    assert read_status("virtual://broken").ready is False

    printer.come_back()
    print_receipt(make_receipt(), "virtual://broken")
    assert len(printer.jobs) == 1
    assert read_status("virtual://broken").ready is True


def test_kick_drawer_logs_a_timestamped_kick() -> None:
    before = time.time()
    kick_drawer("virtual://", pin=2)
    (kick,) = virtual_printer().drawer.kicks
    assert kick.pin == 2 and kick.on_ms == 100
    assert before <= kick.at.timestamp() <= time.time()


def _wait_for(condition, timeout: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
