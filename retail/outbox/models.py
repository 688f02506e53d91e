from django.db import models

from retail.fields import IdField


class NodeClock(models.Model):
    """Per origin: the last event ``seq`` and hybrid-logical-clock value handed out.

    Advancing it is an UPDATE of this one row inside the business transaction, so appends of one
    origin are serialised by the row lock (PostgreSQL) or the IMMEDIATE write lock (SQLite): seq is
    gapless, and seq order is commit order (no reader can see seq n+1 before seq n has committed).
    """

    origin = models.CharField(max_length=64, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    last_hlc = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.origin} @ {self.last_seq}"


class Event(models.Model):
    """An immutable business event, appended in the transaction of the change it describes."""

    id = IdField()
    origin = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    hlc = models.BigIntegerField(help_text="Hybrid logical clock: (milliseconds << 16) | counter.")
    type = models.CharField(max_length=40)
    schema = models.PositiveSmallIntegerField(default=1)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["origin", "seq"]
        constraints = [models.UniqueConstraint(fields=["origin", "seq"], name="event_seq_unique_per_origin")]

    def __str__(self) -> str:
        return f"{self.origin}#{self.seq} {self.type}"
