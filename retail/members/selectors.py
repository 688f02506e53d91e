from django.db.models import Q, Sum

from retail.members.models import Member, PointsEntry


def member_find(*, query: str) -> Member | None:
    """A member by card barcode, member number or phone, in that order of preference."""
    query = query.strip()
    if not query:
        return None
    return (
        Member.objects.filter(
            Q(card_barcode=query) | Q(number=query) | Q(phone=query), merged_into__isnull=True
        )
        .order_by("-card_barcode")
        .first()
    )


def points_ledger_sum(*, member_id) -> int:
    return PointsEntry.objects.filter(member_id=member_id).aggregate(s=Sum("points"))["s"] or 0
