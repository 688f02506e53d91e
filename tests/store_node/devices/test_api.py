import pytest

from store_node.devices import publish
from store_node.devices.models import PrintJob, PrintStatus
from store_node.devices.publish import PrinterBoard
from store_node.devices.services import print_job_enqueue
from tests.factories import make_terminal

pytestmark = pytest.mark.django_db


@pytest.fixture
def till(lane, client):
    response = client.post(
        "/api/checkout/terminal/login",
        {"terminal": "T01", "username": "c101", "pin": "1111"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    auth = {"HTTP_AUTHORIZATION": f"Terminal {response.json()['token']}"}

    class Till:
        def get(self, path):
            return client.get(f"/api/devices/{path}", **auth)

        def post(self, path):
            return client.post(f"/api/devices/{path}", content_type="application/json", **auth)

    return Till()


def printed_receipt(terminal, number="S01-T01-000001"):
    job = print_job_enqueue(
        terminal=terminal, kind="receipt", payload={"receipt_number": number, "title": None}
    )
    PrintJob.objects.filter(pk=job.pk).update(status=PrintStatus.PRINTED)
    return job


def test_the_till_lists_its_own_recent_jobs_newest_first_in_one_query(till, lane, django_assert_num_queries):
    older = printed_receipt(lane.terminal, "S01-T01-000001")
    newer = printed_receipt(lane.terminal, "S01-T01-000002")
    printed_receipt(make_terminal(lane.store, "T02"), "S01-T02-000001")

    with django_assert_num_queries(2):  # the session, the jobs
        response = till.get("print-jobs")

    assert response.status_code == 200
    assert [job["id"] for job in response.json()] == [str(newer.pk), str(older.pk)]
    assert response.json()[0]["status"] == "printed"


def test_the_till_reprints_a_receipt_as_a_copy(till, lane):
    job = printed_receipt(lane.terminal)

    response = till.post(f"print-jobs/{job.pk}/reprint")

    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["status"]) == ("reprint", "queued")
    assert PrintJob.objects.get(pk=response.json()["id"]).payload["title"] == "COPY"


def test_the_till_cannot_reprint_another_lanes_job(till, lane):
    job = printed_receipt(make_terminal(lane.store, "T02"))

    response = till.post(f"print-jobs/{job.pk}/reprint")

    assert response.status_code == 404
    assert response.json()["code"] == "print_job_not_found"


def test_reprinting_a_job_still_queued_is_a_conflict(till, lane):
    job = print_job_enqueue(terminal=lane.terminal, kind="receipt", payload={})

    response = till.post(f"print-jobs/{job.pk}/reprint")

    assert (response.status_code, response.json()["code"]) == (409, "print_job_pending")


def test_printer_state_is_what_the_running_node_last_heard(till, lane, monkeypatch):
    assert till.get("printer").json() == {"status": "unknown", "detail": ""}
    board = PrinterBoard(None)
    board.report(lane.terminal.id, "paper_out", "Printer out of paper")
    monkeypatch.setattr(publish, "current_board", board)

    assert till.get("printer").json() == {"status": "paper_out", "detail": "Printer out of paper"}
