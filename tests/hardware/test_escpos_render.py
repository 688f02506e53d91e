"""The bytes python-escpos produces, decoded by our own decoder, are exactly the receipt.

Snapshots live in tests/hardware/snapshots/. After an intended layout change, regenerate
them and review the diff:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/hardware/test_escpos_render.py -p no:django -q
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import make_receipt, make_report
from escpos.printer import Dummy
from escpos_decoder import Op, decode, dump, printed_lines

from hardware.errors import InvalidBarcode
from hardware.escpos_render import drawer_kick, new_dummy, render_escpos, reset_printer, write_layout
from hardware.layout import (
    PAPER_58MM,
    PAPER_80MM,
    Barcode,
    Cut,
    Layout,
    Paper,
    Text,
    receipt_layout,
    report_layout,
)
from hardware.printer import receipt_bytes, report_bytes

SNAPSHOTS = Path(__file__).parent / "snapshots"


def assert_snapshot(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 to create it"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("paper", "profile"), [(PAPER_58MM, "TM-T20II"), (PAPER_80MM, "TM-T88V")])
def test_receipt_bytes_match_snapshot(paper: Paper, profile: str) -> None:
    data = receipt_bytes(make_receipt(), paper=paper, profile=profile)
    assert_snapshot(f"receipt_{paper.name}_{profile}.txt", dump(decode(data)))


@pytest.mark.parametrize("kind", ["Z", "X"])
def test_report_bytes_match_snapshot(kind: str) -> None:
    data = report_bytes(make_report(kind), paper=PAPER_58MM, profile="default")
    assert_snapshot(f"report_{kind}_58mm_default.txt", dump(decode(data)))


@pytest.mark.parametrize("paper", [PAPER_58MM, PAPER_80MM])
@pytest.mark.parametrize("profile", ["default", "TM-T88V", "TM-T20II"])
def test_every_layout_line_prints_with_its_text_and_style(paper: Paper, profile: str) -> None:
    layout = receipt_layout(make_receipt(), paper)

    lines = printed_lines(decode(render_escpos(layout, profile=profile)))

    expected = [
        (b.text, b.align, b.bold, b.double_height, b.double_width)
        for b in layout.blocks
        if isinstance(b, Text)
    ]
    got = [(ln.text, ln.align, ln.bold, ln.double_height, ln.double_width) for ln in lines if ln.text]
    assert got == expected
    assert all(len(text) <= paper.columns for text, *_ in got)


def test_receipt_starts_with_reset_and_ends_with_return_barcode_and_cut() -> None:
    ops = decode(receipt_bytes(make_receipt(), paper=PAPER_80MM))

    assert ops[0] == Op("INIT")
    barcodes = [op for op in ops if op.name == "BARCODE"]
    assert barcodes == [Op("BARCODE", "CODE128 {BR-0001-000123")]
    assert Op("HRI_POSITION", 2) in ops  # number printed under the bars for a cashier to type
    assert ops[-1] == Op("CUT", "partial")


def test_receipt_number_too_long_for_code128_on_58mm_becomes_a_qr_code() -> None:
    number = "STORE-0042-TILL-03-2025-11-23-000123"
    ops = decode(receipt_bytes(make_receipt(receipt_number=number), paper=PAPER_58MM))

    assert not [op for op in ops if op.name == "BARCODE"]
    assert Op("QR_STORE", number) in ops
    assert Op("QR_PRINT") in ops


@pytest.mark.parametrize("profile", ["default", "TM-T88V", "TM-T20II"])
def test_non_ascii_round_trips_through_the_code_page_the_printer_was_told(profile: str) -> None:
    samples = ["é ü ß €", "Привет, мир", "Crème brûlée 3,50 €", "Grüße aus Wien — Ёлка", "Ωmega ğ ł ő"]
    layout = Layout(PAPER_80MM, tuple(Text(s) for s in samples))

    ops = decode(render_escpos(layout, profile=profile))

    assert [ln.text for ln in printed_lines(ops)] == samples
    assert any(op.name == "CODEPAGE" for op in ops)


def test_profile_without_a_glyph_prints_a_question_mark_not_garbage() -> None:
    layout = Layout(PAPER_80MM, (Text("漢 ok"), Text("€ ✓")))
    lines = printed_lines(decode(render_escpos(layout, profile="TM-T88V")))
    # CJK goes out as GB18030 in python-escpos (undecodable here) so stick to a symbol no page has.
    assert lines[1].text == "€ ?"


def test_python_escpos_alone_forgets_the_code_page_after_reset() -> None:
    # The library behaviour this module works around: no ESC t after the second ESC @.
    printer = Dummy(profile="TM-T88V")
    printer.text("Привет\n")
    printer.hw("INIT")
    printer.text("Привет\n")

    ops = decode(printer.output)

    assert [op.name for op in ops] == ["CODEPAGE", "TEXT", "LF", "INIT", "TEXT", "LF"]
    assert ops[4] != Op("TEXT", "Привет")  # printed as CP437 box-drawing garbage


def test_code_page_is_sent_again_after_every_reset() -> None:
    printer = new_dummy("TM-T88V")
    layout = Layout(PAPER_80MM, (Text("Привет"), Text("plain ascii"), Cut()))

    write_layout(printer, layout)
    write_layout(printer, layout)  # same printer object, second job
    reset_printer(printer)
    printer.textln("Ёж")

    ops = decode(printer.output)
    inits = [i for i, op in enumerate(ops) if op.name == "INIT"]
    assert len(inits) == 3
    for start in inits:
        first_text = next(i for i in range(start, len(ops)) if ops[i].name == "TEXT")
        assert any(op.name == "CODEPAGE" for op in ops[start:first_text])
    assert [ln.text for ln in printed_lines(ops)] == ["Привет", "plain ascii", "Привет", "plain ascii", "Ёж"]


def test_rendering_is_deterministic_across_renders() -> None:
    layout = receipt_layout(make_receipt(), PAPER_80MM)
    assert render_escpos(layout, profile="TM-T88V") == render_escpos(layout, profile="TM-T88V")


@pytest.mark.parametrize(
    ("symbology", "data", "message"),
    [
        ("EAN13", "4006381333932", "EAN-13 '4006381333932' has check digit 2, expected 1"),
        (
            "EAN13",
            "400638133393",
            "EAN-13 '400638133393' must have 13 digits including the check digit, got 12",
        ),
        ("EAN8", "96385075", "EAN-8 '96385075' has check digit 5, expected 4"),
        ("UPC-A", "036000291453", "UPC-A '036000291453' has check digit 3, expected 2"),
        ("EAN13", "40063813339A", "EAN-13 '40063813339A' must contain digits only"),
        ("CODE128", "R-1\n", "Code 128 data 'R-1\\n' contains '\\n': printable ASCII only"),
    ],
)
def test_bad_barcodes_are_refused_before_printing(symbology: str, data: str, message: str) -> None:
    with pytest.raises(InvalidBarcode) as excinfo:
        Barcode(data, symbology)  # type: ignore[arg-type]
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("symbology", "data"), [("EAN13", "4006381333931"), ("EAN8", "96385074"), ("UPC-A", "036000291452")]
)
def test_valid_ean_prints_as_hardware_barcode(symbology: str, data: str) -> None:
    ops = decode(render_escpos(Layout(PAPER_58MM, (Barcode(data, symbology),))))  # type: ignore[arg-type]
    assert Op("BARCODE", f"{symbology} {data}") in ops


def test_drawer_kick_bytes_for_each_pin() -> None:
    assert drawer_kick(2) == b"\x1bp\x00\x32\x32"
    assert decode(drawer_kick(5)) == [Op("PULSE", "pin=5 on=100ms off=100ms")]
    with pytest.raises(ValueError, match="cash drawer pin must be 2 or 5, got 3"):
        drawer_kick(3)  # type: ignore[arg-type]


def test_drawer_kick_comes_before_the_receipt_content() -> None:
    ops = decode(receipt_bytes(make_receipt(), drawer_pin=2))
    assert ops[:2] == [Op("INIT"), Op("PULSE", "pin=2 on=100ms off=100ms")]


def test_z_report_layout_has_kind_number_and_rows() -> None:
    lines = [b.text for b in report_layout(make_report("Z"), PAPER_58MM).blocks if isinstance(b, Text)]
    assert lines[1] == "Z REPORT"
    assert "Net sales                2300.50" in lines
    assert "Difference                 -0.10" in lines
