"""Device address checks for terminals (model field validators, so every admin and form uses them).

The message is hardware.addresses' own, naming the bad part; see docs/hardware.md."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from hardware.addresses import DeviceAddressError, SerialAddress, VirtualAddress, parse_address


def validate_printer_address(value: str) -> None:
    if not value:
        return  # blank: the store's PRINTER_ADDRESS applies
    try:
        parse_address(value)
    except DeviceAddressError as exc:
        raise ValidationError(str(exc), code="device_address") from None


def validate_scanner_address(value: str) -> None:
    if not value:
        return
    try:
        parsed = parse_address(value)
    except DeviceAddressError as exc:
        raise ValidationError(str(exc), code="device_address") from None
    if not isinstance(parsed, SerialAddress | VirtualAddress):
        raise ValidationError(
            f"a scanner needs serial:// or virtual://, not {parsed.scheme}:// (USB keyboard-wedge "
            "scanners need no address: the browser reads them)",
            code="device_address",
        )
