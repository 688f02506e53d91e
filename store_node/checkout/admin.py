from django.contrib import admin

from store_node.checkout.models import TerminalSession


@admin.register(TerminalSession)
class TerminalSessionAdmin(admin.ModelAdmin):
    list_display = ["terminal", "user", "created_at", "expires_at", "ended_at"]
    readonly_fields = ["terminal", "user", "created_at", "expires_at", "ended_at"]
    exclude = ["token"]
