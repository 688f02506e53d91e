from django.contrib import admin

from cloud.headoffice.admin.no_delete import NoDeleteMixin
from cloud.headoffice.admin.scoping import StoreScopedMixin
from retail.outbox.services import event_append
from retail.stores.models import Store, Terminal

STORE_FIELDS = ["code", "name", "address", "city", "postcode", "phone", "time_zone", "active"]
TERMINAL_FIELDS = [
    "code",
    "name",
    "printer_address",
    "paper_width_mm",
    "drawer_pin",
    "scanner_address",
    "active",
]


class TerminalInline(admin.TabularInline):
    model = Terminal
    extra = 0
    can_delete = False  # a lane is closed by unticking active (terminal.updated)
    fields = TERMINAL_FIELDS


@admin.register(Store)
class StoreAdmin(NoDeleteMixin, StoreScopedMixin, admin.ModelAdmin):
    """A store closes by unticking active (store.updated); it is never deleted."""

    store_path = "id"
    list_display = ["code", "name", "city", "region", "active"]
    list_filter = ["region", "active"]
    search_fields = ["code", "name", "city", "region"]
    inlines = [TerminalInline]

    def get_readonly_fields(self, request, obj=None):
        # The code is the store's origin name in the event log: it never changes once created.
        return ["code"] if obj is not None else []

    def save_related(self, request, form, formsets, change):
        # The admin wraps the whole form in one transaction: the events commit with the rows.
        super().save_related(request, form, formsets, change)
        store = form.instance
        event_append(
            type="store.updated", payload={"id": store.id, **{f: getattr(store, f) for f in STORE_FIELDS}}
        )
        for formset in formsets:
            for terminal in [*formset.new_objects, *(obj for obj, _ in formset.changed_objects)]:
                event_append(
                    type="terminal.updated",
                    payload={
                        "id": terminal.id,
                        "store_id": store.id,
                        **{f: getattr(terminal, f) for f in TERMINAL_FIELDS},
                    },
                )
