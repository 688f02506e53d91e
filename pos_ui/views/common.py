from django.conf import settings
from django.shortcuts import render

from pos_ui.handheld_auth import idle_seconds, login_url
from pos_ui.selectors import node_status, this_store


def screen_context(request, *, status: bool = True, **extra) -> dict:
    """What every page's status bar needs (fragments such as the sale panel have no status bar),
    and on a handheld who is signed in and when the page gives up on them."""
    staff = getattr(request, "handheld_staff", None)
    handheld = {}
    if staff is not None:
        handheld = {"staff": staff, "idle_seconds": idle_seconds(), "idle_url": login_url(request)}
    return {
        "store": this_store() if status else None,
        "store_code": settings.STORE_CODE,
        "status": node_status(terminal=extra.get("terminal")) if status else None,
        **handheld,
        **extra,
    }


def home(request):
    ctx = screen_context(request)
    store = ctx["store"]
    ctx["terminals"] = list(store.terminals.filter(active=True)) if store else []
    return render(request, "pos_ui/home.html", ctx)
