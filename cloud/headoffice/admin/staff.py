from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from retail.staff.models import User


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "store", "is_active"]
    list_filter = ["role", "store", "is_active"]
    fieldsets = [
        *UserAdmin.fieldsets,
        ("Retail", {"fields": ["role", "store", "failed_pin_attempts", "pin_locked_until"]}),
    ]
