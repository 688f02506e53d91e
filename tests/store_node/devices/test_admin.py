import pytest

from store_node.devices.admin import TerminalDevicesForm
from store_node.devices.models import PrintJob, PrintStatus
from store_node.devices.services import print_job_enqueue
from tests.factories import make_terminal, make_user

pytestmark = pytest.mark.django_db


def form_for(terminal, **changes):
    data = {
        "name": terminal.name,
        "printer_address": terminal.printer_address,
        "printer_profile": terminal.printer_profile,
        "paper_width_mm": terminal.paper_width_mm,
        "drawer_pin": terminal.drawer_pin,
        "scanner_address": terminal.scanner_address,
        "active": terminal.active,
        **changes,
    }
    return TerminalDevicesForm(data=data, instance=terminal)


def test_good_addresses_are_saved(store):
    terminal = make_terminal(store, "T01")

    form = form_for(
        terminal, printer_address=" tcp://10.0.0.50:9100 ", scanner_address="serial:///dev/ttyACM0"
    )

    assert form.is_valid(), form.errors
    form.save()
    terminal.refresh_from_db()
    assert (terminal.printer_address, terminal.scanner_address) == (
        "tcp://10.0.0.50:9100",
        "serial:///dev/ttyACM0",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "printer_address",
            "tcp://10.0.0.50",
            "missing port in 'tcp://10.0.0.50', e.g. tcp://10.0.0.50:9100",
        ),
        (
            "printer_address",
            "lpt://1",
            "unknown scheme 'lpt' in 'lpt://1': expected one of usb, tcp, serial, file, cups, virtual",
        ),
        ("scanner_address", "serial:///dev/ttyUSB0?baudrate=3840", "bad baudrate '3840'"),
        ("scanner_address", "tcp://10.0.0.9:9100", "a scanner needs serial:// or virtual://, not tcp://"),
    ],
)
def test_bad_addresses_are_refused_with_what_is_wrong(store, field, value, message):
    terminal = make_terminal(store, "T01")

    form = form_for(terminal, **{field: value})

    assert not form.is_valid()
    assert message in form.errors[field][0]


def test_reprint_action_queues_a_copy_of_a_printed_receipt(store, client):
    terminal = make_terminal(store, "T01")
    job = print_job_enqueue(terminal=terminal, kind="receipt", payload={"title": None})
    PrintJob.objects.filter(pk=job.pk).update(status=PrintStatus.PRINTED)
    admin_user = make_user("store_manager", store, is_staff=True, is_superuser=True)
    client.force_login(admin_user)

    response = client.post(
        "/admin/devices/printjob/", {"action": "reprint", "_selected_action": [str(job.pk)]}, follow=True
    )

    assert response.status_code == 200
    assert list(PrintJob.objects.order_by("created_at").values_list("kind", "status")) == [
        ("receipt", "printed"),
        ("reprint", "queued"),
    ]
