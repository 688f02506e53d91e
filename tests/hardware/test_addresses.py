from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.addresses import (
    CupsAddress,
    DeviceAddressError,
    FileAddress,
    SerialAddress,
    TcpAddress,
    UsbAddress,
    VirtualAddress,
    parse_address,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("usb://04b8:0202", UsbAddress(0x04B8, 0x0202)),
        ("USB://04B8:0E15?in_ep=0x81&out_ep=2&timeout=2.5", UsbAddress(0x04B8, 0x0E15, 0x81, 0x02, 2.5)),
        ("tcp://10.0.0.50:9100", TcpAddress("10.0.0.50", 9100)),
        ("tcp://printer-1.store.lan:9100?timeout=3", TcpAddress("printer-1.store.lan", 9100, 3.0)),
        ("tcp://[fd00::50]:9100", TcpAddress("fd00::50", 9100)),
        ("serial:///dev/ttyUSB0", SerialAddress("/dev/ttyUSB0")),
        (
            "serial:///dev/ttyUSB0?baudrate=38400&bytesize=7&parity=e&stopbits=1.5&suffix=crlf&timeout=1",
            SerialAddress("/dev/ttyUSB0", 38400, 7, "E", 1.5, "CRLF", 1.0),
        ),
        ("file:///dev/usb/lp0", FileAddress("/dev/usb/lp0")),
        ("cups://Receipts_Till-3", CupsAddress("Receipts_Till-3")),
        ("virtual://", VirtualAddress("default")),
        ("virtual://front-till", VirtualAddress("front-till")),
        ("  tcp://10.0.0.50:9100  ", TcpAddress("10.0.0.50", 9100)),
    ],
)
def test_good_addresses_parse_to_typed_values(text: str, expected: object) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "device address is empty"),
        (
            "10.0.0.50:9100",
            "device address '10.0.0.50:9100' has no scheme: expected one of usb://, tcp://, "
            "serial://, file://, cups://, virtual://",
        ),
        (
            "lpt://1",
            "unknown scheme 'lpt' in 'lpt://1': expected one of usb, tcp, serial, file, cups, virtual",
        ),
        ("tcp://10.0.0.50", "missing port in 'tcp://10.0.0.50', e.g. tcp://10.0.0.50:9100"),
        ("tcp://10.0.0.50:", "missing port in 'tcp://10.0.0.50:', e.g. tcp://10.0.0.50:9100"),
        ("tcp://:9100", "missing host in 'tcp://:9100', e.g. tcp://10.0.0.50:9100"),
        ("tcp://10.0.0.50:91x0", "bad port '91x0' in 'tcp://10.0.0.50:91x0': expected a number 1-65535"),
        ("tcp://10.0.0.50:70000", "bad port '70000' in 'tcp://10.0.0.50:70000': expected a number 1-65535"),
        ("tcp://[fd00::50]", "missing port in 'tcp://[fd00::50]', e.g. tcp://[fd00::50]:9100"),
        (
            "tcp://fd00::50:9100",
            "IPv6 host in 'tcp://fd00::50:9100' must be in brackets, e.g. tcp://[fd00::50]:9100",
        ),
        (
            "tcp://10.0.0.50:9100?timeout=0",
            "bad timeout '0' in 'tcp://10.0.0.50:9100?timeout=0': must be more than 0 and at most 300 s",
        ),
        (
            "tcp://10.0.0.50:9100?timeout=soon",
            "bad timeout 'soon' in 'tcp://10.0.0.50:9100?timeout=soon': expected seconds, e.g. 5 or 0.5",
        ),
        (
            "tcp://10.0.0.50:9100?baudrate=9600",
            "unknown option 'baudrate' for tcp:// in 'tcp://10.0.0.50:9100?baudrate=9600' (allowed: timeout)",
        ),
        ("usb://04b8", "usb address 'usb://04b8' must be vendor:product in hex, e.g. usb://04b8:0202"),
        ("usb://", "missing vendor:product id in 'usb://', e.g. usb://04b8:0202"),
        (
            "usb://04g8:0202",
            "bad hex vendor id '04g8' in 'usb://04g8:0202': expected 1-4 hex digits, e.g. 04b8",
        ),
        (
            "usb://04b8:20202",
            "bad hex product id '20202' in 'usb://04b8:20202': expected 1-4 hex digits, e.g. 04b8",
        ),
        (
            "usb://04b8:0202?out_ep=0x100",
            "bad out_ep '0x100' in 'usb://04b8:0202?out_ep=0x100': endpoint must be 0x01-0xff",
        ),
        (
            "usb://04b8:0202?speed=1",
            "unknown option 'speed' for usb:// in 'usb://04b8:0202?speed=1' "
            "(allowed: in_ep, out_ep, timeout)",
        ),
        (
            "serial:///dev/ttyUSB0?baudrate=3840",
            "bad baudrate '3840' in 'serial:///dev/ttyUSB0?baudrate=3840': "
            "expected one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600",
        ),
        (
            "serial:///dev/ttyUSB0?parity=X",
            "bad parity 'X' in 'serial:///dev/ttyUSB0?parity=X': expected one of N, E, O, M, S",
        ),
        (
            "serial:///dev/ttyUSB0?stopbits=3",
            "bad stopbits '3' in 'serial:///dev/ttyUSB0?stopbits=3': expected 1, 1.5 or 2",
        ),
        (
            "serial:///dev/ttyUSB0?bytesize=9",
            "bad bytesize '9' in 'serial:///dev/ttyUSB0?bytesize=9': expected 5, 6, 7 or 8",
        ),
        (
            "serial:///dev/ttyUSB0?suffix=TAB",
            "bad suffix 'TAB' in 'serial:///dev/ttyUSB0?suffix=TAB': expected CR, LF or CRLF",
        ),
        (
            "serial://dev/ttyUSB0",
            "serial device 'dev/ttyUSB0' in 'serial://dev/ttyUSB0' must be an absolute "
            "path, e.g. serial:///dev/ttyUSB0",
        ),
        (
            "serial:///dev/ttyUSB0?baudrate=9600&baudrate=19200",
            "option 'baudrate' given twice in 'serial:///dev/ttyUSB0?baudrate=9600&baudrate=19200'",
        ),
        (
            "serial:///dev/ttyUSB0?baudrate=",
            "option 'baudrate' has no value in 'serial:///dev/ttyUSB0?baudrate='",
        ),
        ("file://", "missing path in 'file://', e.g. file:///dev/usb/lp0"),
        (
            "file://dev/usb/lp0",
            "file path 'dev/usb/lp0' in 'file://dev/usb/lp0' must be absolute (three "
            "slashes), e.g. file:///dev/usb/lp0",
        ),
        ("cups://", "missing queue name in 'cups://', e.g. cups://Receipts"),
        (
            "cups://Front Till",
            "bad CUPS queue name 'Front Till' in 'cups://Front Till': letters, digits, '_', "
            "'.', '@' and '-' only",
        ),
        (
            "virtual://a b",
            "bad virtual device name 'a b' in 'virtual://a b': letters, digits, '_', '.' and '-' only",
        ),
        (
            "virtual://x?fail=1",
            "unknown option 'fail' for virtual:// in 'virtual://x?fail=1' (allowed: none)",
        ),
    ],
)
def test_bad_addresses_name_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DeviceAddressError) as excinfo:
        parse_address(text)
    assert str(excinfo.value) == message
    assert isinstance(excinfo.value, ValueError)


_hex_id = st.integers(min_value=1, max_value=0xFFFF)
_timeout = st.sampled_from([0.5, 1.0, 2.5, 5.0, 30.0])
addresses = st.one_of(
    st.builds(UsbAddress, _hex_id, _hex_id, st.integers(1, 255), st.integers(1, 255), _timeout),
    st.builds(
        TcpAddress,
        st.sampled_from(["10.0.0.50", "printer.lan", "fd00::50", "127.0.0.1"]),
        st.integers(1, 65535),
        _timeout,
    ),
    st.builds(
        SerialAddress,
        st.sampled_from(["/dev/ttyUSB0", "/dev/serial/by-id/usb-Honeywell_1900-if00"]),
        st.sampled_from([9600, 38400, 115200]),
        st.sampled_from([7, 8]),
        st.sampled_from(["N", "E", "O"]),
        st.sampled_from([1.0, 1.5, 2.0]),
        st.sampled_from(["CR", "LF", "CRLF"]),
        _timeout,
    ),
    st.builds(FileAddress, st.sampled_from(["/dev/usb/lp0", "/var/spool/omnitill/receipts.bin"])),
    st.builds(CupsAddress, st.from_regex(r"[A-Za-z0-9_.@-]{1,20}", fullmatch=True), _timeout),
    st.builds(VirtualAddress, st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True)),
)


@given(addresses)
def test_canonical_string_parses_back_to_the_same_address(address: object) -> None:
    assert parse_address(str(address)) == address
