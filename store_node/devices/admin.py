"""The store's admin for its lanes' devices: addresses checked as they are typed, the print queue
with its reprint action, and the drawer kicks."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from retail.api_errors import DomainError
from retail.stores.models import Terminal
from store_node.devices.models import DrawerKick, PrintJob
from store_node.devices.print_queue import print_job_reprint


class TerminalDevicesForm(forms.ModelForm):
    class Meta:
        model = Terminal
        fields = [
            "name",
            "printer_address",
            "printer_profile",
            "paper_width_mm",
            "drawer_pin",
            "scanner_address",
            "active",
        ]

    # The model's validators (retail/stores/validators.py) check the addresses; spaces typed or
    # pasted around an address are not an error.
    def clean_printer_address(self):
        return self.cleaned_data["printer_address"].strip()

    def clean_scanner_address(self):
        return self.cleaned_data["scanner_address"].strip()


@admin.register(Terminal)
class TerminalAdmin(admin.ModelAdmin):
    """Head office owns lanes (its `terminal.updated` events set these fields); a change made here is
    this node's on-site override until head office next changes the lane."""

    form = TerminalDevicesForm
    list_display = ["label", "name", "printer_address", "scanner_address", "active"]
    list_select_related = ["store"]
    readonly_fields = ["store", "code"]

    def has_add_permission(self, request):
        return False  # lanes come from head office

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PrintJob)
class PrintJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "terminal", "kind", "status", "attempts", "last_error", "printed_at"]
    list_filter = ["status", "kind", "terminal"]
    list_select_related = ["terminal__store"]
    readonly_fields = [f.name for f in PrintJob._meta.fields]
    actions = ["reprint"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Reprint (a copy of a printed job; a failed job is queued again)")
    def reprint(self, request, queryset):
        done = 0
        for job in queryset:
            try:
                print_job_reprint(job_id=job.pk)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{job}: {exc.detail}", messages.WARNING)
        if done:
            self.message_user(request, f"{done} job(s) queued for printing", messages.SUCCESS)


@admin.register(DrawerKick)
class DrawerKickAdmin(admin.ModelAdmin):
    list_display = ["requested_at", "terminal", "reason", "status"]
    list_filter = ["status", "reason"]
    list_select_related = ["terminal__store"]
    readonly_fields = ["terminal", "requested_at", "reason", "status"]

    def has_add_permission(self, request):
        return False
