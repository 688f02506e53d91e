from datetime import UTC, datetime, timedelta

import pytest

from retail.api_errors import DomainError, NotFound
from store_node.devices.models import DrawerKick, DrawerStatus, PrintJob, PrintKind, PrintStatus
from store_node.devices.print_queue import (
    drawer_kick_claim,
    drawer_kick_release,
    print_job_attempt_failed,
    print_job_claim,
    print_job_printed,
    print_job_reprint,
    print_job_retry_now,
)
from store_node.devices.services import print_job_enqueue
from tests.factories import make_terminal

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


@pytest.fixture
def terminal(store):
    return make_terminal(store, "T01")


def queued(terminal, at=T0, payload=None, kind="receipt") -> PrintJob:
    job = print_job_enqueue(terminal=terminal, kind=kind, payload=payload or {"receipt_number": "R1"})
    PrintJob.objects.filter(pk=job.pk).update(next_attempt_at=at, created_at=at)
    job.refresh_from_db()
    return job


def test_claim_takes_the_oldest_due_job_with_a_lease(terminal, settings):
    settings.PRINT_LEASE_SECONDS = 30
    older, newer = queued(terminal, T0), queued(terminal, T0 + seconds(1))

    claimed = print_job_claim(terminal_id=terminal.id, now=T0 + seconds(2))

    assert claimed.pk == older.pk
    assert (claimed.status, claimed.attempts, claimed.next_attempt_at) == ("printing", 1, T0 + seconds(32))
    assert PrintJob.objects.get(pk=newer.pk).status == PrintStatus.QUEUED


def test_a_job_is_claimed_once(terminal):
    queued(terminal)

    first = print_job_claim(terminal_id=terminal.id, now=T0 + seconds(1))
    second = print_job_claim(terminal_id=terminal.id, now=T0 + seconds(1))

    assert first is not None and second is None


def test_a_newer_job_waits_while_an_older_one_backs_off(terminal):
    queued(terminal, T0 + seconds(10))  # the older job is in backoff until T0+10 s
    PrintJob.objects.update(created_at=T0 - seconds(5))
    queued(terminal, T0)

    assert print_job_claim(terminal_id=terminal.id, now=T0 + seconds(1)) is None


def test_backoff_doubles_then_the_job_fails_and_stays_visible(terminal, settings):
    settings.PRINT_BACKOFF_SECONDS = 2
    settings.PRINT_BACKOFF_MAX_SECONDS = 5
    settings.PRINT_MAX_ATTEMPTS = 4
    job = queued(terminal)
    delays = []
    now = T0
    for _ in range(4):
        now = PrintJob.objects.get(pk=job.pk).next_attempt_at
        print_job_claim(terminal_id=terminal.id, now=now)
        failed = print_job_attempt_failed(
            job_id=job.pk, code="paper_out", message="out of paper", retryable=True, now=now
        )
        delays.append((failed.status, (failed.next_attempt_at - now).total_seconds()))

    assert delays == [("queued", 2.0), ("queued", 4.0), ("queued", 5.0), ("failed", 0.0)]
    assert PrintJob.objects.get(pk=job.pk).last_error == "paper_out: out of paper"


def test_a_non_retryable_error_fails_the_job_at_once(terminal):
    job = queued(terminal)
    print_job_claim(terminal_id=terminal.id, now=T0)

    failed = print_job_attempt_failed(
        job_id=job.pk, code="printer_unsupported", message="needs pycups", retryable=False, now=T0
    )

    assert (failed.status, failed.attempts) == (PrintStatus.FAILED, 1)


def test_printed_only_marks_a_job_that_is_printing(terminal):
    job = queued(terminal)
    assert print_job_printed(job_id=job.pk, now=T0) is False

    print_job_claim(terminal_id=terminal.id, now=T0)

    assert print_job_printed(job_id=job.pk, now=T0 + seconds(1)) is True
    job.refresh_from_db()
    assert (job.status, job.printed_at) == (PrintStatus.PRINTED, T0 + seconds(1))


def test_retry_now_makes_backed_off_jobs_due(terminal):
    queued(terminal, T0 + seconds(60))

    assert print_job_retry_now(terminal_id=terminal.id, now=T0) == 1
    assert PrintJob.objects.get().next_attempt_at == T0


def test_reprint_of_a_printed_receipt_queues_a_copy(terminal):
    job = queued(terminal, payload={"receipt_number": "S01-T01-000007", "title": None})
    PrintJob.objects.filter(pk=job.pk).update(status=PrintStatus.PRINTED)

    copy = print_job_reprint(job_id=job.pk, now=T0 + seconds(5))

    assert copy.pk != job.pk
    assert (copy.kind, copy.status, copy.attempts) == (PrintKind.REPRINT, PrintStatus.QUEUED, 0)
    assert copy.payload == {"receipt_number": "S01-T01-000007", "title": "COPY"}
    assert copy.next_attempt_at == T0 + seconds(5)


def test_reprint_of_a_failed_job_queues_it_again(terminal):
    job = queued(terminal)
    PrintJob.objects.filter(pk=job.pk).update(status=PrintStatus.FAILED, attempts=10)

    again = print_job_reprint(job_id=job.pk, now=T0 + seconds(5))

    assert (again.pk, again.status, again.attempts) == (job.pk, PrintStatus.QUEUED, 0)
    assert PrintJob.objects.count() == 1


def test_reprint_refuses_a_job_still_waiting_and_an_unknown_one(terminal):
    job = queued(terminal)

    with pytest.raises(DomainError) as pending:
        print_job_reprint(job_id=job.pk)
    with pytest.raises(NotFound):
        print_job_reprint(job_id="01a205d3-2729-7732-bc26-892e8fd73e48")

    assert pending.value.code == "print_job_pending"


def test_drawer_claim_discards_stale_kicks_and_takes_fresh_ones_together(terminal, settings):
    settings.DRAWER_KICK_MAX_AGE_SECONDS = 5
    stale = DrawerKick.objects.create(terminal=terminal, reason="sale", requested_at=T0)
    fresh = [
        DrawerKick.objects.create(terminal=terminal, reason="sale", requested_at=T0 + seconds(n))
        for n in (8, 9)
    ]

    claimed = drawer_kick_claim(terminal_id=terminal.id, now=T0 + seconds(10))

    assert sorted(claimed) == sorted(k.pk for k in fresh)
    statuses = dict(DrawerKick.objects.values_list("pk", "status"))
    assert statuses == {stale.pk: "discarded", fresh[0].pk: "done", fresh[1].pk: "done"}
    assert drawer_kick_claim(terminal_id=terminal.id, now=T0 + seconds(10)) == []


def test_drawer_release_gives_back_only_the_kicks_it_names(terminal):
    done_before = DrawerKick.objects.create(
        terminal=terminal, reason="sale", requested_at=T0, status=DrawerStatus.DONE
    )
    failed = DrawerKick.objects.create(terminal=terminal, reason="sale", requested_at=T0 + seconds(1))
    drawer_kick_claim(terminal_id=terminal.id, now=T0 + seconds(2))

    assert drawer_kick_release(kick_ids=[failed.pk]) == 1
    assert dict(DrawerKick.objects.values_list("pk", "status")) == {
        done_before.pk: "done",
        failed.pk: "pending",
    }
