from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractUser
from django.db import models

from retail.fields import IdField


class Role(models.TextChoices):
    CASHIER = "cashier", "Cashier"
    SUPERVISOR = "supervisor", "Supervisor"
    STORE_MANAGER = "store_manager", "Store manager"
    HEAD_OFFICE = "head_office", "Head office"
    ANALYST = "analyst", "Analyst (read only)"


# Who may approve what at a till: each role may do what the roles before it may.
ROLE_RANK = {
    Role.CASHIER: 0,
    Role.SUPERVISOR: 1,
    Role.STORE_MANAGER: 2,
    Role.HEAD_OFFICE: 3,
    Role.ANALYST: -1,
}


class User(AbstractUser):
    """A member of staff. Store staff log in at a terminal with their username (staff number) and PIN."""

    id = IdField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CASHIER)
    store = models.ForeignKey(
        "stores.Store",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text="Home store of store staff; empty for head office.",
    )
    pin_hash = models.CharField(max_length=128, blank=True)
    failed_pin_attempts = models.PositiveSmallIntegerField(default=0)
    pin_locked_until = models.DateTimeField(null=True, blank=True)

    def set_pin(self, raw_pin: str) -> None:
        self.pin_hash = make_password(raw_pin)

    def check_pin(self, raw_pin: str) -> bool:
        return bool(self.pin_hash) and check_password(raw_pin, self.pin_hash)

    def has_rank(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]
