"""Head office's view of sync: health per store, quarantine, oversells, overdraws, duplicates, credentials."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from cloud.headoffice.selectors import member_summaries
from cloud.sync.models import (
    EnrollmentCode,
    FeedEntry,
    MemberMergeProposal,
    Oversell,
    PointsOverdraw,
    QuarantinedEvent,
    StoreCredential,
    StoreSyncState,
)
from cloud.sync.selectors import store_health
from cloud.sync.services import (
    credential_revoke,
    enrollment_code_create,
    member_merge_proposal_accept,
    member_merge_proposal_dismiss,
    quarantine_retry,
)
from retail.api_errors import DomainError
from retail.outbox.admin_display import RedactedPayloadMixin


class _ReadOnly(admin.ModelAdmin):
    """Rows sync writes: nobody adds, edits or deletes them here. What a person may decide about
    one (resolve, retry, revoke) is an action with ``permissions=["decide"]``: offered to whoever
    holds the model's change permission (head office), never to an analyst (view only)."""

    def has_decide_permission(self, request):
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description="Mark resolved", permissions=["decide"])
def mark_resolved(modeladmin, request, queryset):
    done = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
    modeladmin.message_user(request, f"{done} marked resolved.")


@admin.register(StoreSyncState)
class StoreSyncStateAdmin(_ReadOnly):
    list_display = [
        "store",
        "last_contact_at",
        "events_pending",
        "oldest_unsynced_at",
        "ack_seq",
        "cursor_lag",
        "quarantined",
    ]
    list_select_related = ["store"]

    def _health(self, obj):
        cache = getattr(obj, "_health", None)
        if cache is None:
            cache = obj._health = store_health(state=obj)
        return cache

    @admin.display(description="events pending")
    def events_pending(self, obj):
        return self._health(obj).events_pending

    @admin.display(description="cursor lag")
    def cursor_lag(self, obj):
        return self._health(obj).cursor_lag

    @admin.display(description="quarantined")
    def quarantined(self, obj):
        return self._health(obj).quarantined


@admin.register(QuarantinedEvent)
class QuarantinedEventAdmin(RedactedPayloadMixin, _ReadOnly):
    list_display = ["origin", "seq", "type", "schema", "reason", "created_at", "resolved_at"]
    list_filter = ["reason", "type", "origin", ("resolved_at", admin.EmptyFieldListFilter)]
    actions = ["retry", mark_resolved]

    @admin.action(description="Retry applying (in seq order)", permissions=["decide"])
    def retry(self, request, queryset):
        results = [
            quarantine_retry(item=item)
            for item in queryset.filter(resolved_at__isnull=True).order_by("origin", "seq")
        ]
        self.message_user(request, f"{sum(results)} applied, {len(results) - sum(results)} still refused.")


@admin.register(Oversell)
class OversellAdmin(_ReadOnly):
    list_display = ["store", "product", "on_hand", "origin", "seq", "created_at", "resolved_at"]
    list_filter = ["store", ("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["store", "product"]
    actions = [mark_resolved]


@admin.register(PointsOverdraw)
class PointsOverdrawAdmin(_ReadOnly):
    list_display = ["member", "balance", "origin", "seq", "created_at", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["member"]
    actions = [mark_resolved]


@admin.register(MemberMergeProposal)
class MemberMergeProposalAdmin(_ReadOnly):
    """Duplicate members. Opening one shows both side by side; head office merges them (choosing the
    survivor) or dismisses the proposal. Analysts may look; store managers do not see proposals: a
    merge changes a member of every store, so it is head office's decision alone."""

    list_display = ["member", "duplicate", "matched_on", "created_at", "outcome", "survivor", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "outcome", "matched_on"]
    list_select_related = ["member", "duplicate", "survivor"]
    search_fields = ["member__number", "duplicate__number", "member__phone", "member__email"]
    actions = ["dismiss"]

    def has_change_permission(self, request, obj=None):
        # Deciding a proposal is its "change"; the fields themselves are never edited.
        return request.user.has_perm("cloud_sync.change_membermergeproposal")

    @admin.action(description="Dismiss: not the same person", permissions=["change"])
    def dismiss(self, request, queryset):
        for proposal in queryset.filter(resolved_at__isnull=True):
            member_merge_proposal_dismiss(proposal=proposal, by=request.user)
        self.message_user(request, "Dismissed.")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        proposal = self.get_object(request, unquote(object_id))
        if proposal is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, proposal):
            raise PermissionDenied
        may_decide = self.has_change_permission(request, proposal) and proposal.resolved_at is None
        if request.method == "POST":
            if not may_decide:
                raise PermissionDenied
            try:
                if request.POST.get("decision") == "dismiss":
                    member_merge_proposal_dismiss(proposal=proposal, by=request.user)
                    self.message_user(request, "Dismissed: the two members stay apart.")
                    return redirect("admin:cloud_sync_membermergeproposal_changelist")
                survivor = member_merge_proposal_accept(
                    proposal=proposal, survivor_id=request.POST.get("survivor", ""), by=request.user
                )
            except DomainError as error:
                self.message_user(request, error.detail, level=messages.ERROR)
            else:
                self.message_user(
                    request, f"Merged into {survivor.number}; every store follows at its next sync."
                )
                return redirect("admin:members_member_change", survivor.pk)
        members = [proposal.member, proposal.duplicate]
        summaries = member_summaries(members=members)
        rows = [
            (label, [getattr(m, name) for m in members])
            for label, name in (
                ("Number", "number"),
                ("Name", "name"),
                ("Card", "card_barcode"),
                ("Phone", "phone"),
                ("E-mail", "email"),
                ("Marketing consent", "consent_marketing"),
                ("E-mail consent", "consent_email"),
                ("SMS consent", "consent_sms"),
                ("Created at (node)", "origin"),
                ("Created", "created_at"),
            )
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Merge {proposal.member.number} and {proposal.duplicate.number}?",
            "proposal": proposal,
            "summaries": summaries,
            "rows": rows,
            "combined_balance": sum(s.member.points_balance for s in summaries),
            "may_decide": may_decide,
        }
        return TemplateResponse(request, "admin/cloud_sync/membermergeproposal/merge.html", context)


@admin.register(FeedEntry)
class FeedEntryAdmin(RedactedPayloadMixin, _ReadOnly):
    list_display = ["seq", "origin", "origin_seq", "type", "audience", "created_at"]
    list_filter = ["type", "origin"]
    show_full_result_count = False


class EnrollmentCodeForm(forms.ModelForm):
    class Meta:
        model = EnrollmentCode
        fields = ["store"]


@admin.register(EnrollmentCode)
class EnrollmentCodeAdmin(admin.ModelAdmin):
    """Adding a row makes a code and shows it once; only its hash is stored."""

    form = EnrollmentCodeForm
    list_display = ["store", "created_at", "expires_at", "used_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        row, code = enrollment_code_create(store=form.cleaned_data["store"])
        obj.pk = row.pk
        messages.warning(
            request,
            f"Enrollment code for {row.store.code}: {code} — shown only now. On the store: "
            f"manage.py enroll --cloud <this cloud's URL> --code {code}",
        )


@admin.register(StoreCredential)
class StoreCredentialAdmin(_ReadOnly):
    list_display = ["store", "key_id", "created_at", "last_used_at", "revoked_at"]
    exclude = ["secret_hash"]  # a hash of a secret is shown to nobody
    list_select_related = ["store"]
    actions = ["revoke"]

    @admin.action(description="Revoke (the store must enroll again)", permissions=["decide"])
    def revoke(self, request, queryset):
        for credential in queryset:
            credential_revoke(credential=credential)
        self.message_user(request, f"{queryset.count()} credential(s) revoked.")
