"""This store's side of sync: its credential and how far it has pushed and pulled."""

from django.db import models


class SyncCredential(models.Model):
    """The one credential this store received at enrollment (a single row)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    cloud_url = models.URLField()
    store_id = models.UUIDField()
    store_code = models.CharField(max_length=8)
    token = models.CharField(max_length=128, help_text="Bearer credential; the cloud keeps only its hash.")
    enrolled_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.store_code} at {self.cloud_url}"


class SyncState(models.Model):
    """Progress of sync (a single row). ``pull_cursor`` moves in the transaction that applies the pull."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    pushed_seq = models.BigIntegerField(default=0, help_text="Highest own seq the cloud acknowledged.")
    pull_cursor = models.BigIntegerField(default=0, help_text="Feed position applied here.")
    snapshot_loaded_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    clock_offset_s = models.IntegerField(
        null=True, blank=True, help_text="This node's clock minus head office's, seconds, at the last answer."
    )

    def __str__(self) -> str:
        return f"pushed {self.pushed_seq}, pulled to {self.pull_cursor}"


class PulledQuarantine(models.Model):
    """A feed event this store could not apply (e.g. a newer schema): kept whole, never dropped."""

    fseq = models.BigIntegerField(primary_key=True)
    event_id = models.UUIDField()
    origin = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    hlc = models.BigIntegerField()
    type = models.CharField(max_length=40)
    schema = models.PositiveSmallIntegerField()
    payload = models.JSONField()
    reason = models.CharField(max_length=32)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"#{self.fseq} {self.type}: {self.reason}"


class PeerLastSync(models.Model):
    """When another store of the chain last reached head office, as head office told this store at
    the end of its latest pull: the age of that store's stock figures on the handheld look-up."""

    store_code = models.CharField(max_length=8, primary_key=True)
    last_contact_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.store_code} last synced {self.last_contact_at:%Y-%m-%d %H:%M}"
