from django.contrib import admin
from django.contrib.admin.utils import unquote

from cloud.headoffice.admin.no_delete import NoDeleteMixin
from cloud.headoffice.selectors import member_history, staff_store_scope
from retail.members.models import Member
from retail.members.services import member_create, member_update


@admin.register(Member)
class MemberAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Members are chain-wide. The page shows the member's merged set: the members merged into it,
    their points ledger and their purchases in every channel (store sales and online orders)."""

    list_display = [
        "number",
        "first_name",
        "last_name",
        "phone",
        "email",
        "points_balance",
        "origin",
        "merged_into",
    ]
    list_filter = [("merged_into", admin.EmptyFieldListFilter)]
    list_select_related = ["merged_into"]
    search_fields = ["number", "card_barcode", "first_name", "last_name", "phone", "email"]
    readonly_fields = ["points_balance", "field_clocks", "origin", "created_at", "merged_into", "merged_at"]
    change_form_template = "admin/headoffice/member_change_form.html"

    def get_readonly_fields(self, request, obj=None):
        # The number names the member at every node; it is set once.
        return [*self.readonly_fields, "number"] if obj is not None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        # A merged member is a record of what was posted to its card: edit the survivor instead.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.merged_into_id is None)

    def save_model(self, request, obj, form, change):
        # Through the member services, so the edit is a member.created/updated event of the same
        # transaction (the admin wraps the form in one) and reaches every store.
        profile = {f: form.cleaned_data[f] for f in Member.PROFILE_FIELDS if f in form.cleaned_data}
        if change:
            current = Member.objects.get(pk=obj.pk)
            member_update(member=current, **{f: v for f, v in profile.items() if f in form.changed_data})
        else:
            obj.pk = member_create(number=form.cleaned_data["number"], **profile).pk

    def change_view(self, request, object_id, form_url="", extra_context=None):
        member = self.get_object(request, unquote(object_id))
        if member is not None and self.has_view_permission(request, member):
            extra_context = {
                **(extra_context or {}),
                "history": member_history(member=member, scope=staff_store_scope(user=request.user)),
            }
        return super().change_view(request, object_id, form_url, extra_context)
