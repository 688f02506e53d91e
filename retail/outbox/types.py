"""Every event type a node may append, with its current schema version.

docs/events.md describes each payload; a test checks the two lists agree.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str
    schema: int
    summary: str


EVENT_TYPES: dict[str, EventType] = {
    e.name: e
    for e in [
        EventType(
            "sale.completed", 1, "A sale or return was completed at a till, with lines, taxes and tenders."
        ),
        EventType("sale.cancelled", 1, "An open sale was cancelled before payment."),
        EventType("stock.moved", 1, "A signed stock movement of one product at one store."),
        EventType("stock.counted", 1, "A stock count: counted quantity, book quantity and their difference."),
        EventType("member.created", 1, "A new member, with the fields given at creation."),
        EventType("member.updated", 1, "Changed member profile fields, each stamped for last-writer-wins."),
        EventType(
            "member.merged",
            1,
            "Head office merged a duplicate member into a survivor: one balance, one profile (head office only).",
        ),
        EventType("points.posted", 1, "A signed points ledger entry of a member."),
        EventType(
            "stock.levels",
            1,
            "On hand of products of one store that its pushes moved, for its region's look-up (head office only).",
        ),
        EventType(
            "points.balances",
            1,
            "Balances of members that stores' pushes moved, with each store's acknowledged seq (head office only).",
        ),
        EventType("product.updated", 1, "A product's master data and barcodes (head office only)."),
        EventType(
            "price.set", 1, "A price from a moment on, chain-wide or for one store (head office only)."
        ),
        EventType("tax.rate_set", 1, "A tax rate of a tax class from a moment on (head office only)."),
        EventType("shift.opened", 1, "A cashier opened a shift with an opening float."),
        EventType("shift.cash_moved", 1, "Cash paid in or out of a drawer, with the reason."),
        EventType("shift.closed", 1, "A shift was closed with counted cash; carries its Z report."),
        EventType("store.updated", 1, "A store's details (head office only)."),
        EventType("terminal.updated", 1, "A terminal's details and device addresses."),
        EventType("staff.updated", 1, "A member of staff: role, home store, PIN hash (head office only)."),
        EventType("order.placed", 1, "An online order to pick up at one store (head office only)."),
        EventType(
            "order.status_changed", 1, "An online order moved to a new status, at the cloud or its store."
        ),
        EventType(
            "transfer.sent", 1, "Head office dispatched a stock transfer between two stores, with its lines."
        ),
        EventType(
            "transfer.received", 1, "The receiving store counted a transfer in: what arrived of each line."
        ),
    ]
}
