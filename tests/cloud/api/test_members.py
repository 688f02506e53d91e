import pytest

from retail.members.models import Member, PointsEntry
from retail.members.services import points_post
from retail.outbox.models import Event
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def test_a_member_registers_online_and_is_found_by_email_phone_and_number(api):
    # when the shop registers a member
    response = api.post(
        "/api/v1/members",
        {"email": "Ada@Example.com", "phone": "+49 30 1234", "first_name": "Ada", "consent_email": True},
        format="json",
    )

    # then they exist once, with a member.created event, and every lookup finds them
    assert response.status_code == 201
    body = response.json()
    assert body["number"].startswith("W") and len(body["number"]) == 10
    assert (body["email"], body["points_balance"], body["consent_email"]) == ("ada@example.com", 0, True)
    assert Event.objects.filter(type="member.created").count() == 1
    for query in ("email=ada@example.com", "phone=%2B49 30 1234", f"number={body['number']}"):
        assert api.get(f"/api/v1/members/lookup?{query}").json()["number"] == body["number"]


def test_registering_an_existing_email_is_a_409(api):
    make_member(email="ada@example.com")
    response = api.post("/api/v1/members", {"email": "ADA@example.com"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "member_exists"
    assert Member.objects.count() == 1


@pytest.mark.parametrize("query", ["", "email=a@b.c&phone=1", "email=%20"])
def test_lookup_needs_exactly_one_field(api, query):
    response = api.get(f"/api/v1/members/lookup?{query}")
    assert response.status_code == 400 and response.json()["code"] == "lookup_one_field"


def test_a_merged_member_is_looked_up_as_the_survivor(api):
    survivor = make_member(number="M1", email="ada@example.com")
    make_member(number="M2", phone="555", merged_into=survivor)
    assert api.get("/api/v1/members/lookup?phone=555").json()["number"] == "M1"
    assert api.get("/api/v1/members/M2").json()["number"] == "M1"


def test_points_earned_in_store_and_online_make_one_balance_and_one_ledger(api):
    # given a member who earned 100 points in a store
    member = make_member(number="M100")
    points_post(member_id=member.id, kind="earn", points=100, reason="store sale")

    # when the shop posts an online earn and a redemption
    earn = api.post("/api/v1/members/M100/points/earn", {"points": 30, "reference": "order-1"}, format="json")
    redeem = api.post(
        "/api/v1/members/M100/points/redeem", {"points": 50, "reference": "order-2"}, format="json"
    )

    # then the balance is one number and the ledger shows every entry, newest first
    assert (earn.status_code, earn.json()["balance"]) == (201, 130)
    assert (redeem.status_code, redeem.json()["balance"]) == (201, 80)
    assert redeem.json()["entry"]["points"] == -50
    assert api.get("/api/v1/members/M100").json()["points_balance"] == 80
    ledger = api.get("/api/v1/members/M100/ledger").json()
    assert ledger["count"] == 3
    assert sorted(e["points"] for e in ledger["results"]) == [-50, 30, 100]
    assert Event.objects.filter(type="points.posted").count() == 3


def test_the_same_reference_posted_twice_counts_once(api):
    make_member(number="M200")
    first = api.post("/api/v1/members/M200/points/earn", {"points": 10, "reference": "o-9"}, format="json")
    again = api.post("/api/v1/members/M200/points/earn", {"points": 10, "reference": "o-9"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["entry"]["id"] == again.json()["entry"]["id"]
    assert again.json()["balance"] == 10
    assert PointsEntry.objects.count() == 1


def test_a_redemption_beyond_the_balance_is_refused_and_changes_nothing(api):
    member = make_member(number="M300")
    points_post(member_id=member.id, kind="earn", points=20)
    response = api.post(
        "/api/v1/members/M300/points/redeem", {"points": 21, "reference": "o-1"}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "the member has 20 points, 21 asked",
        "code": "points_insufficient",
        "balance": 20,
    }
    member.refresh_from_db()
    assert member.points_balance == 20 and PointsEntry.objects.count() == 1


@pytest.mark.parametrize(
    "body", [{"points": 0, "reference": "a"}, {"points": 5, "reference": ""}, {"points": "x"}, {}]
)
def test_bad_points_input_is_a_400(api, body):
    make_member(number="M400")
    response = api.post("/api/v1/members/M400/points/earn", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_unknown_member_is_a_404(api):
    response = api.post("/api/v1/members/nobody/points/earn", {"points": 5, "reference": "a"}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "member_not_found"
