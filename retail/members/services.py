"""Member and points writes.

Invariants: a member that is not merged has ``points_balance`` equal to the sum of the points of
its merged set (itself and every member merged into it); a merged member has 0. Ledger entries are
never edited: an entry keeps the member it was posted to, and merges move balances, not entries.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from retail.api_errors import DomainError, Invalid
from retail.members.models import Member, PointsEntry, PointsKind
from retail.members.selectors import merged_set
from retail.outbox.services import event_append, node_origin

_SIGNS = {PointsKind.EARN: 1, PointsKind.REDEEM: -1, PointsKind.EXPIRE: -1}

# A card belongs to the member row it was issued to (scanning a merged member's card finds its
# survivor), so it is never folded into a survivor's profile; every other field is.
MERGED_PROFILE_FIELDS = tuple(f for f in Member.PROFILE_FIELDS if f != "card_barcode")
_TEXT_FIELDS = ("first_name", "last_name", "phone", "email")
_CONSENTS = ("consent_marketing", "consent_email", "consent_sms")


def _balance_add(*, member_id, points: int) -> None:
    """Move the balance of ``member_id``, or of its survivor when it was merged.

    One UPDATE for a member that is not merged (the till's case). Otherwise the survivor is read in a
    new statement: on PostgreSQL a merge committing while this waited for the member's row lock makes
    the first UPDATE match nothing, and the next statement sees the merge, so the points are never
    lost between a merge's ledger sum and a concurrent posting.
    """
    if Member.objects.filter(pk=member_id, merged_into__isnull=True).update(
        points_balance=F("points_balance") + points
    ):
        return
    for _ in range(5):
        survivor_id = Member.objects.filter(pk=member_id).values_list("merged_into", flat=True).first()
        if survivor_id is None:
            return
        if Member.objects.filter(pk=survivor_id, merged_into__isnull=True).update(
            points_balance=F("points_balance") + points
        ):
            return
    raise DomainError(f"member {member_id} keeps being merged; retry", code="member_busy")


def points_entry_record(
    *,
    member_id,
    kind: str,
    points: int,
    origin: str,
    sale_id=None,
    reason: str = "",
    created_at=None,
    entry_id=None,
) -> PointsEntry:
    """Write one ledger entry and move the balance with it, without an event (sync applies use this).

    The entry keeps ``member_id`` as given (the card it was posted to); the balance that moves is that
    of the member's survivor when it was merged, so points posted to a merged card count there.
    """
    if not isinstance(points, int) or isinstance(points, bool):
        raise TypeError("points are whole numbers")
    sign = _SIGNS.get(kind)
    if sign is not None and points * sign < 0:
        raise Invalid(f"{kind} points must be {'positive' if sign > 0 else 'negative'}", code="points_sign")
    fields = dict(
        member_id=member_id,
        kind=kind,
        points=points,
        sale_id=sale_id,
        reason=reason,
        origin=origin,
        created_at=created_at or timezone.now(),
    )
    if entry_id is not None:
        fields["id"] = entry_id
    with transaction.atomic():
        entry = PointsEntry.objects.create(**fields)
        _balance_add(member_id=member_id, points=points)
    return entry


def points_post(*, member_id, kind: str, points: int, sale_id=None, reason: str = "") -> PointsEntry:
    """Post a points entry and its ``points.posted`` event in one transaction."""
    with transaction.atomic():
        entry = points_entry_record(
            member_id=member_id,
            kind=kind,
            points=points,
            origin=node_origin(),
            sale_id=sale_id,
            reason=reason,
        )
        event_append(
            type="points.posted",
            payload={
                "id": entry.id,
                "member_id": member_id,
                "kind": kind,
                "points": points,
                "sale_id": sale_id,
                "reason": reason,
                "created_at": entry.created_at,
            },
        )
    return entry


def _profile(member: Member) -> dict:
    return {field: getattr(member, field) for field in Member.PROFILE_FIELDS}


def member_create(*, number: str, **profile) -> Member:
    """Create a member anywhere (a till offline included) with its ``member.created`` event."""
    unknown = set(profile) - set(Member.PROFILE_FIELDS)
    if unknown:
        raise Invalid(f"unknown member fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        member = Member(number=number, origin=node_origin(), **profile)
        member.full_clean(exclude=["field_clocks", "origin"])
        member.save()
        event = event_append(
            type="member.created", payload={"id": member.id, "number": number, "fields": _profile(member)}
        )
        member.field_clocks = {field: [event.hlc, event.origin] for field in Member.PROFILE_FIELDS}
        member.save(update_fields=["field_clocks"])
    return member


def member_update(*, member: Member, **changes) -> Member:
    """Change profile fields; each changed field is stamped with this event's clock for LWW merges.

    A merged member's write also reaches its survivor (every field but the card), as it does at
    every node that applies the event.
    """
    unknown = set(changes) - set(Member.PROFILE_FIELDS)
    if unknown:
        raise Invalid(f"unknown member fields: {', '.join(sorted(unknown))}")
    changed = {k: v for k, v in changes.items() if getattr(member, k) != v}
    if not changed:
        return member
    with transaction.atomic():
        for field, value in changed.items():
            setattr(member, field, value)
        member.full_clean(exclude=["field_clocks", "origin"])
        event = event_append(type="member.updated", payload={"id": member.id, "fields": changed})
        clocks = dict(member.field_clocks)
        for field in changed:
            clocks[field] = [event.hlc, event.origin]
        member.field_clocks = clocks
        member.save(update_fields=[*changed, "field_clocks"])
        _survivor_write(member=member, fields=changed, stamp=(event.hlc, event.origin))
    return member


# ---------------------------------------------------------------- last-writer-wins and merges


def stamp_newer(stamp: tuple[int, str], current: Any) -> bool:
    """Whether a write stamped ``(hlc, origin)`` beats the field's current stamp (LWW order)."""
    if not current:
        return True
    return (int(stamp[0]), str(stamp[1])) > (int(current[0]), str(current[1]))


def member_fields_lww(member: Member, fields: dict[str, Any], stamp: tuple[int, str]) -> list[str]:
    """Set on ``member`` (not saved) each field whose current stamp ``stamp`` beats; returns their names."""
    clocks = dict(member.field_clocks or {})
    won = [name for name in fields if stamp_newer(stamp, clocks.get(name))]
    for name in won:
        setattr(member, name, fields[name])
        clocks[name] = [int(stamp[0]), str(stamp[1])]
    member.field_clocks = clocks
    return won


def _survivor_write(*, member: Member, fields: dict[str, Any], stamp: tuple[int, str]) -> None:
    """A write addressed to a merged member also lands on its survivor, by the same LWW rule."""
    # Read afresh: the caller's row may predate a merge applied since (a till's member on screen).
    survivor_id = Member.objects.filter(pk=member.pk).values_list("merged_into", flat=True).first()
    if not survivor_id:
        return
    carried = {k: v for k, v in fields.items() if k in MERGED_PROFILE_FIELDS}
    survivor = Member.objects.select_for_update().get(pk=survivor_id)
    won = member_fields_lww(survivor, carried, stamp)
    if won:
        survivor.save(update_fields=[*won, "field_clocks"])


def member_profile_write(*, member: Member, fields: dict[str, Any], stamp: tuple[int, str]) -> list[str]:
    """Record a remote profile write addressed to ``member`` (saved): LWW per field on its own row,
    and when it was merged, on its survivor too. Returns the fields that won on the member's row."""
    won = member_fields_lww(member, fields, stamp)
    if won:
        member.save(update_fields=[*won, "field_clocks"])
    _survivor_write(member=member, fields=fields, stamp=stamp)
    return won


def member_merge_profile(*, survivor: Member, loser: Member) -> dict[str, Any]:
    """The survivor's profile after a merge (what ``member.merged`` carries): its own fields, each
    empty name, phone or e-mail filled from the loser, and each consent as whichever of the two was
    written last. Never the card: each member keeps its own, and the loser's finds the survivor."""
    fields: dict[str, Any] = {name: getattr(survivor, name) or getattr(loser, name) for name in _TEXT_FIELDS}
    for name in _CONSENTS:
        theirs, ours = (loser.field_clocks or {}).get(name), (survivor.field_clocks or {}).get(name)
        take_loser = bool(theirs) and stamp_newer(theirs, ours)  # an unstamped value is the oldest
        fields[name] = getattr(loser if take_loser else survivor, name)
    return fields


def member_merge_record(
    *, loser_id, survivor_id, fields: dict[str, Any] | None, stamp: tuple[int, str] | None, merged_at=None
) -> Member:
    """Merge ``loser_id`` into ``survivor_id`` at this node without an event (the ``member.merged``
    applier and the snapshot loader; ``member_merge`` appends the event). Returns the survivor.

    Keeps, in whatever order merges and writes arrive: the loser (and any member merged into it)
    points at the survivor, or at the survivor's own survivor; the survivor's profile is the
    last-writer-wins join of the merge's ``fields`` (stamped ``stamp``) and every write of each
    member it absorbs (their rows are folded in by their own field clocks); its balance is the sum
    of the ledger of its merged set and the merged members hold 0. No entry or sale is touched.
    Applying the same merge again changes nothing. Raises ``Member.DoesNotExist`` for an unknown
    member and ``Invalid`` (``merge_conflict``) for a merge that contradicts one applied here.
    """
    loser = Member.objects.get(pk=loser_id)
    survivor = Member.objects.get(pk=survivor_id)
    if survivor.merged_into_id:
        survivor = Member.objects.get(pk=survivor.merged_into_id)
    if survivor.pk == loser.pk or loser.merged_into_id not in (None, survivor.pk):
        raise Invalid(
            f"member {loser.number} cannot be merged into {survivor.number} here", code="merge_conflict"
        )
    if fields and stamp is not None:
        member_fields_lww(survivor, {k: v for k, v in fields.items() if k in MERGED_PROFILE_FIELDS}, stamp)
    member_absorb(loser=loser, survivor=survivor, merged_at=merged_at)  # saves the survivor
    ledger = PointsEntry.objects.filter(merged_set(member_id=survivor.pk))
    survivor.points_balance = ledger.aggregate(s=Sum("points"))["s"] or 0
    Member.objects.filter(pk=survivor.pk).update(points_balance=survivor.points_balance)
    Member.objects.filter(merged_into=survivor).update(points_balance=0)
    return survivor


def member_absorb(*, loser: Member, survivor: Member, merged_at=None) -> None:
    """Point ``loser`` and the members merged into it at ``survivor`` and fold their profiles into the
    survivor's by their own field clocks (saved). Balances are the caller's to recompute."""
    absorbed = [loser, *Member.objects.filter(merged_into=loser)]
    Member.objects.filter(merged_into=loser).update(merged_into=survivor)
    Member.objects.filter(pk=loser.pk).update(merged_into=survivor, merged_at=loser.merged_at or merged_at)
    loser.merged_into = survivor
    for member in absorbed:
        for name in MERGED_PROFILE_FIELDS:
            clock = (member.field_clocks or {}).get(name)
            if clock:
                member_fields_lww(survivor, {name: getattr(member, name)}, (int(clock[0]), str(clock[1])))
    survivor.save(update_fields=[*MERGED_PROFILE_FIELDS, "field_clocks"])


def member_merge(*, loser: Member, survivor: Member, by: str = "") -> Member:
    """Head office merges two members into one identity, with ``member.merged`` in the same transaction.

    Both must exist and neither be merged already (409 ``member_merged``); a member is not merged into
    itself (400 ``merge_self``). The survivor keeps its number and card and takes the merged profile
    (``member_merge_profile``); the loser's card and number keep working and find the survivor.
    Returns the survivor with its new balance.
    """
    if loser.pk == survivor.pk:
        raise Invalid("a member cannot be merged into itself", code="merge_self")
    with transaction.atomic():
        rows = Member.objects.select_for_update().in_bulk([loser.pk, survivor.pk])
        loser, survivor = rows[loser.pk], rows[survivor.pk]
        for member in (loser, survivor):
            if member.merged_into_id:
                raise DomainError(f"member {member.number} is already merged", code="member_merged")
        fields = member_merge_profile(survivor=survivor, loser=loser)
        now = timezone.now()
        event = event_append(
            type="member.merged",
            payload={
                "id": loser.id,
                "number": loser.number,
                "survivor_id": survivor.id,
                "survivor_number": survivor.number,
                "fields": fields,
                "merged_at": now,
                "by": by,
            },
        )
        return member_merge_record(
            loser_id=loser.pk,
            survivor_id=survivor.pk,
            fields=fields,
            stamp=(event.hlc, event.origin),
            merged_at=now,
        )
