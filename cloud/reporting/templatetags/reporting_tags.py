import uuid

from django import template
from django.utils import timezone

from cloud.headoffice.selectors import ALL_STORES, NO_STORE, staff_store_scope
from cloud.reporting.selectors import dashboard_figures, store_freshness
from cloud.sync.selectors import stores_health

register = template.Library()


@register.simple_tag
def chain_today(user) -> dict:
    """Today's figures and each store's sync freshness for the admin index, scoped like the dashboard."""
    scope = staff_store_scope(user=user)
    if scope == NO_STORE or not user.has_perm("reporting.view_dailystoresales"):
        return {"stores": [], "allowed": False}
    store_ids = None if scope == ALL_STORES else [scope]
    today = timezone.localdate()
    figures = dashboard_figures(date_from=today, date_to=today, store_ids=store_ids, top=0)
    totals = {s["store_id"]: s for s in figures["stores"]}
    health = stores_health(store_ids=store_ids)
    stores = [
        {
            "freshness": f,
            "total": totals.get(f.store_id, {}).get("total", "0.00"),
            "health": health.get(uuid.UUID(f.store_id)),
        }
        for f in store_freshness(store_ids=store_ids)
    ]
    return {"stores": stores, "allowed": True, "total": figures["totals"]["total"]}
