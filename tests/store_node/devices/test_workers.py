import time
from datetime import timedelta

import pytest
from django.utils import timezone

from hardware.simulators import virtual_printer
from retail.sales.models import Sale
from store_node.devices.models import DrawerKick, DrawerStatus, PrintJob, PrintStatus
from store_node.devices.publish import PrinterBoard
from store_node.devices.workers import DrawerWorker, PrintWorker, StatusPoller
from tests.hardware.escpos_decoder import decode
from tests.store_node.devices.conftest import sell_milk

# The workers run on their own threads with their own database connections.
pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(predicate, timeout=30.0, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def statuses():
    return list(PrintJob.objects.order_by("created_at").values_list("status", flat=True))


def barcodes_printed(printer) -> list[str]:
    # The decoder gives "CODE128 {B<data>" (code set B) for each barcode command.
    return [
        str(op.arg).removeprefix("CODE128 {B") for op in decode(printer.job_bytes()) if op.name == "BARCODE"
    ]


def test_queue_holds_through_offline_and_paper_out_and_prints_each_receipt_once(
    lane, fast_queue, fake_printer
):
    # given lane T01 printing to a network printer that answers status, and a running print worker
    lane.terminal.printer_address = fake_printer.address
    lane.terminal.save()
    board = PrinterBoard(None)
    worker = PrintWorker(board=board)
    worker.start()
    try:
        first = sell_milk(lane)
        assert wait_for(lambda: statuses() == ["printed"])

        # when the printer goes offline, sales keep completing and their receipts wait
        fake_printer.go_offline()
        during_outage = [sell_milk(lane), sell_milk(lane)]
        assert wait_for(lambda: PrintJob.objects.filter(attempts__gte=3).count() >= 1)
        assert statuses()[0] == "printed" and set(statuses()[1:]) <= {"queued", "printing"}
        assert "printer_offline" in PrintJob.objects.order_by("created_at")[1].last_error
        assert board.get(lane.terminal.id).status == "offline"

        # when it comes back out of paper, the queue still holds and another sale completes
        fake_printer.come_back(paper_out=True)
        during_paper_out = sell_milk(lane)
        assert wait_for(lambda: "paper_out" in PrintJob.objects.order_by("created_at")[1].last_error)
        assert wait_for(lambda: board.get(lane.terminal.id).status == "paper_out")
        assert PrintJob.objects.filter(status=PrintStatus.PRINTED).count() == 1

        # when the paper is changed
        fake_printer.paper_out = False

        # then every receipt prints, exactly once, in the order of the sales
        assert wait_for(lambda: statuses() == ["printed"] * 4)
        sales = [first, *during_outage, during_paper_out]
        assert Sale.objects.filter(status="completed").count() == 4
        assert barcodes_printed(fake_printer) == [sale.receipt_number for sale in sales]
        assert board.get(lane.terminal.id).status == "ready"
    finally:
        worker.stop()


def test_a_job_stuck_printing_past_its_lease_is_printed_again(lane, fast_queue):
    # given a job a dead worker claimed (printing) and whose lease has run out
    sell_milk(lane)
    PrintJob.objects.update(status=PrintStatus.PRINTING, attempts=1, next_attempt_at=timezone.now())

    # when a worker drains the lane
    printed = PrintWorker().drain(terminal_id=lane.terminal.id)

    # then it prints it again (at least once in the crash window) and says so on the row
    job = PrintJob.objects.get()
    assert (printed, job.status, job.attempts) == (1, PrintStatus.PRINTED, 2)
    assert job.last_error.startswith("lease_expired")
    assert len(virtual_printer("lane1").jobs) == 1


def test_a_job_inside_its_lease_is_left_alone(lane, fast_queue):
    sell_milk(lane)
    PrintJob.objects.update(
        status=PrintStatus.PRINTING, next_attempt_at=timezone.now() + timedelta(seconds=30)
    )

    assert PrintWorker().drain(terminal_id=lane.terminal.id) == 0
    assert virtual_printer("lane1").jobs == []


def test_an_unprintable_payload_fails_at_once_and_later_jobs_still_print(lane, fast_queue):
    # given a broken job queued before a good one
    from store_node.devices.services import print_job_enqueue

    print_job_enqueue(terminal=lane.terminal, kind="receipt", payload={"receipt_number": 7})
    sell_milk(lane)

    # when the lane is drained
    printed = PrintWorker().drain(terminal_id=lane.terminal.id)

    # then the broken one is failed with its reason and the sale's receipt printed
    assert printed == 1
    broken, good = PrintJob.objects.order_by("created_at")
    assert (broken.status, broken.attempts) == (PrintStatus.FAILED, 1)
    assert broken.last_error.startswith("bad_payload: ")
    assert good.status == PrintStatus.PRINTED


def test_a_job_fails_after_the_last_attempt_and_stays_visible(lane, fast_queue):
    fast_queue.PRINT_MAX_ATTEMPTS = 3
    fast_queue.PRINT_BACKOFF_SECONDS = 0.001
    virtual_printer("lane1").go_offline()
    sell_milk(lane)
    worker = PrintWorker()

    for _ in range(3):
        time.sleep(0.01)
        worker.drain(terminal_id=lane.terminal.id)

    job = PrintJob.objects.get()
    assert (job.status, job.attempts) == (PrintStatus.FAILED, 3)
    assert job.last_error.startswith("printer_offline: ")


def test_cash_sale_opens_the_drawer_through_the_printer(lane, fast_queue):
    # given a drawer worker and a publisher that records what it sends
    sent = []

    class Recorder:
        def send(self, terminal_id, message):
            sent.append((terminal_id, message))

    worker = DrawerWorker(publisher=Recorder())
    worker.start()
    try:
        # when a cash sale completes
        sell_milk(lane)

        # then the drawer opens once (pin 2) and the terminal hears of it
        drawer = virtual_printer("lane1").drawer
        assert wait_for(lambda: len(drawer.kicks) == 1)
        assert drawer.kicks[0].pin == 2
        assert wait_for(lambda: sent == [(lane.terminal.id, {"type": "terminal.drawer", "event": "opened"})])
        assert list(DrawerKick.objects.values_list("status", flat=True)) == [DrawerStatus.DONE]
    finally:
        worker.stop()


def test_a_stale_kick_request_is_discarded_not_kicked(lane, fast_queue):
    fast_queue.DRAWER_KICK_MAX_AGE_SECONDS = 3
    DrawerKick.objects.create(
        terminal=lane.terminal, reason="sale", requested_at=timezone.now() - timedelta(seconds=4)
    )

    assert DrawerWorker().kick(terminal_id=lane.terminal.id) is False

    assert virtual_printer("lane1").drawer.kicks == []
    assert list(DrawerKick.objects.values_list("status", flat=True)) == [DrawerStatus.DISCARDED]


def test_a_kick_that_fails_is_retried_while_fresh(lane, fast_queue):
    printer = virtual_printer("lane1")
    printer.go_offline()
    DrawerKick.objects.create(terminal=lane.terminal, reason="no_sale", requested_at=timezone.now())
    worker = DrawerWorker()

    assert worker.kick(terminal_id=lane.terminal.id) is False
    assert DrawerKick.objects.get().status == DrawerStatus.PENDING

    printer.come_back()
    assert worker.kick(terminal_id=lane.terminal.id) is True
    assert DrawerKick.objects.get().status == DrawerStatus.DONE
    assert len(printer.drawer.kicks) == 1


def test_status_poller_reports_changes_and_releases_the_queue_when_the_printer_is_back(
    lane, fast_queue, fake_printer
):
    # given a printer out of paper with a receipt waiting out a long backoff
    lane.terminal.printer_address = fake_printer.address
    lane.terminal.save()
    fake_printer.paper_out = True
    sent = []

    class Recorder:
        def send(self, terminal_id, message):
            sent.append(message)

    board = PrinterBoard(Recorder())
    poller = StatusPoller(board=board, store_code=lane.store.code)
    devices = poller_devices(lane)
    assert poller.poll(devices) == ("paper_out", "Printer out of paper")
    sell_milk(lane)
    PrintJob.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    # when the paper is changed and the poller asks again (twice: no news the second time)
    fake_printer.paper_out = False
    poller.poll(devices)
    poller.poll(devices)

    # then the terminal heard both states once, and the job is due now
    assert sent == [
        {"type": "terminal.printer", "status": "paper_out", "detail": "Printer out of paper"},
        {"type": "terminal.printer", "status": "ready", "detail": "Printer ready"},
    ]
    assert PrintJob.objects.get().next_attempt_at <= timezone.now()


def test_status_poller_reports_an_unreachable_printer_as_offline(lane, fast_queue, fake_printer):
    lane.terminal.printer_address = fake_printer.address
    lane.terminal.save()
    fake_printer.go_offline()
    board = PrinterBoard(None)

    state = StatusPoller(board=board).poll(poller_devices(lane))

    assert state == ("offline", "Printer offline")


def poller_devices(lane):
    from store_node.devices.selectors import terminal_devices

    lane.terminal.refresh_from_db()
    return terminal_devices(terminal=lane.terminal)


def test_a_printed_job_does_not_hide_a_known_low_paper_warning(lane, fast_queue, fake_printer):
    # given the poller has seen the paper running low
    lane.terminal.printer_address = fake_printer.address
    lane.terminal.save()
    fake_printer.paper_low = True
    sent = []

    class Recorder:
        def send(self, terminal_id, message):
            sent.append(message["status"])

    board = PrinterBoard(Recorder())
    StatusPoller(board=board).poll(poller_devices(lane))

    # when a receipt prints (its pre-check does not read the paper sensor)
    sell_milk(lane)
    PrintWorker(board=board).drain(terminal_id=lane.terminal.id)

    # then the till still shows "paper low", told once
    assert PrintJob.objects.get().status == PrintStatus.PRINTED
    assert sent == ["paper_low"]
