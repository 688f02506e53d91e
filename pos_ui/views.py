from django.conf import settings
from django.shortcuts import render

from retail.stores.models import Store


def home(request):
    store = Store.objects.filter(code=settings.STORE_CODE).first()
    terminals = list(store.terminals.filter(active=True)) if store else []
    return render(
        request,
        "pos_ui/home.html",
        {"store": store, "terminals": terminals, "store_code": settings.STORE_CODE},
    )
