from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError

from cloud.headoffice.admin.no_delete import NoDeleteMixin
from cloud.headoffice.admin.scoping import StoreScopedMixin
from cloud.headoffice.roles import staff_payload, staff_role_check, staff_role_set
from cloud.headoffice.selectors import ALL_STORES
from retail.api_errors import DomainError
from retail.outbox.services import event_append
from retail.staff.models import Role, User


@admin.register(User)
class StaffAdmin(NoDeleteMixin, StoreScopedMixin, UserAdmin):
    """Staff leave by being made inactive (``is_active``, in staff.updated); sales and shifts name them."""

    list_display = ["username", "first_name", "last_name", "role", "store", "is_active"]
    list_filter = ["role", "store", "is_active"]
    fieldsets = [
        *UserAdmin.fieldsets,
        ("Retail", {"fields": ["role", "store", "failed_pin_attempts", "pin_locked_until"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "usable_password", "password1", "password2"]}),
        ("Retail", {"fields": ["role", "store"]}),
    ]
    # What a store manager may edit of their staff: never permissions, groups or superuser status.
    store_manager_fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "email"]}),
        ("Retail", {"fields": ["role", "store", "is_active", "failed_pin_attempts", "pin_locked_until"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is not None and self.store_scope(request) != ALL_STORES:
            return self.store_manager_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and self.store_scope(request) != ALL_STORES:
            if obj.role not in (Role.CASHIER, Role.SUPERVISOR):
                fields += ["role", "store"]  # a manager cannot demote or move a manager
        return fields

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and self.store_scope(request) != ALL_STORES:
            kwargs["choices"] = [(r.value, r.label) for r in (Role.CASHIER, Role.SUPERVISOR)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)

        class RoleCheckedForm(form_class):
            def clean(self):
                data = super().clean()
                if "role" in data:
                    try:
                        staff_role_check(role=data["role"], store=data.get("store"), by=request.user)
                    except DomainError as error:
                        raise ValidationError(error.detail, code=error.code) from error
                return data

        return RoleCheckedForm

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if {"role", "store"} & set(form.changed_data) or not change:
            staff_role_set(user=obj, role=obj.role, store=obj.store, by=request.user)
        else:
            event_append(type="staff.updated", payload=staff_payload(obj))
