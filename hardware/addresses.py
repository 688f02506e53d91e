"""Device address strings, as a store admin types them, parsed into typed values.

One string per device keeps configuration flat (an env var, a settings row):

    usb://04b8:0202?in_ep=0x82&out_ep=0x01&timeout=5
    tcp://10.0.0.50:9100?timeout=3
    serial:///dev/ttyUSB0?baudrate=38400&bytesize=8&parity=N&stopbits=1&suffix=CR
    file:///dev/usb/lp0
    cups://QueueName
    virtual://            (or virtual://front-till)

Every address renders back to a canonical string with ``str()``; parsing that string
gives the same value, so a normalised form can be stored.

Timeouts are seconds everywhere, even for USB where pyusb wants milliseconds: one unit
across schemes is what an admin can remember.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal
from urllib.parse import parse_qsl, unquote

__all__ = [
    "DEFAULT_TIMEOUT",
    "CupsAddress",
    "DeviceAddress",
    "DeviceAddressError",
    "FileAddress",
    "SerialAddress",
    "TcpAddress",
    "UsbAddress",
    "VirtualAddress",
    "parse_address",
]

# Long enough for a printer busy cutting, short enough that a till never hangs on a dead one.
DEFAULT_TIMEOUT = 5.0

Suffix = Literal["CR", "LF", "CRLF"]
SUFFIX_BYTES: dict[str, bytes] = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n"}

# pyserial accepts any int on Linux, but a typo (3840) silently gives line noise: only allow
# the rates scanners and printers actually offer.
STANDARD_BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
PARITIES = {"N": "none", "E": "even", "O": "odd", "M": "mark", "S": "space"}
STOPBITS = (Decimal("1"), Decimal("1.5"), Decimal("2"))


class DeviceAddressError(ValueError):
    """The address string cannot be used; the message says exactly which part is wrong."""


@dataclass(frozen=True)
class UsbAddress:
    vendor_id: int
    product_id: int
    in_ep: int = 0x82
    out_ep: int = 0x01
    timeout: float = DEFAULT_TIMEOUT

    scheme = "usb"

    def __str__(self) -> str:
        return (
            f"usb://{self.vendor_id:04x}:{self.product_id:04x}"
            f"?in_ep=0x{self.in_ep:02x}&out_ep=0x{self.out_ep:02x}&timeout={_num(self.timeout)}"
        )


@dataclass(frozen=True)
class TcpAddress:
    host: str
    port: int
    timeout: float = DEFAULT_TIMEOUT

    scheme = "tcp"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}?timeout={_num(self.timeout)}"


@dataclass(frozen=True)
class SerialAddress:
    device: str
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    suffix: Suffix = "CR"
    timeout: float = DEFAULT_TIMEOUT

    scheme = "serial"

    @property
    def suffix_bytes(self) -> bytes:
        return SUFFIX_BYTES[self.suffix]

    def __str__(self) -> str:
        return (
            f"serial://{self.device}?baudrate={self.baudrate}&bytesize={self.bytesize}"
            f"&parity={self.parity}&stopbits={_num(self.stopbits)}&suffix={self.suffix}"
            f"&timeout={_num(self.timeout)}"
        )


@dataclass(frozen=True)
class FileAddress:
    path: str

    scheme = "file"

    def __str__(self) -> str:
        return f"file://{self.path}"


@dataclass(frozen=True)
class CupsAddress:
    queue: str
    timeout: float = DEFAULT_TIMEOUT

    scheme = "cups"

    def __str__(self) -> str:
        return f"cups://{self.queue}?timeout={_num(self.timeout)}"


@dataclass(frozen=True)
class VirtualAddress:
    name: str = "default"

    scheme = "virtual"

    def __str__(self) -> str:
        return f"virtual://{self.name}"


DeviceAddress = UsbAddress | TcpAddress | SerialAddress | FileAddress | CupsAddress | VirtualAddress

_SCHEMES = ("usb", "tcp", "serial", "file", "cups", "virtual")
_HEX4 = re.compile(r"^(0x)?[0-9a-fA-F]{1,4}$")
# CUPS refuses queue names with spaces, slashes or '#'; catching it here gives a better message.
_CUPS_QUEUE = re.compile(r"^[A-Za-z0-9_.@-]{1,127}$")
_VIRTUAL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def parse_address(text: str) -> DeviceAddress:
    """Parse a device address string; raise :class:`DeviceAddressError` naming the bad part."""
    if not isinstance(text, str):
        raise DeviceAddressError(f"device address must be a string, got {type(text).__name__}")
    raw = text.strip()
    if not raw:
        raise DeviceAddressError("device address is empty")
    if "://" not in raw:
        raise DeviceAddressError(
            f"device address {raw!r} has no scheme: expected one of {', '.join(s + '://' for s in _SCHEMES)}"
        )
    scheme, rest = raw.split("://", 1)
    scheme = scheme.lower()
    if scheme not in _SCHEMES:
        raise DeviceAddressError(
            f"unknown scheme {scheme!r} in {raw!r}: expected one of {', '.join(_SCHEMES)}"
        )
    target, _, query = rest.partition("?")
    options = _parse_query(query, raw)
    parser = {
        "usb": _parse_usb,
        "tcp": _parse_tcp,
        "serial": _parse_serial,
        "file": _parse_file,
        "cups": _parse_cups,
        "virtual": _parse_virtual,
    }[scheme]
    return parser(target, options, raw)


def _parse_query(query: str, raw: str) -> dict[str, str]:
    options: dict[str, str] = {}
    if not query:
        return options
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        if key in options:
            raise DeviceAddressError(f"option {key!r} given twice in {raw!r}")
        if value == "":
            raise DeviceAddressError(f"option {key!r} has no value in {raw!r}")
        options[key] = value
    if not options:
        raise DeviceAddressError(f"cannot read the options {query!r} in {raw!r}")
    return options


def _reject_unknown(options: dict[str, str], allowed: tuple[str, ...], scheme: str, raw: str) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        allowed_text = ", ".join(allowed) if allowed else "none"
        raise DeviceAddressError(
            f"unknown option {unknown[0]!r} for {scheme}:// in {raw!r} (allowed: {allowed_text})"
        )


def _timeout(options: dict[str, str], raw: str) -> float:
    value = options.get("timeout")
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        raise DeviceAddressError(
            f"bad timeout {value!r} in {raw!r}: expected seconds, e.g. 5 or 0.5"
        ) from None
    # 0 would mean "block forever" for pyusb and pyserial, which is exactly what we must avoid.
    if not 0 < seconds <= 300:
        raise DeviceAddressError(f"bad timeout {value!r} in {raw!r}: must be more than 0 and at most 300 s")
    return seconds


def _parse_usb(target: str, options: dict[str, str], raw: str) -> UsbAddress:
    _reject_unknown(options, ("in_ep", "out_ep", "timeout"), "usb", raw)
    if not target:
        raise DeviceAddressError(f"missing vendor:product id in {raw!r}, e.g. usb://04b8:0202")
    if target.count(":") != 1:
        raise DeviceAddressError(f"usb address {raw!r} must be vendor:product in hex, e.g. usb://04b8:0202")
    vendor_text, product_text = target.split(":")
    vendor = _hex_id(vendor_text, "vendor", raw)
    product = _hex_id(product_text, "product", raw)
    in_ep = _endpoint(options, "in_ep", 0x82, raw)
    out_ep = _endpoint(options, "out_ep", 0x01, raw)
    return UsbAddress(vendor, product, in_ep, out_ep, _timeout(options, raw))


def _hex_id(text: str, what: str, raw: str) -> int:
    if not _HEX4.match(text):
        raise DeviceAddressError(f"bad hex {what} id {text!r} in {raw!r}: expected 1-4 hex digits, e.g. 04b8")
    value = int(text, 16)
    if value == 0:
        raise DeviceAddressError(f"bad hex {what} id {text!r} in {raw!r}: 0000 is not a valid USB id")
    return value


def _endpoint(options: dict[str, str], key: str, default: int, raw: str) -> int:
    text = options.get(key)
    if text is None:
        return default
    try:
        value = int(text, 0)
    except ValueError:
        raise DeviceAddressError(f"bad {key} {text!r} in {raw!r}: expected a number like 0x82") from None
    if not 0 < value <= 0xFF:
        raise DeviceAddressError(f"bad {key} {text!r} in {raw!r}: endpoint must be 0x01-0xff")
    return value


def _parse_tcp(target: str, options: dict[str, str], raw: str) -> TcpAddress:
    _reject_unknown(options, ("timeout",), "tcp", raw)
    target = target.rstrip("/")
    if not target:
        raise DeviceAddressError(f"missing host in {raw!r}, e.g. tcp://10.0.0.50:9100")
    if target.startswith("["):
        host, sep, port_text = target[1:].partition("]")
        if not sep:
            raise DeviceAddressError(f"unclosed '[' around the IPv6 host in {raw!r}")
        if not port_text.startswith(":") or port_text == ":":
            raise DeviceAddressError(f"missing port in {raw!r}, e.g. tcp://[fd00::50]:9100")
        port_text = port_text[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise DeviceAddressError(f"bad IPv6 host {host!r} in {raw!r}") from None
    else:
        host, sep, port_text = target.rpartition(":")
        if not sep:
            raise DeviceAddressError(f"missing port in {raw!r}, e.g. tcp://{target}:9100")
        if not host:
            raise DeviceAddressError(f"missing host in {raw!r}, e.g. tcp://10.0.0.50:9100")
        if ":" in host:
            raise DeviceAddressError(f"IPv6 host in {raw!r} must be in brackets, e.g. tcp://[fd00::50]:9100")
        if not re.match(r"^[A-Za-z0-9.-]+$", host):
            raise DeviceAddressError(f"bad host {host!r} in {raw!r}")
    if not port_text:
        raise DeviceAddressError(f"missing port in {raw!r}, e.g. tcp://{host}:9100")
    if not port_text.isdigit():
        raise DeviceAddressError(f"bad port {port_text!r} in {raw!r}: expected a number 1-65535")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise DeviceAddressError(f"bad port {port_text!r} in {raw!r}: expected a number 1-65535")
    return TcpAddress(host, port, _timeout(options, raw))


def _parse_serial(target: str, options: dict[str, str], raw: str) -> SerialAddress:
    _reject_unknown(
        options, ("baudrate", "bytesize", "parity", "stopbits", "suffix", "timeout"), "serial", raw
    )
    device = unquote(target)
    if not device:
        raise DeviceAddressError(f"missing device path in {raw!r}, e.g. serial:///dev/ttyUSB0")
    if not device.startswith("/"):
        raise DeviceAddressError(
            f"serial device {device!r} in {raw!r} must be an absolute path, e.g. serial:///dev/ttyUSB0"
        )
    baud_text = options.get("baudrate", "9600")
    if not baud_text.isdigit() or int(baud_text) not in STANDARD_BAUDRATES:
        raise DeviceAddressError(
            f"bad baudrate {baud_text!r} in {raw!r}: expected one of "
            f"{', '.join(str(b) for b in STANDARD_BAUDRATES)}"
        )
    bytesize_text = options.get("bytesize", "8")
    if bytesize_text not in ("5", "6", "7", "8"):
        raise DeviceAddressError(f"bad bytesize {bytesize_text!r} in {raw!r}: expected 5, 6, 7 or 8")
    parity = options.get("parity", "N").upper()
    if parity not in PARITIES:
        raise DeviceAddressError(
            f"bad parity {options.get('parity')!r} in {raw!r}: expected one of {', '.join(PARITIES)}"
        )
    stop_text = options.get("stopbits", "1")
    try:
        stopbits = Decimal(stop_text)
    except InvalidOperation:
        stopbits = None
    if stopbits not in STOPBITS:
        raise DeviceAddressError(f"bad stopbits {stop_text!r} in {raw!r}: expected 1, 1.5 or 2")
    suffix = options.get("suffix", "CR").upper()
    if suffix not in SUFFIX_BYTES:
        raise DeviceAddressError(f"bad suffix {options.get('suffix')!r} in {raw!r}: expected CR, LF or CRLF")
    return SerialAddress(
        device=device,
        baudrate=int(baud_text),
        bytesize=int(bytesize_text),
        parity=parity,
        stopbits=float(stopbits),
        suffix=suffix,  # type: ignore[arg-type]  # checked against SUFFIX_BYTES above
        timeout=_timeout(options, raw),
    )


def _parse_file(target: str, options: dict[str, str], raw: str) -> FileAddress:
    _reject_unknown(options, (), "file", raw)
    path = unquote(target)
    if not path:
        raise DeviceAddressError(f"missing path in {raw!r}, e.g. file:///dev/usb/lp0")
    if not path.startswith("/"):
        raise DeviceAddressError(
            f"file path {path!r} in {raw!r} must be absolute (three slashes), e.g. file:///dev/usb/lp0"
        )
    return FileAddress(path)


def _parse_cups(target: str, options: dict[str, str], raw: str) -> CupsAddress:
    _reject_unknown(options, ("timeout",), "cups", raw)
    queue = unquote(target).rstrip("/")
    if not queue:
        raise DeviceAddressError(f"missing queue name in {raw!r}, e.g. cups://Receipts")
    if not _CUPS_QUEUE.match(queue):
        raise DeviceAddressError(
            f"bad CUPS queue name {queue!r} in {raw!r}: letters, digits, '_', '.', '@' and '-' only"
        )
    return CupsAddress(queue, _timeout(options, raw))


def _parse_virtual(target: str, options: dict[str, str], raw: str) -> VirtualAddress:
    _reject_unknown(options, (), "virtual", raw)
    name = target.rstrip("/") or "default"
    if not _VIRTUAL_NAME.match(name):
        raise DeviceAddressError(
            f"bad virtual device name {name!r} in {raw!r}: letters, digits, '_', '.' and '-' only"
        )
    return VirtualAddress(name)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
