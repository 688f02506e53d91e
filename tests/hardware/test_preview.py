from __future__ import annotations

import io

from conftest import make_receipt, make_report
from PIL import Image

from hardware.layout import PAPER_58MM, PAPER_80MM, receipt_layout, report_layout
from hardware.preview import CELL_W, MARGIN, render_html, render_png, render_text


def test_text_preview_is_the_receipt_as_printed() -> None:
    text = render_text(receipt_layout(make_receipt(), PAPER_58MM))
    lines = text.splitlines()

    assert lines[0] == "         Omnitill Markt"
    assert "Пельмени Сибирские        6.50 A" in lines
    assert "  1.235 kg x 2.49/kg      3.08 B" in lines
    assert "    [CODE128 R-0001-000123]" in lines
    assert max(len(line) for line in lines) <= 32


def test_png_preview_is_as_wide_as_the_print_head() -> None:
    for paper in (PAPER_58MM, PAPER_80MM):
        image = Image.open(io.BytesIO(render_png(receipt_layout(make_receipt(), paper))))
        assert image.width == paper.columns * CELL_W + 2 * MARGIN
        assert image.height > 600
        # Ink on the page: the text and the barcode are drawn, not just a blank page.
        assert image.convert("L").getextrema() == (0, 255)


def test_html_preview_is_self_contained_and_escaped() -> None:
    receipt = make_receipt(header_lines=("<Omnitill & Co>",))
    html = render_html(receipt_layout(receipt, PAPER_80MM))

    assert "&lt;Omnitill &amp; Co&gt;" in html
    assert "<svg" in html and "R-0001-000123" in html
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_report_previews_render() -> None:
    layout = report_layout(make_report("X"), PAPER_80MM)
    assert "X REPORT" in render_text(layout)
    assert render_png(layout)[:4] == b"\x89PNG"
