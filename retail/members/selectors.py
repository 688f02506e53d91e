from django.db.models import Q, Sum

from retail.members.models import Member, PointsEntry


def member_find(*, query: str) -> Member | None:
    """A member by card barcode, member number or phone, in that order of preference.

    A merged member's card or number finds its survivor (``merged_into`` is never itself merged),
    so a card issued before a merge keeps working at every till.
    """
    query = query.strip()
    if not query:
        return None
    found = list(
        Member.objects.filter(Q(card_barcode=query) | Q(number=query) | Q(phone=query)).select_related(
            "merged_into"
        )[:20]
    )
    if not found:
        return None

    def preference(member: Member) -> tuple:
        how = 0 if member.card_barcode == query else 1 if member.number == query else 2
        return (how, member.merged_into_id is not None, member.number)

    member = min(found, key=preference)
    return member.merged_into if member.merged_into_id else member


def member_survivor_id(*, member_id):
    """The id of the member whose balance and profile ``member_id``'s writes reach (itself, unless merged)."""
    merged_into = Member.objects.filter(pk=member_id).values_list("merged_into", flat=True).first()
    return merged_into or member_id


def merged_set(*, member_id, path: str = "member") -> Q:
    """Rows (by ``path`` to their member) of ``member_id`` and of every member merged into it.

    A semi-join on the member ids (``IN (SELECT …)``), so the rows are found through their member index.
    """
    members = Member.objects.filter(Q(pk=member_id) | Q(merged_into=member_id)).values("pk")
    return Q(**{f"{path}_id__in": members})


def points_ledger_sum(*, member_id) -> int:
    return PointsEntry.objects.filter(member_id=member_id).aggregate(s=Sum("points"))["s"] or 0
