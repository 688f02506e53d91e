"""API behaviour that services tests do not show: authentication, error shapes, rendering."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store_node.checkout.api.serializers import SaleOutput, sale_json
from store_node.checkout.selectors import sale_detail
from tests.store_node.checkout.helpers import MILK

pytestmark = pytest.mark.django_db


def test_no_or_bad_token_is_a_401_with_the_error_shape(client, till):
    missing = client.post("/api/checkout/sales", {}, content_type="application/json")
    bad = client.post(
        "/api/checkout/sales", {}, content_type="application/json", HTTP_AUTHORIZATION="Terminal nope"
    )
    assert missing.status_code == 401 and missing.json()["code"] == "not_authenticated"
    assert bad.status_code == 401 and bad.json() == {
        "detail": "The terminal session ended or expired: log in again with your PIN",
        "code": "authentication_failed",
    }


def test_login_with_a_wrong_pin_says_how_many_tries_are_left(client, till):
    response = client.post(
        "/api/checkout/terminal/login",
        {"terminal": "T02", "username": "c101", "pin": "0"},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Wrong PIN for c101: 4 attempts left", "code": "pin_invalid"}


def test_invalid_input_is_a_400_that_names_the_field(api, goods):
    sale = api.post("sales").json()
    response = api.post(f"sales/{sale['id']}/lines", {"scan": MILK, "quantity": "lots"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "quantity" in response.json()["detail"]


def test_hand_rendered_sale_equals_the_documented_serializer(api, goods, member):
    sale = api.post("sales").json()
    api.post(f"sales/{sale['id']}/lines", {"scan": MILK, "quantity": 2})
    api.post(f"sales/{sale['id']}/lines", {"scan": "2101234012505"})
    api.post(f"sales/{sale['id']}/member", {"query": "MBR100001"})
    api.post(f"sales/{sale['id']}/discount", {"kind": "percent", "value": "5"})
    api.post(f"sales/{sale['id']}/tenders", {"kind": "cash", "tendered": "50.00"})

    row, lines, tenders = sale_detail(sale_id=sale["id"])
    fields = {
        name: getattr(row, name) for name in SaleOutput().fields if name not in ("lines", "tenders", "change")
    }
    documented = SaleOutput(
        {**fields, "lines": lines, "tenders": tenders, "change": sum(t.change for t in tenders)}
    )
    assert sale_json(row, lines, tenders) == documented.data
    assert api.get(f"sales/{sale['id']}").json() == sale_json(row, lines, tenders)


def test_an_opened_sale_is_answered_as_it_reads_back(api, goods, django_assert_num_queries):
    # given an open shift; when a sale is opened: session, shift, the open-sale check and the insert
    # (with the transaction's BEGIN and COMMIT, savepoints under the test's transaction), no read back
    with django_assert_num_queries(6):
        opened = api.post("sales")
    # then the answer is the sale as any later read shows it
    assert opened.status_code == 201
    assert opened.json() == api.get(f"sales/{opened.json()['id']}").json()
    assert (opened.json()["lines"], opened.json()["total"], opened.json()["member"]) == ([], "0.00", None)


def test_whole_flow_over_the_api_suspend_resume_return_close(api, goods):
    sale = api.post("sales").json()
    api.post(f"sales/{sale['id']}/lines", {"scan": MILK})
    assert api.post(f"sales/{sale['id']}/suspend").json()["status"] == "suspended"
    assert [s["id"] for s in api.get("sales/suspended").json()] == [sale["id"]]
    assert api.post(f"sales/{sale['id']}/resume").json()["status"] == "open"
    done = api.post(f"sales/{sale['id']}/complete", {"tenders": [{"kind": "cash", "tendered": "5"}]}).json()
    lookup = api.get(f"receipts/{done['receipt_number']}").json()
    ret = api.post(
        "returns",
        {
            "receipt": done["receipt_number"],
            "lines": [{"line_id": lookup["lines"][0]["id"], "quantity": "1"}],
        },
    )
    x = api.post("shifts/current/x-report", {"print": True})
    close = api.post("shifts/current/close", {"denominations": {"100.00": 1}})

    assert lookup["lines"][0]["left"] == "1.000"
    assert ret.status_code == 201 and ret.json()["total"] == "-1.99"
    assert x.status_code == 200 and x.json()["net_sales"] == "0.00"
    assert close.status_code == 200 and close.json()["over_short"] == "0.00"
    assert api.post("sales").json()["code"] == "no_open_shift"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "scan",
                "sku",
                "product_id",
                "quantity",
                "weight",
                "kind",
                "value",
                "tendered",
                "amount",
                "points",
                "reference",
                "approved",
                "query",
                "tenders",
            ]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(-(10**6), 10**6),
            st.text(max_size=30),
            st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
            st.lists(
                st.dictionaries(st.sampled_from(["kind", "tendered", "amount"]), st.text(max_size=8)),
                max_size=2,
            ),
        ),
        max_size=5,
    ),
    path=st.sampled_from(["lines", "discount", "tenders", "member", "complete", "cancel", "suspend"]),
)
def test_no_input_ever_gets_a_500(api, goods, body, path):
    from retail.sales.models import Sale

    Sale.objects.filter(status__in=["open", "suspended"]).update(status="cancelled")
    sale = api.post("sales").json()
    api.post(f"sales/{sale['id']}/lines", {"scan": MILK})
    response = api.post(f"sales/{sale['id']}/{path}", body)
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert set(response.json()) >= {"detail", "code"}
