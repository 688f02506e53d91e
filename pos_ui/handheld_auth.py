"""Who is signed in on a handheld: a staff member, kept in the browser's Django session.

Every page under ``/h/`` needs someone signed in: ``HandheldLoginMiddleware`` applies that one rule
to every handheld view, including views added later, so a new handheld page cannot forget it. The
sign-in page is the exception (``handheld_public``). A view finds the staff member in
``request.handheld_staff`` and passes them to the service that records who did what.

A handheld is shared: its user is signed out after ``HANDHELD_IDLE_MINUTES`` (5) without a request,
and at the latest ``HANDHELD_SESSION_HOURS`` (12, as a till session) after signing in. Signing in
checks the PIN with the till's check and lockout (``store_node.checkout.services.handheld``).
"""

from __future__ import annotations

import functools
import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from pos_ui.selectors import this_store
from store_node.checkout.selectors import handheld_staff_get

SESSION_KEY = "handheld"  # {"staff": user id, "since": epoch seconds, "seen": epoch seconds}


def handheld_public(view):
    """Mark a handheld view that needs nobody signed in (the sign-in page itself)."""
    view.handheld_public = True
    return view


@functools.cache
def handheld_prefix() -> str:
    return reverse("pos_ui:handheld_lookup")


def idle_seconds() -> int:
    return int(float(getattr(settings, "HANDHELD_IDLE_MINUTES", 5)) * 60)


def _max_seconds() -> int:
    return int(float(getattr(settings, "HANDHELD_SESSION_HOURS", 12)) * 3600)


def handheld_sign_in(request, user) -> None:
    """Remember ``user`` as signed in on this handheld, under a new session key (no fixation)."""
    request.session.cycle_key()
    now = time.time()
    request.session[SESSION_KEY] = {"staff": str(user.pk), "since": now, "seen": now}


def handheld_sign_out(request) -> None:
    request.session.pop(SESSION_KEY, None)


def handheld_staff(request):
    """The staff member signed in on this handheld (their idle clock restarts), or ``None`` and why:
    ``""`` nobody signed in, ``"idle"``, ``"expired"``, ``"gone"`` (no longer active at this store).
    A session that ended is forgotten here."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or "staff" not in data:
        return None, ""
    now = time.time()
    why = ""
    if now - data.get("seen", 0) > idle_seconds():
        why = "idle"
    elif now - data.get("since", 0) > _max_seconds():
        why = "expired"
    else:
        store = this_store()
        staff = handheld_staff_get(staff_id=data["staff"], store_id=store.id if store else None)
        if staff is not None:
            request.session[SESSION_KEY] = {**data, "seen": now}
            return staff, ""
        why = "gone"
    handheld_sign_out(request)
    return None, why


def safe_next(request, url: str | None) -> str | None:
    """``url`` as a path on this node under ``/h/`` (not the sign-in page), or ``None``."""
    if not url or not url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if not parts.path.startswith(handheld_prefix()) or parts.path == reverse("pos_ui:handheld_login"):
        return None
    return path


def page_url(request) -> str:
    """The page to come back to: this one, or for a form's POST the page the form was on."""
    if request.method in ("GET", "HEAD"):
        return safe_next(request, request.get_full_path()) or handheld_prefix()
    for candidate in (request.headers.get("HX-Current-URL"), request.headers.get("Referer")):
        path = safe_next(request, candidate)
        if path:
            return path
    return handheld_prefix()


def login_url(request, *, why: str = "") -> str:
    query = {"next": page_url(request), **({"why": why} if why else {})}
    return reverse("pos_ui:handheld_login") + "?" + urlencode(query)


class HandheldLoginMiddleware:
    """Every view under ``/h/`` needs a staff member signed in; others go to the sign-in page with
    ``next`` (an htmx request is told to go there with ``HX-Redirect``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.path_info.startswith(handheld_prefix()) or getattr(
            view_func, "handheld_public", False
        ):
            return None
        staff, why = handheld_staff(request)
        if staff is not None:
            request.handheld_staff = staff
            return None
        url = login_url(request, why=why)
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
