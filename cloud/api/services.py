"""Writes of the omnichannel API: keys, online member registration and points."""

from __future__ import annotations

import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from cloud.api.models import ApiKey, OnlinePointsPosting
from retail.api_errors import DomainError, Invalid
from retail.members.models import Member, PointsEntry, PointsKind
from retail.members.services import member_create, points_post


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, name: str, rate_limit_per_minute: int = 600) -> tuple[ApiKey, str]:
    """A new key for an integration; the returned plain key is shown once and never stored."""
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name, prefix=prefix, secret_hash=secret_hash(secret), rate_limit_per_minute=rate_limit_per_minute
    )
    return key, f"ot_{prefix}_{secret}"


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    from cloud.api.selectors import api_key_forget  # selectors import this module's hash

    api_key_forget(prefix=api_key.prefix)
    return api_key


def _online_member_number() -> str:
    return f"W{secrets.randbelow(10**9):09d}"


def member_register_online(
    *, email: str, phone: str = "", first_name: str = "", last_name: str = "", **consents
):
    """Register a member from the web shop: one identity, whatever channel they come back through.

    Refused (409 ``member_exists``) when a member already has the email or phone: the shop should
    look them up instead of creating a duplicate.
    """
    email = email.strip().lower()
    taken = Member.objects.filter(merged_into__isnull=True, email__iexact=email).exists() or (
        phone and Member.objects.filter(merged_into__isnull=True, phone=phone).exists()
    )
    if taken:
        raise DomainError("a member with this email or phone exists", code="member_exists")
    for _ in range(5):
        try:
            with transaction.atomic():
                return member_create(
                    number=_online_member_number(),
                    email=email,
                    phone=phone,
                    first_name=first_name,
                    last_name=last_name,
                    **consents,
                )
        except IntegrityError:  # the random number was taken: draw again
            continue
    raise DomainError("could not allocate a member number", code="number_exhausted", status_code=503)


def member_points_post_online(
    *, api_key: ApiKey, member: Member, kind: str, points: int, reference: str, reason: str = ""
) -> tuple[PointsEntry, bool]:
    """Earn or redeem points online, once per (key, reference); returns the entry and whether it is new.

    A redemption never takes a balance below zero: the member row is locked (PostgreSQL) while the
    balance is checked and moved, so two concurrent redemptions cannot both spend the same points.
    """
    if kind not in (PointsKind.EARN, PointsKind.REDEEM):
        raise Invalid("kind is earn or redeem", code="points_kind")
    if points <= 0:
        raise Invalid("points must be a positive whole number", code="points_not_positive")
    try:
        return _points_post_once(
            api_key=api_key, member=member, kind=kind, points=points, reference=reference, reason=reason
        )
    except IntegrityError:  # the same reference posted concurrently and committed first: answer with it
        return _points_post_once(
            api_key=api_key, member=member, kind=kind, points=points, reference=reference, reason=reason
        )


def _points_post_once(*, api_key, member, kind, points, reference, reason) -> tuple[PointsEntry, bool]:
    with transaction.atomic():
        done = OnlinePointsPosting.objects.filter(api_key=api_key, reference=reference).select_related(
            "entry"
        )
        for posting in done:
            if posting.entry.member_id != member.id or posting.entry.kind != kind:
                raise DomainError("this reference was used for another posting", code="reference_reused")
            return posting.entry, False
        locked = Member.objects.select_for_update().get(pk=member.pk)
        signed = points if kind == PointsKind.EARN else -points
        if locked.points_balance + signed < 0:
            raise DomainError(
                f"the member has {locked.points_balance} points, {points} asked",
                code="points_insufficient",
                balance=locked.points_balance,
            )
        entry = points_post(
            member_id=member.id, kind=kind, points=signed, reason=reason or f"online {reference}"
        )
        OnlinePointsPosting.objects.create(api_key=api_key, reference=reference, entry=entry)
    return entry, True
