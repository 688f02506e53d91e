"""Barcode data checks done before anything reaches a printer.

python-escpos only checks length and charset ("won't compute/validate any checksum"), and a
printer happily prints an EAN with a wrong check digit that no scanner will ever read back.
"""

from __future__ import annotations

from typing import Literal

from stdnum import ean
from stdnum.exceptions import ValidationError

from hardware.errors import InvalidBarcode

__all__ = ["Symbology", "validate_barcode"]

Symbology = Literal["CODE128", "EAN13", "EAN8", "UPC-A"]

_EAN_LENGTHS: dict[str, int] = {"EAN13": 13, "EAN8": 8, "UPC-A": 12}
_NAMES = {"EAN13": "EAN-13", "EAN8": "EAN-8", "UPC-A": "UPC-A"}


def validate_barcode(symbology: str, data: str) -> str:
    """Return ``data`` unchanged if a printer can print it and a scanner will read it back."""
    if symbology in _EAN_LENGTHS:
        name = _NAMES[symbology]
        length = _EAN_LENGTHS[symbology]
        if not data.isascii() or not data.isdigit():
            raise InvalidBarcode(f"{name} {data!r} must contain digits only")
        if len(data) != length:
            raise InvalidBarcode(
                f"{name} {data!r} must have {length} digits including the check digit, got {len(data)}"
            )
        try:
            ean.validate(data)
        except ValidationError:
            expected = ean.calc_check_digit(data[:-1])
            raise InvalidBarcode(f"{name} {data!r} has check digit {data[-1]}, expected {expected}") from None
        return data
    if symbology == "CODE128":
        if not data:
            raise InvalidBarcode("Code 128 data is empty")
        # Code set B: printable ASCII. Anything else would need code set A/C switching.
        bad = [ch for ch in data if not 32 <= ord(ch) <= 126]
        if bad:
            raise InvalidBarcode(f"Code 128 data {data!r} contains {bad[0]!r}: printable ASCII only")
        if len(data) > 253:
            raise InvalidBarcode(f"Code 128 data is {len(data)} characters; at most 253 fit one command")
        return data
    raise InvalidBarcode(f"unsupported barcode symbology {symbology!r}")
