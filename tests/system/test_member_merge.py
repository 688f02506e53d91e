"""A member merge at head office converges at every node, with a store that was offline meanwhile.

A cloud and two store nodes as processes on loopback: Anna signs up at S01 and again at S02, head
office merges the two, and S02, not yet synced, keeps using the duplicate's card (points, an edit).
"""

import pytest

pytestmark = pytest.mark.processes


def _sync(store):
    result = store.manage("sync", "--once", "--quiet", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _members(node):
    return dict(
        (number, rest)
        for number, *rest in node.query(
            "select m.number, s.number, m.points_balance, m.last_name from members_member m "
            "left join members_member s on s.id = m.merged_into_id where m.number in ('S01-ANNA', 'S02-ANNA')"
        )
    )


def test_a_merge_and_an_offline_stores_later_use_of_the_duplicate_converge_everywhere(chain):
    cloud, stores = chain
    s01, s02 = stores["S01"], stores["S02"]
    _sync(s01)
    _sync(s02)
    # given Anna signed up at both stores, with points at each, and both synced
    for store, points in ((s01, 100), (s02, 40)):
        store.shell(
            "from retail.members.services import member_create, points_post\n"
            f"m = member_create(number='{store.code}-ANNA', first_name='Anna', phone='+4930777', card_barcode='CARD-{store.code}')\n"
            f"points_post(member_id=m.id, kind='earn', points={points})\n"
        )
        _sync(store)
    # when head office merges the proposal, keeping S01's
    cloud.shell(
        "from cloud.sync.models import MemberMergeProposal as P; from cloud.sync.services import member_merge_proposal_accept as a\n"
        "from retail.members.models import Member\n"
        "a(proposal=P.objects.get(), survivor_id=Member.objects.get(number='S01-ANNA').id, by=None)\n"
    )
    # and S02, before it syncs, gives points on the duplicate's card and edits its profile
    s02.shell(
        "from retail.members.models import Member; from retail.members.services import member_update, points_post\n"
        "m = Member.objects.get(number='S02-ANNA')\n"
        "points_post(member_id=m.id, kind='earn', points=7)\n"
        "member_update(member=m, last_name='Later')\n"
    )
    # and everyone syncs (S01 again to learn what S02 pushed)
    _sync(s01)
    _sync(s02)
    _sync(s01)

    # then every node holds one identity: the duplicate points at the survivor, which holds every
    # point and the later edit
    expected = {"S01-ANNA": [None, 147, "Later"], "S02-ANNA": ["S01-ANNA", 0, "Later"]}
    for node in (cloud, s01, s02):
        assert _members(node) == expected, node.code
    # and head office's ledger kept all three entries, each on the card it was posted to
    ledger = (
        "select m.number, e.points, e.origin from members_pointsentry e join members_member m "
        "on m.id = e.member_id where m.number like '%-ANNA'"
    )
    assert sorted(cloud.query(ledger)) == [
        ("S01-ANNA", 100, "S01"),
        ("S02-ANNA", 7, "S02"),
        ("S02-ANNA", 40, "S02"),
    ]
    # and each store its own, on the card it was posted to, the other store's reaching it as head
    # office's published balance (adjust entries of origin cloud), the ledger summing to the balance
    own = {"S01": [("S01-ANNA", 100)], "S02": [("S02-ANNA", 7), ("S02-ANNA", 40)]}
    for store in (s01, s02):
        rows = store.query(ledger)
        assert sorted((n, p) for n, p, origin in rows if origin == store.code) == own[store.code], store.code
        assert {origin for _n, _p, origin in rows} == {store.code, "cloud"}, store.code
        assert sum(p for _n, p, _origin in rows) == 147, store.code
    # and the duplicate's card finds the survivor at the till of either store
    for store in (s01, s02):
        found = store.shell(
            "from store_node.checkout.services.members import member_lookup\nprint(member_lookup(query='CARD-S02').number)"
        )
        assert found == "S01-ANNA", store.code
