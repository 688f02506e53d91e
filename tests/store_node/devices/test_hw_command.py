from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hardware.simulators import virtual_printer
from store_node.devices.models import PrintJob, PrintStatus
from store_node.devices.services import print_job_enqueue
from tests.factories import make_terminal
from tests.hardware.escpos_decoder import decode, printed_lines

pytestmark = pytest.mark.django_db


def hw(*args) -> str:
    out = StringIO()
    call_command("hw", *args, stdout=out)
    return out.getvalue()


def test_status_lists_each_lane_with_its_printer_state_and_queue(store, fake_printer):
    make_terminal(
        store, "T01", printer_address=fake_printer.address, scanner_address="serial:///dev/nonexistent0"
    )
    t2 = make_terminal(store, "T02", printer_address="virtual://t2")
    fake_printer.paper_out = True
    print_job_enqueue(terminal=t2, kind="receipt", payload={})

    output = hw("status")

    rows = {line.split("│")[1].strip(): line for line in output.splitlines() if "S01-T0" in line}
    assert "paper_out: Printer out of paper" in rows["S01-T01"]
    assert "not connected" in rows["S01-T01"]
    assert "ready: Printer ready" in rows["S01-T02"] and "1 queued" in rows["S01-T02"]


def test_test_print_now_prints_a_test_page_from_this_process(store):
    make_terminal(store, "T01", printer_address="virtual://t1")

    output = hw("test-print", "--terminal", "S01-T01", "--now")

    assert output.strip() == "S01-T01: test page printed on virtual://t1"
    assert PrintJob.objects.get().status == PrintStatus.PRINTED
    lines = [line.text.strip() for line in printed_lines(decode(virtual_printer("t1").jobs[0]))]
    assert "TEST PAGE" in lines and "Cyrillic: Привет" in " ".join(lines)


def test_test_print_without_a_running_worker_says_it_is_queued(store):
    make_terminal(store, "T01", printer_address="virtual://t1")

    with pytest.raises(CommandError, match="1 test page"):
        hw("test-print", "--wait", "0")

    assert PrintJob.objects.get().status == PrintStatus.QUEUED


def test_an_unknown_terminal_is_named(store):
    make_terminal(store, "T01")

    with pytest.raises(CommandError, match="no terminal S01-T09"):
        hw("status", "--terminal", "S01-T09")
