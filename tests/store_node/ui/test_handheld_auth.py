"""Signing in on the handheld (pos_ui/handheld_auth.py and the sign-in view) with Django's test client."""

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import URLResolver

from pos_ui import urls
from retail.api_errors import PermissionRefused
from retail.outbox.models import Event
from retail.staff.models import Role
from store_node.checkout.services.terminal_login import terminal_login
from tests.factories import make_product, make_terminal, make_user
from tests.store_node.ui.conftest import handheld_sign_in

pytestmark = pytest.mark.django_db


_CONVERTED = re.compile(r"<(?:(\w+):)?\w+>")
_SAMPLE = {"uuid": str(uuid.UUID(int=1)), "int": "1", "slug": "x", "str": "x", "path": "x", None: "x"}


def _routes(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        else:
            yield route, pattern.name


def _handheld_pages() -> list[str]:
    """Every URL under h/ but the sign-in page, with sample ids: pages added later are in too."""
    return [
        "/" + _CONVERTED.sub(lambda m: _SAMPLE.get(m.group(1), "x"), route)
        for route, name in _routes(urls.urlpatterns)
        if route.startswith("h/") and name != "handheld_login"
    ]


def test_the_list_of_handheld_pages_is_complete():
    # the parametrized test below covers these (and whatever is added under h/ later)
    assert {"/h/", "/h/count/", "/h/count/post", "/h/orders/", "/h/logout"} <= set(_handheld_pages())
    assert all("<" not in page for page in _handheld_pages())


@pytest.mark.parametrize("page", _handheld_pages())
@pytest.mark.parametrize("method", ["get", "post"])
def test_every_handheld_page_sends_someone_not_signed_in_to_the_sign_in(client, store, page, method):
    response = getattr(client, method)(page)

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/h/login"
    assert parse_qs(location.query)["next"] == ([page] if method == "get" else ["/h/"])
    assert not Event.objects.exists()


def test_a_form_posted_without_a_sign_in_comes_back_to_its_page(client, store):
    response = client.post(
        "/h/count/add", {"code": "x", "counted": "1"}, HTTP_REFERER="http://testserver/h/count/"
    )

    assert response["Location"] == "/h/login?next=%2Fh%2Fcount%2F"


def test_an_htmx_request_is_told_to_go_to_the_sign_in(client, store):
    response = client.get("/h/", {"q": "4000000000013"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 204
    assert response["HX-Redirect"] == "/h/login?next=%2Fh%2F%3Fq%3D4000000000013"


def test_signing_in_goes_on_to_the_page_asked_for_and_shows_who_is_signed_in(client, floor_staff):
    # when the cashier signs in, coming from the pick list
    page = client.get("/h/login", {"next": "/h/orders/"})
    response = client.post("/h/login", {"username": "c101", "pin": "1111", "next": "/h/orders/"})

    # then the sign-in page had a PIN pad, and they are on the pick list, signed in by name
    assert page.status_code == 200
    assert 'data-pinpad="#pin"' in page.content.decode()
    assert 'name="next" value="/h/orders/"' in page.content.decode()
    assert (response.status_code, response["Location"]) == (302, "/h/orders/")
    html = client.get("/h/orders/").content.decode()
    assert 'data-testid="handheld-staff">Cara Berg (c101)<' in html
    assert 'data-testid="sign-out"' in html
    assert 'data-idle-seconds="300"' in html


@pytest.mark.parametrize("next_url", ["https://evil.example/h/", "//evil.example/h/", "/t/x/", "/h/login"])
def test_a_next_elsewhere_is_ignored(client, floor_staff, next_url):
    response = handheld_sign_in(client, "c101", "1111", next=next_url)

    assert response["Location"] == "/h/"


@pytest.mark.parametrize(
    ("username", "pin", "message"),
    [
        ("c101", "9999", "Wrong PIN for c101: 4 attempts left"),
        ("9999", "1111", "No staff member with username &#x27;9999&#x27;"),
        ("", "", "Enter your staff number and your PIN."),
    ],
)
def test_a_refused_sign_in_says_why_on_the_same_page(client, floor_staff, settings, username, pin, message):
    settings.DEBUG = False
    response = client.post("/h/login", {"username": username, "pin": pin, "next": "/h/count/"})

    html = response.content.decode()
    assert response.status_code == 200  # the sign-in page again, as at the till
    assert f'data-testid="login-message">{message}<' in html
    assert 'name="next" value="/h/count/"' in html
    assert "Traceback" not in html
    assert client.get("/h/").status_code == 302  # still nobody signed in


def test_a_locked_account_is_told_so_even_with_the_right_pin(client, floor_staff):
    for _ in range(4):
        client.post("/h/login", {"username": "c101", "pin": "0000"})
    fifth = client.post("/h/login", {"username": "c101", "pin": "0000"})

    right = client.post("/h/login", {"username": "c101", "pin": "1111"})

    assert "Wrong PIN: c101 is now locked for 15 minutes" in fifth.content.decode()
    assert "c101 is locked after 5 wrong PINs until" in right.content.decode()
    assert "ask a manager to unlock" in right.content.decode()


def test_the_handheld_lockout_is_the_tills(client, store, floor_staff):
    terminal = make_terminal(store, "T02")
    for _ in range(5):
        client.post("/h/login", {"username": "c101", "pin": "0000"})

    with pytest.raises(PermissionRefused) as at_the_till:
        terminal_login(terminal=terminal, username="c101", pin="1111")

    assert at_the_till.value.code == "pin_locked"


def test_an_analyst_may_not_use_the_handheld(client, store):
    make_user(Role.ANALYST, store, pin="4444", username="a101")

    response = client.post("/h/login", {"username": "a101", "pin": "4444"})

    assert "a101 may not use the handheld: it is for cashiers and above" in response.content.decode()


def test_signing_out_ends_the_session_and_drops_the_count_sheet(handheld, store):
    make_product(name="Apples", barcode="4000000000037")
    handheld.post("/h/count/add", {"code": "4000000000037", "counted": "7"})

    response = handheld.post("/h/logout")

    assert response["Location"] == "/h/login?why=signed_out"
    assert 'data-testid="login-message">Signed out.<' in handheld.get(response["Location"]).content.decode()
    assert handheld.get("/h/count/").status_code == 302
    handheld_sign_in(handheld, "c101", "1111")
    assert "Nothing counted yet." in handheld.get("/h/count/").content.decode()


def test_after_the_idle_time_the_next_page_asks_for_the_pin_again(handheld, settings):
    settings.HANDHELD_IDLE_MINUTES = 0  # any pause is too long

    response = handheld.get("/h/orders/")

    assert response["Location"] == "/h/login?next=%2Fh%2Forders%2F&why=idle"
    html = handheld.get(response["Location"]).content.decode()
    assert "Signed out after 0 seconds without use. Sign in again." in html
    settings.HANDHELD_IDLE_MINUTES = 5
    assert handheld.get("/h/orders/").status_code == 302  # the session was ended, not only refused


def test_a_session_ends_after_its_hours_however_busy(handheld, settings):
    settings.HANDHELD_SESSION_HOURS = 0

    response = handheld.get("/h/")

    assert response["Location"] == "/h/login?next=%2Fh%2F&why=expired"


def test_a_deactivated_account_is_signed_out_at_its_next_page(handheld, floor_staff):
    floor_staff["cashier"].is_active = False
    floor_staff["cashier"].save()

    response = handheld.get("/h/")

    assert response["Location"] == "/h/login?next=%2Fh%2F&why=gone"


def test_a_count_sheet_is_kept_for_its_counter_alone(handheld, store, settings):
    # given the cashier's half-done count, and the handheld left idle
    make_product(name="Apples", barcode="4000000000037")
    handheld.post("/h/count/add", {"code": "4000000000037", "counted": "7"})
    settings.HANDHELD_IDLE_MINUTES = 0
    handheld.get("/h/count/")
    settings.HANDHELD_IDLE_MINUTES = 5

    # when the same cashier signs in again, then the sheet is there
    handheld_sign_in(handheld, "c101", "1111")
    assert "Apples" in handheld.get("/h/count/").content.decode()

    # and when someone else signs in on the device, it is not theirs to see
    handheld_sign_in(handheld, "s101", "2222")
    assert "Nothing counted yet." in handheld.get("/h/count/").content.decode()


def test_the_handheld_and_a_till_keep_their_own_sign_ins(handheld, store):
    terminal = make_terminal(store, "T02")
    assert handheld.post(f"/t/{terminal.id}/login", {"username": "s101", "pin": "2222"}).status_code == 302

    handheld.post("/h/logout")

    assert handheld.get(f"/t/{terminal.id}/shift/open").status_code == 200  # the till is still signed in
