"""Stock transfers between stores: head office drafts and sends them; both stores' managers follow them.

The forms check what the services check (``cloud.transfers.services``) so a refusal is a message on
the field it is about; saving goes through ``transfer_draft_save``, sending through
``transfer_send``. A transfer that is no longer a draft is read only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.urls import reverse

from cloud.headoffice.admin.scoping import StoreScopedMixin
from cloud.headoffice.selectors import ALL_STORES, NO_STORE
from cloud.transfers.models import Transfer, TransferLine, TransferStatus, TransferStatusChange
from cloud.transfers.selectors import transfer_books_below_zero
from cloud.transfers.services import (
    TransferItem,
    transfer_cancel,
    transfer_discrepancy_resolve,
    transfer_draft_save,
    transfer_items_check,
    transfer_send,
    transfer_stores_check,
)
from retail.api_errors import DomainError, Invalid
from retail.stock.quantities import stock_quantity_parse


def _draft(obj) -> bool:
    return obj is None or obj.status == TransferStatus.DRAFT


class TransferForm(forms.ModelForm):
    class Meta:
        model = Transfer
        fields = ["from_store", "to_store", "note"]

    def clean(self):
        cleaned = super().clean()
        from_store, to_store = cleaned.get("from_store"), cleaned.get("to_store")
        if from_store is not None and to_store is not None:
            try:
                transfer_stores_check(from_store=from_store, to_store=to_store)
            except Invalid as refused:
                self.add_error("to_store" if refused.code == "same_store" else None, refused.detail)
        return cleaned


class TransferLineForm(forms.ModelForm):
    # Text, checked by the stock quantity rule: its messages name the product and the unit.
    quantity = forms.CharField(
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8, "autocomplete": "off"}),
    )

    class Meta:
        model = TransferLine
        fields = ["product", "quantity"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.quantity is not None:
            self.initial["quantity"] = f"{self.instance.quantity.normalize():f}"

    def clean(self):
        cleaned = super().clean()
        product, raw = cleaned.get("product"), cleaned.get("quantity")
        if product is not None and raw not in (None, ""):
            try:
                cleaned["quantity"] = stock_quantity_parse(name=product.name, unit=product.unit, raw=raw)
            except Invalid as refused:
                self.add_error("quantity", refused.detail)
        return cleaned


class TransferLineFormSet(forms.BaseInlineFormSet):
    def validate_unique(self):
        pass  # a product twice is transfer_items_check's refusal, with a message naming the product

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        try:
            transfer_items_check(self.items())
        except Invalid as refused:
            raise ValidationError(refused.detail, code=refused.code) from None

    def items(self) -> list[TransferItem]:
        return [
            TransferItem(product=form.cleaned_data["product"], quantity=form.cleaned_data["quantity"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("product")
        ]


class TransferLineInline(admin.TabularInline):
    model = TransferLine
    form = TransferLineForm
    formset = TransferLineFormSet
    autocomplete_fields = ["product"]

    def get_extra(self, request, obj=None, **kwargs):
        return 3 if obj is None else (1 if _draft(obj) else 0)

    def get_fields(self, request, obj=None):
        return ["product", "quantity"] if _draft(obj) else ["product", "quantity", "received", "difference"]

    def get_readonly_fields(self, request, obj=None):
        return [] if _draft(obj) else ["product", "quantity", "received", "difference"]

    @admin.display(description="difference")
    def difference(self, line):
        diff = line.difference
        return "" if diff is None else (f"{diff.normalize():+f}" if diff else "0")

    def has_add_permission(self, request, obj=None):
        return _draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _draft(obj) and super().has_delete_permission(request, obj)


class TransferHistoryInline(admin.TabularInline):
    model = TransferStatusChange
    extra = 0
    can_delete = False
    fields = readonly_fields = ["status", "at", "by", "note"]
    verbose_name_plural = "history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DiscrepancyFilter(admin.SimpleListFilter):
    title = "discrepancy"
    parameter_name = "discrepancy"

    def lookups(self, request, model_admin):
        return [
            ("open", "With discrepancies, to resolve"),
            ("resolved", "With discrepancies, resolved"),
            ("none", "Received as sent"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.filter(has_discrepancy=True, discrepancy_resolved_at__isnull=True)
        if value == "resolved":
            return queryset.filter(has_discrepancy=True, discrepancy_resolved_at__isnull=False)
        if value == "none":
            return queryset.filter(status=TransferStatus.RECEIVED, has_discrepancy=False)
        return queryset


class _Refused(Exception):
    """A service refused the save after the forms passed (a concurrent change): nothing is written."""


@admin.register(Transfer)
class TransferAdmin(StoreScopedMixin, admin.ModelAdmin):
    """Transfers. A store manager sees those from or to their store, read only."""

    form = TransferForm
    change_form_template = "admin/headoffice/transfer_change_form.html"
    list_display = [
        "number",
        "from_store",
        "to_store",
        "status",
        "line_count",
        "discrepancy",
        "created_at",
        "sent_at",
        "received_at",
    ]
    list_filter = ["status", DiscrepancyFilter, "from_store", "to_store"]
    list_select_related = ["from_store", "to_store"]
    search_fields = ["number", "note"]
    date_hierarchy = "created_at"
    inlines = [TransferLineInline, TransferHistoryInline]
    actions = ["send", "cancel", "resolve_discrepancy"]
    readonly_fields = [
        "number",
        "status",
        "discrepancy",
        "created_by",
        "created_at",
        "sent_at",
        "received_at",
        "received_by",
    ]

    # ---- scope: a manager's store on either end
    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request).annotate(line_count=Count("lines"))
        scope = self.store_scope(request)
        if scope == ALL_STORES:
            return qs
        if scope == NO_STORE:
            return qs.none()
        return qs.filter(Q(from_store_id=scope) | Q(to_store_id=scope))

    def _owns(self, request, obj) -> bool:
        scope = self.store_scope(request)
        return scope == ALL_STORES or scope in (obj.from_store_id, obj.to_store_id)

    def get_list_filter(self, request):
        if self.store_scope(request) == ALL_STORES:
            return self.list_filter
        return [f for f in self.list_filter if f not in ("from_store", "to_store")]

    # ---- what may be done: drafts change, nothing is deleted (cancel a draft instead)
    def get_fields(self, request, obj=None):
        if obj is None:
            return ["from_store", "to_store", "note"]
        return ["number", "status", "from_store", "to_store", "note", *self.readonly_fields[2:]]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return (
            self.readonly_fields if _draft(obj) else ["from_store", "to_store", "note", *self.readonly_fields]
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or _draft(obj))

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="lines", ordering="line_count")
    def line_count(self, obj):
        return obj.line_count

    @admin.display(description="discrepancy")
    def discrepancy(self, obj):
        if not obj.has_discrepancy:
            return "—" if obj.status == TransferStatus.RECEIVED else ""
        return "resolved" if obj.discrepancy_resolved_at else "to resolve"

    def get_inlines(self, request, obj):
        return [TransferLineInline] if obj is None else [TransferLineInline, TransferHistoryInline]

    # ---- saving through the service
    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_send"] = _draft(obj) and self.has_change_permission(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            messages.error(request, str(refused))
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        pass  # the transfer and its lines are written together by transfer_draft_save (save_related)

    def save_related(self, request, form, formsets, change):
        lines = next(fs for fs in formsets if fs.model is TransferLine)
        try:
            transfer = transfer_draft_save(
                transfer=form.instance if change else None,
                from_store=form.cleaned_data["from_store"],
                to_store=form.cleaned_data["to_store"],
                note=form.cleaned_data.get("note", ""),
                items=lines.items(),
                by=request.user,
            )
        except DomainError as refused:
            raise _Refused(refused.detail) from refused
        for field in Transfer._meta.concrete_fields:
            setattr(form.instance, field.attname, getattr(transfer, field.attname))
        form.instance._state.adding = False
        for formset in formsets:  # what the admin's change message reads after a formset's save()
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def response_add(self, request, obj, post_url_continue=None):
        if "_send" in request.POST:
            self._send(request, [obj])
            return HttpResponseRedirect(reverse("admin:transfers_transfer_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_send" in request.POST:
            self._send(request, [obj])
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    # ---- actions
    def _send(self, request, transfers) -> None:
        sent = []
        for transfer in transfers:
            try:
                sent.append(transfer_send(transfer=transfer, by=request.user))
            except DomainError as refused:
                messages.error(request, f"{transfer.number}: {refused.detail}")
        if sent:
            numbers = ", ".join(t.number for t in sent)
            messages.success(request, f"Sent {numbers}: the goods have left, and both stores will be told.")
        for transfer in sent:
            short = transfer_books_below_zero(transfer=transfer)
            if short:
                listed = ", ".join(f"{name} ({on_hand.normalize():f})" for name, on_hand in short)
                messages.warning(
                    request,
                    f"{transfer.number}: {transfer.from_store.code}'s book is now below zero for {listed}; "
                    "a count there will correct it if the goods were there.",
                )

    @admin.action(description="Send selected drafts to the stores", permissions=["change"])
    def send(self, request, queryset):
        self._send(request, list(queryset.select_related("from_store", "to_store").order_by("serial")))

    @admin.action(description="Cancel selected drafts", permissions=["change"])
    def cancel(self, request, queryset):
        done = 0
        for transfer in queryset.order_by("serial"):
            try:
                transfer_cancel(transfer=transfer, by=request.user)
                done += 1
            except DomainError as refused:
                messages.error(request, f"{transfer.number}: {refused.detail}")
        if done:
            messages.success(request, f"{done} draft(s) cancelled.")

    @admin.action(description="Mark discrepancy resolved", permissions=["change"])
    def resolve_discrepancy(self, request, queryset):
        done = 0
        for transfer in queryset.order_by("serial"):
            try:
                transfer_discrepancy_resolve(transfer=transfer, by=request.user)
                done += 1
            except DomainError as refused:
                messages.error(request, f"{transfer.number}: {refused.detail}")
        if done:
            messages.success(request, f"{done} discrepanc{'y' if done == 1 else 'ies'} marked resolved.")
