from django.conf import settings
from django.db import models


class TerminalSession(models.Model):
    """A staff member logged in on a terminal with their PIN: the API's ``Terminal <token>`` credential.

    Short-lived (``expires_at``) and ended at logout or when the next person logs in on the terminal.
    """

    token = models.CharField(max_length=64, primary_key=True)
    terminal = models.ForeignKey("stores.Terminal", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.terminal_id}"
