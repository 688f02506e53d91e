"""Clock skew with real processes: S01's clock a day fast, S02's an hour slow (libfaketime).

The merge rules decide member fields by ``(hlc, origin)`` (docs/sync-protocol.md §7): a write
stamped more than 10 minutes ahead of the cloud is quarantined (``clock_skew``), a slow clock's
write loses to later writes it had not seen, and once a slow store has pulled, its hybrid logical
clock is past what it saw, so its next write wins. Sales are facts and land whatever the clock.
Each store's staff see how far its clock is off.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.processes

LIBFAKETIME = next(
    (p for p in Path("/usr/lib").glob("*-linux-gnu/faketime/libfaketime.so.1")),
    Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
)


def _skewed(offset: str) -> dict:
    assert LIBFAKETIME.exists(), "libfaketime is missing: bin/setup installs the Debian package faketime"
    # Only the wall clock moves; monotonic time (timeouts) stays true.
    return {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME": offset, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def test_a_day_fast_store_is_quarantined_and_an_hour_slow_one_loses_until_it_has_synced(chain):
    cloud, stores = chain
    head_office = cloud.agent()
    fast = stores["S01"].agent(env=_skewed("+1d"))
    slow = stores["S02"].agent(env=_skewed("-1h"))
    for store in (fast, slow):
        assert store("sync")["up_to_date"]  # the snapshot
        store("store_setup")
    member = cloud.value("select id from members_member order by number limit 1")
    member = f"{member[:8]}-{member[8:12]}-{member[12:16]}-{member[16:20]}-{member[20:]}"
    before = head_office("member", member_id=member)
    product = cloud.value("select id from catalog_product where unit = 'each' order by sku limit 1")

    # given head office renames the member; the slow store, not having seen that, renames her too
    head_office("member_edit", member_id=member, field="first_name", value="Hq")
    slow("member_edit", member_id=member, field="first_name", value="Slow")
    # and the fast store changes her last name and sells
    fast("member_edit", member_id=member, field="last_name", value="Fast")
    sale = fast("sale", lines=[[product, 1]])

    # when everyone syncs
    for store in (fast, slow, fast, slow):
        store("sync")

    # then the fast store's member write is quarantined as clock skew, and nothing else is
    held = cloud.query("select origin, type, reason from cloud_sync_quarantinedevent")
    assert held == [("S01", "member.updated", "clock_skew")]
    # and the slow store's earlier-stamped write lost to head office's, at the cloud and at S02
    for node in (head_office, slow):
        assert (
            node("member", member_id=member)["first_name"],
            node("member", member_id=member)["last_name"],
        ) == (
            "Hq",
            before["last_name"],
        )
    # and the fast store's sale is at the cloud once
    assert cloud.value("select count(*) from sales_sale where id = ?", sale["id"].replace("-", "")) == 1

    # when the slow store, having pulled head office's write, renames her again
    slow("member_edit", member_id=member, field="first_name", value="SlowAfterSync")
    slow("sync")

    # then that write wins: its clock moved past what it saw, an hour-slow wall clock or not
    assert head_office("member", member_id=member)["first_name"] == "SlowAfterSync"
    assert cloud.value("select count(*) from cloud_sync_quarantinedevent") == 1

    # and each store's staff are told how far off its clock is
    assert fast("sync_status")["clock_warning"] == "Clock 1 day ahead of head office: set the time"
    assert slow("sync_status")["clock_warning"] == "Clock 1 h behind head office: set the time"
