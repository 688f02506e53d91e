from django.contrib import admin

from retail.stores.models import Store, Terminal


class TerminalInline(admin.TabularInline):
    model = Terminal
    extra = 0
    fields = ["code", "name", "printer_address", "paper_width_mm", "drawer_pin", "scanner_address", "active"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "active"]
    search_fields = ["code", "name", "city"]
    inlines = [TerminalInline]
