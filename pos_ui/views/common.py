from django.conf import settings
from django.shortcuts import render

from pos_ui.selectors import node_status, this_store


def screen_context(request, *, status: bool = True, **extra) -> dict:
    """What every page's status bar needs (fragments such as the sale panel have no status bar)."""
    return {
        "store": this_store() if status else None,
        "store_code": settings.STORE_CODE,
        "status": node_status(terminal=extra.get("terminal")) if status else None,
        **extra,
    }


def home(request):
    ctx = screen_context(request)
    store = ctx["store"]
    ctx["terminals"] = list(store.terminals.filter(active=True)) if store else []
    return render(request, "pos_ui/home.html", ctx)
