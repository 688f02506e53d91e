from django.contrib import admin, messages

from cloud.api.models import ApiKey
from cloud.api.services import api_key_create, api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "rate_limit_per_minute", "created_at", "revoked_at"]
    fields = ["name", "rate_limit_per_minute", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key, plain = api_key_create(name=obj.name, rate_limit_per_minute=obj.rate_limit_per_minute)
        obj.pk = key.pk
        obj.prefix = key.prefix
        messages.warning(request, f"The key for {key.name} is {plain} — copy it now, it is not shown again.")

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        for key in queryset:
            api_key_revoke(api_key=key)
        messages.success(request, f"{queryset.count()} key(s) revoked.")
