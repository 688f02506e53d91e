"""Member and points writes. Invariant: Member.points_balance == sum of the member's PointsEntry.points."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from retail.api_errors import Invalid
from retail.members.models import Member, PointsEntry, PointsKind
from retail.outbox.services import event_append, node_origin

_SIGNS = {PointsKind.EARN: 1, PointsKind.REDEEM: -1, PointsKind.EXPIRE: -1}


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
    """Write one ledger entry and move the balance with it, without an event (sync applies use this)."""
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
        Member.objects.filter(pk=member_id).update(points_balance=F("points_balance") + points)
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
    """Change profile fields; each changed field is stamped with this event's clock for LWW merges."""
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
    return member
