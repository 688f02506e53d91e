from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.status import PrinterStatus, decode_status, encode_status


@pytest.mark.parametrize(
    ("printer", "cause", "paper", "expected"),
    [
        # Idle TM-T88: only the fixed bits.
        (
            0x12,
            0x12,
            0x12,
            dict(online=True, cover_open=False, paper_low=False, paper_out=False, error=False),
        ),
        # Cover open: offline (bit 3), cause bit 2.
        (0x1A, 0x16, 0x12, dict(online=False, cover_open=True, paper_out=False)),
        # Paper end: offline, cause bit 5, roll sensor bits 2+3 (near end) and 5+6 (end).
        (0x1A, 0x32, 0x7E, dict(online=False, cover_open=False, paper_out=True, paper_low=True)),
        # Near end only: still online.
        (0x12, 0x12, 0x1E, dict(online=True, paper_low=True, paper_out=False)),
        # Error (e.g. cutter jam): offline, cause bit 6.
        (0x1A, 0x52, 0x12, dict(online=False, error=True, cover_open=False)),
        # Drawer pin 3 high.
        (0x16, 0x12, 0x12, dict(online=True, drawer_open=True)),
    ],
)
def test_dle_eot_answers_decode_per_epson_reference(
    printer: int, cause: int, paper: int, expected: dict[str, bool]
) -> None:
    status = decode_status(printer, cause, paper)
    assert {k: getattr(status, k) for k in expected} == expected
    assert status.raw == (printer, cause, paper)


def test_no_answer_is_unknown_not_a_guess() -> None:
    status = decode_status(None, None, None)
    assert status == PrinterStatus()
    assert status.unknown and not status.ready


@pytest.mark.parametrize("garbage", [0x00, 0x11, 0x13, 0xFF, 0x92])
def test_bytes_with_wrong_fixed_bits_are_not_status(garbage: int) -> None:
    # XON (0x11), XOFF (0x13) and the like must not read as "online".
    assert decode_status(garbage).online is None


def test_only_printer_status_answered_leaves_paper_unknown() -> None:
    status = decode_status(0x12)
    assert (status.online, status.paper_out, status.paper_low, status.cover_open) == (True, None, None, None)


@given(
    online=st.booleans(),
    drawer=st.booleans(),
    cover=st.booleans(),
    low=st.booleans(),
    out=st.booleans(),
    error=st.booleans(),
)
def test_encode_then_decode_gives_the_state_back(
    online: bool, drawer: bool, cover: bool, low: bool, out: bool, error: bool
) -> None:
    status = decode_status(
        *encode_status(
            online=online,
            drawer_pin3_high=drawer,
            cover_open=cover,
            paper_low=low,
            paper_out=out,
            error=error,
        )
    )
    assert (status.online, status.drawer_open, status.cover_open, status.paper_out, status.error) == (
        online,
        drawer,
        cover,
        out,
        error,
    )
    assert status.paper_low == (low or out)
