import pytest
from django.core.exceptions import ValidationError

from retail.stores.validators import validate_printer_address, validate_scanner_address


@pytest.mark.parametrize(
    "address", ["", "virtual://", "tcp://10.0.0.50:9100", "usb://04b8:0202", "cups://Receipts"]
)
def test_printer_addresses_hardware_can_use_pass(address):
    validate_printer_address(address)


@pytest.mark.parametrize(
    "address", ["", "virtual://", "serial:///dev/omnitill-scanner-lane1?baudrate=9600&suffix=CRLF"]
)
def test_scanner_addresses_on_serial_or_virtual_pass(address):
    validate_scanner_address(address)


@pytest.mark.parametrize(
    ("validator", "address", "message"),
    [
        (
            validate_printer_address,
            "tcp://printer",
            "missing port in 'tcp://printer', e.g. tcp://printer:9100",
        ),
        (validate_printer_address, "usb://04b8", "usb address 'usb://04b8' must be vendor:product in hex"),
        (validate_scanner_address, "serial://ttyUSB0", "must be an absolute path"),
        (validate_scanner_address, "usb://05e0:1200", "a scanner needs serial:// or virtual://, not usb://"),
    ],
)
def test_bad_addresses_are_refused_naming_the_bad_part(validator, address, message):
    with pytest.raises(ValidationError) as refused:
        validator(address)

    assert message in refused.value.messages[0]
    assert refused.value.code == "device_address"
