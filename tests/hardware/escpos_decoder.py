"""A small ESC/POS decoder written from the Epson command reference, independent of python-escpos.

It turns a job's bytes into operations, decoding text with the code page the printer would be
on at that point (ESC @ resets it to page 0, as on a real printer). Unknown commands raise,
so a test notices bytes it did not expect instead of skipping them.

``dump(ops)`` gives the one-op-per-line text stored in ``snapshots/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# Epson ESC t n page numbers -> Python codecs (only pages python has a codec for).
CODE_PAGES: dict[int, str] = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    13: "cp857",
    14: "cp737",
    15: "iso8859_7",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
    33: "cp775",
    34: "cp855",
    35: "cp861",
    36: "cp862",
    37: "cp864",
    38: "cp869",
    39: "iso8859_2",
    40: "iso8859_15",
    44: "cp1125",
    45: "cp1250",
    46: "cp1251",
    47: "cp1253",
    48: "cp1254",
    49: "cp1255",
    50: "cp1256",
    51: "cp1257",
    52: "cp1258",
    53: "kz1048",
}

BARCODE_SYSTEMS = {
    0: "UPC-A",
    1: "UPC-E",
    2: "EAN13",
    3: "EAN8",
    4: "CODE39",
    5: "ITF",
    6: "CODABAR",
    65: "UPC-A",
    66: "UPC-E",
    67: "EAN13",
    68: "EAN8",
    69: "CODE39",
    70: "ITF",
    71: "CODABAR",
    72: "CODE93",
    73: "CODE128",
    74: "GS1-128",
}
ALIGN = {0: "left", 48: "left", 1: "center", 49: "center", 2: "right", 50: "right"}

ESC, GS, DLE, LF = 0x1B, 0x1D, 0x10, 0x0A


class DecodeError(ValueError):
    pass


@dataclass(frozen=True)
class Op:
    name: str
    arg: object = None


@dataclass
class PrintedLine:
    text: str
    align: str
    bold: bool
    double_height: bool
    double_width: bool


@dataclass
class _State:
    codepage: int = 0
    align: str = "left"
    bold: bool = False
    double_height: bool = False
    double_width: bool = False
    pending: list[str] = field(default_factory=list)


def decode(data: bytes) -> list[Op]:
    ops: list[Op] = []
    codepage = 0
    i = 0
    n = len(data)

    def need(count: int) -> bytes:
        if i + count > n:
            raise DecodeError(f"truncated command at offset {i}: {data[i : i + 8]!r}")
        return data[i : i + count]

    while i < n:
        b = data[i]
        if b == LF:
            ops.append(Op("LF"))
            i += 1
        elif b == ESC:
            cmd = need(2)[1]
            if cmd == 0x40:  # ESC @
                ops.append(Op("INIT"))
                codepage = 0
                i += 2
            elif cmd == 0x74:  # ESC t n
                codepage = need(3)[2]
                if codepage not in CODE_PAGES:
                    raise DecodeError(f"code page {codepage} has no codec in the decoder")
                ops.append(Op("CODEPAGE", f"{codepage} {CODE_PAGES[codepage]}"))
                i += 3
            elif cmd == 0x21:  # ESC ! n
                ops.append(Op("MODE", need(3)[2]))
                i += 3
            elif cmd == 0x45:  # ESC E n
                ops.append(Op("BOLD", bool(need(3)[2] & 1)))
                i += 3
            elif cmd == 0x61:  # ESC a n
                ops.append(Op("ALIGN", ALIGN[need(3)[2]]))
                i += 3
            elif cmd == 0x2D:  # ESC - n
                ops.append(Op("UNDERLINE", need(3)[2]))
                i += 3
            elif cmd == 0x4D:  # ESC M n
                ops.append(Op("FONT", need(3)[2]))
                i += 3
            elif cmd == 0x64:  # ESC d n
                ops.append(Op("FEED", need(3)[2]))
                i += 3
            elif cmd == 0x70:  # ESC p m t1 t2
                m, t1, t2 = need(5)[2:5]
                ops.append(Op("PULSE", f"pin={2 if m in (0, 48) else 5} on={t1 * 2}ms off={t2 * 2}ms"))
                i += 5
            else:
                raise DecodeError(f"unknown ESC 0x{cmd:02x} at offset {i}")
        elif b == GS:
            cmd = need(2)[1]
            if cmd == 0x21:  # GS ! n
                size = need(3)[2]
                ops.append(Op("SIZE", f"{(size >> 4) + 1}x{(size & 0x0F) + 1}"))
                i += 3
            elif cmd in (0x68, 0x77, 0x66, 0x48):  # GS h / w / f / H
                name = {
                    0x68: "BARCODE_HEIGHT",
                    0x77: "BARCODE_WIDTH",
                    0x66: "HRI_FONT",
                    0x48: "HRI_POSITION",
                }[cmd]
                ops.append(Op(name, need(3)[2]))
                i += 3
            elif cmd == 0x6B:  # GS k m ...
                m = need(3)[2]
                if m <= 6:
                    end = data.find(b"\x00", i + 3)
                    if end == -1:
                        raise DecodeError(f"unterminated barcode at offset {i}")
                    payload = data[i + 3 : end]
                    i = end + 1
                else:
                    length = need(4)[3]
                    payload = need(4 + length)[4:]
                    i += 4 + length
                ops.append(Op("BARCODE", f"{BARCODE_SYSTEMS[m]} {payload.decode('ascii')}"))
            elif cmd == 0x28 and need(3)[2] == 0x6B:  # GS ( k pL pH cn fn ...
                pl, ph = need(5)[3:5]
                body = need(5 + pl + ph * 256)[5:]
                cn, fn = body[0], body[1]
                if cn != 49:
                    raise DecodeError(f"2D symbol type {cn} not decoded")
                if fn == 65:
                    ops.append(Op("QR_MODEL", body[2] - 48))
                elif fn == 67:
                    ops.append(Op("QR_SIZE", body[2]))
                elif fn == 69:
                    ops.append(Op("QR_EC", "LMQH"[body[2] - 48]))
                elif fn == 80:
                    ops.append(Op("QR_STORE", body[3:].decode("utf-8")))
                elif fn == 81:
                    ops.append(Op("QR_PRINT"))
                else:
                    raise DecodeError(f"QR function {fn} not decoded")
                i += 5 + pl + ph * 256
            elif cmd == 0x56:  # GS V m [n]
                m = need(3)[2]
                if m in (0, 48):
                    ops.append(Op("CUT", "full"))
                    i += 3
                elif m in (1, 49):
                    ops.append(Op("CUT", "partial"))
                    i += 3
                elif m in (65, 66):
                    ops.append(Op("CUT", f"{'full' if m == 65 else 'partial'} feed={need(4)[3]}"))
                    i += 4
                else:
                    raise DecodeError(f"unknown cut mode {m} at offset {i}")
            else:
                raise DecodeError(f"unknown GS 0x{cmd:02x} at offset {i}")
        elif b == DLE:
            if need(2)[1] != 0x04:
                raise DecodeError(f"unknown DLE command at offset {i}")
            ops.append(Op("STATUS_QUERY", need(3)[2]))
            i += 3
        elif b < 0x20:
            raise DecodeError(f"unexpected control byte 0x{b:02x} at offset {i}")
        else:
            start = i
            while i < n and data[i] >= 0x20 and data[i] != 0x7F:
                i += 1
            ops.append(Op("TEXT", data[start:i].decode(CODE_PAGES[codepage])))
    return ops


def printed_lines(ops: list[Op]) -> list[PrintedLine]:
    """The text lines as the printer would lay them out, with the style active when printed."""
    state = _State()
    lines: list[PrintedLine] = []
    for op in ops:
        if op.name == "INIT":
            state = _State()
        elif op.name == "ALIGN":
            state.align = str(op.arg)
        elif op.name == "BOLD":
            state.bold = bool(op.arg)
        elif op.name == "MODE":
            mode = int(op.arg)  # type: ignore[call-overload]
            state.bold = bool(mode & 0x08)
            state.double_height = bool(mode & 0x10)
            state.double_width = bool(mode & 0x20)
        elif op.name == "SIZE":
            w, h = str(op.arg).split("x")
            state.double_width, state.double_height = w == "2", h == "2"
        elif op.name == "TEXT":
            state.pending.append(str(op.arg))
        elif op.name == "LF":
            lines.append(
                PrintedLine(
                    "".join(state.pending), state.align, state.bold, state.double_height, state.double_width
                )
            )
            state.pending = []
    return lines


def dump(ops: list[Op]) -> str:
    out = []
    for op in ops:
        if op.arg is None:
            out.append(op.name)
        elif op.name in ("TEXT", "QR_STORE"):
            out.append(f"{op.name} {json.dumps(op.arg, ensure_ascii=False)}")
        elif op.name == "MODE":
            out.append(f"MODE 0x{int(op.arg):02x}")  # type: ignore[call-overload]
        else:
            out.append(f"{op.name} {op.arg}")
    return "\n".join(out) + "\n"
