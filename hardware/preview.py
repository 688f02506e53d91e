"""Layout -> plain text, PNG and HTML previews (back office, simulator folders, tests).

Barcodes are drawn from python-barcode's module pattern and qrcode's matrix rather than their
image writers: those need font files and produce sizes in millimetres, while here one module
is a whole number of pixels, like on the printer.
"""

from __future__ import annotations

import html
import io
import os
from functools import lru_cache

import barcode as barcode_lib
import qrcode
from PIL import Image, ImageDraw, ImageFont

from hardware.layout import Barcode, Cut, Feed, Layout, QrCode, Text

__all__ = ["render_html", "render_png", "render_text"]

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
# 12 px per character at size 20 makes 48 columns exactly 576 px, an 80 mm head at 203 dpi.
CELL_W, CELL_H, FONT_SIZE = 12, 24, 20
MARGIN = 12
BARCODE_HEIGHT = 60
_PYBARCODE_NAMES = {"CODE128": "code128", "EAN13": "ean13", "EAN8": "ean8", "UPC-A": "upca"}


def render_text(layout: Layout) -> str:
    """The receipt as it reads on paper, one line per printed line, padded to the paper width."""
    width = layout.paper.columns
    out: list[str] = []
    for block in layout.blocks:
        if isinstance(block, Text):
            out.append(_aligned(block.text, block.align, width).rstrip())
        elif isinstance(block, Barcode):
            out.append(_aligned(f"[{block.symbology} {block.data}]", "center", width).rstrip())
        elif isinstance(block, QrCode):
            out.append(_aligned(f"[QR {block.data}]", "center", width).rstrip())
        elif isinstance(block, Feed):
            out.extend([""] * block.lines)
        elif isinstance(block, Cut):
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def render_png(layout: Layout) -> bytes:
    """A PNG the width of the paper's print head, black on white."""
    width_px = layout.paper.columns * CELL_W + 2 * MARGIN
    pieces: list[Image.Image] = [
        _text_image(b, layout.paper.columns) if isinstance(b, Text) else _block_image(b)
        for b in layout.blocks
    ]
    height = sum(p.height for p in pieces) + 2 * MARGIN
    page = Image.new("L", (width_px, height), 255)
    y = MARGIN
    for block, piece in zip(layout.blocks, pieces, strict=True):
        if isinstance(block, Text):
            x = MARGIN + _offset(piece.width, block.align, layout.paper.columns * CELL_W)
        else:
            x = MARGIN + max(0, (layout.paper.columns * CELL_W - piece.width) // 2)
        page.paste(piece, (x, y))
        y += piece.height
    buffer = io.BytesIO()
    page.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def render_html(layout: Layout) -> str:
    """A self-contained HTML fragment (inline CSS and SVG, no external assets)."""
    columns = layout.paper.columns
    rows: list[str] = []
    for block in layout.blocks:
        if isinstance(block, Text):
            classes = ["l", f"a-{block.align}"]
            if block.bold:
                classes.append("b")
            if block.double_height:
                classes.append("dh")
            if block.double_width:
                classes.append("dw")
            rows.append(f'<div class="{" ".join(classes)}">{html.escape(block.text) or "&nbsp;"}</div>')
        elif isinstance(block, Barcode):
            rows.append(f'<div class="code">{_barcode_svg(block)}<div>{html.escape(block.data)}</div></div>')
        elif isinstance(block, QrCode):
            rows.append(f'<div class="code">{_qr_svg(block)}</div>')
        elif isinstance(block, Feed):
            rows.extend(['<div class="l">&nbsp;</div>'] * block.lines)
        elif isinstance(block, Cut):
            rows.append('<div class="cut"></div>')
    style = (
        f".receipt{{font-family:'DejaVu Sans Mono',monospace;font-size:14px;line-height:1.25;"
        f"width:{columns}ch;padding:1ch;background:#fff;color:#000;border:1px solid #ccc}}"
        ".receipt .l{white-space:pre;overflow:hidden}.receipt .b{font-weight:bold}"
        ".receipt .dh{font-size:2em;line-height:1.25;transform:scaleX(.5);transform-origin:left}"
        ".receipt .dh.dw{transform:none}.receipt .a-center{text-align:center}"
        ".receipt .a-right{text-align:right}.receipt .a-center.dh:not(.dw){transform-origin:center}"
        ".receipt .code{text-align:center;margin:.5em 0}"
        ".receipt .cut{border-top:1px dashed #999;margin-top:1em}"
    )
    return (
        f'<div class="receipt" data-paper="{layout.paper.name}"><style>{style}</style>'
        + "".join(rows)
        + "</div>"
    )


def _aligned(text: str, align: str, width: int) -> str:
    if align == "center":
        return text.center(width)
    if align == "right":
        return text.rjust(width)
    return text


def _offset(piece_width: int, align: str, area: int) -> int:
    if align == "center":
        return max(0, (area - piece_width) // 2)
    if align == "right":
        return max(0, area - piece_width)
    return 0


@lru_cache(maxsize=2)
def _font(bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    path = os.path.join(FONT_DIR, name)
    if os.path.exists(path):
        return ImageFont.truetype(path, FONT_SIZE)
    return ImageFont.load_default()


def _text_image(block: Text, columns: int) -> Image.Image:
    chars = max(1, len(block.text))
    image = Image.new("L", (chars * CELL_W, CELL_H), 255)
    draw = ImageDraw.Draw(image)
    font = _font(block.bold)
    # Draw per character so every glyph sits in its cell even with the fallback font.
    for i, ch in enumerate(block.text):
        draw.text((i * CELL_W, 0), ch, font=font, fill=0)
    scale_x = 2 if block.double_width else 1
    scale_y = 2 if block.double_height else 1
    if scale_x != 1 or scale_y != 1:
        image = image.resize((image.width * scale_x, image.height * scale_y), Image.Resampling.NEAREST)
    return image


def _block_image(block: Barcode | QrCode | Feed | Cut) -> Image.Image:
    if isinstance(block, Barcode):
        modules = _modules(block)
        w = block.module_width
        hri_h = CELL_H
        image = Image.new("L", (len(modules) * w, BARCODE_HEIGHT + hri_h), 255)
        draw = ImageDraw.Draw(image)
        for i, bit in enumerate(modules):
            if bit == "1":
                draw.rectangle((i * w, 0, i * w + w - 1, BARCODE_HEIGHT - 1), fill=0)
        text_x = max(0, (image.width - len(block.data) * CELL_W) // 2)
        for i, ch in enumerate(block.data):
            draw.text((text_x + i * CELL_W, BARCODE_HEIGHT), ch, font=_font(False), fill=0)
        return image
    if isinstance(block, QrCode):
        matrix = _qr_matrix(block.data)
        size = block.module_size
        image = Image.new("L", (len(matrix) * size, len(matrix) * size), 255)
        draw = ImageDraw.Draw(image)
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                if dark:
                    draw.rectangle((x * size, y * size, x * size + size - 1, y * size + size - 1), fill=0)
        return image
    if isinstance(block, Feed):
        return Image.new("L", (1, CELL_H * block.lines), 255)
    image = Image.new("L", (CELL_W * 8, CELL_H), 255)
    ImageDraw.Draw(image).line((0, CELL_H // 2, image.width, CELL_H // 2), fill=128)
    return image


def _modules(block: Barcode) -> str:
    return barcode_lib.get(_PYBARCODE_NAMES[block.symbology], block.data).build()[0]


def _qr_matrix(data: str) -> list[list[bool]]:
    qr = qrcode.QRCode(border=2)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.get_matrix()


def _barcode_svg(block: Barcode) -> str:
    modules = _modules(block)
    bars = "".join(f'<rect x="{i}" width="1" height="50"/>' for i, bit in enumerate(modules) if bit == "1")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {len(modules)} 50" '
        f'width="{len(modules) * block.module_width}" height="50" shape-rendering="crispEdges">{bars}</svg>'
    )


def _qr_svg(block: QrCode) -> str:
    matrix = _qr_matrix(block.data)
    n = len(matrix)
    cells = "".join(
        f'<rect x="{x}" y="{y}" width="1" height="1"/>'
        for y, row in enumerate(matrix)
        for x, dark in enumerate(row)
        if dark
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{n * block.module_size}" '
        f'height="{n * block.module_size}" shape-rendering="crispEdges">{cells}</svg>'
    )
