from django.contrib import admin

from retail.members.models import Member, PointsEntry


class PointsEntryInline(admin.TabularInline):
    model = PointsEntry
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "points", "sale_id", "reason", "origin", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["number", "first_name", "last_name", "phone", "email", "points_balance", "origin"]
    search_fields = ["number", "card_barcode", "first_name", "last_name", "phone", "email"]
    readonly_fields = ["points_balance", "field_clocks", "origin", "created_at"]
    inlines = [PointsEntryInline]
