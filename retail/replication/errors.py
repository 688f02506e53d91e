"""Why an event could not be applied. Each reason is a stable code used in quarantine rows and the spec."""

from __future__ import annotations

UNKNOWN_TYPE = "unknown_type"
UNKNOWN_SCHEMA = "unknown_schema"
INVALID_PAYLOAD = "invalid_payload"
MISSING_REFERENCE = "missing_reference"
CLOCK_SKEW = "clock_skew"
UNIQUE_CONFLICT = "unique_conflict"
NOT_OWNER = "not_owner"

REASONS = {
    UNKNOWN_TYPE: "The event type is not one this node knows.",
    UNKNOWN_SCHEMA: "The event's schema version is newer than this node understands.",
    INVALID_PAYLOAD: "The payload is missing fields or has values of the wrong shape.",
    MISSING_REFERENCE: "The payload names a row (store, product, member, shift ...) this node does not have.",
    CLOCK_SKEW: "The event's clock is further ahead of the receiver's than the trusted bound.",
    UNIQUE_CONFLICT: "Applying it would give two rows the same unique key (member number, SKU ...).",
    NOT_OWNER: "The origin may not write this type (the catalog belongs to head office).",
}


class ApplyRefused(Exception):
    """A poison event: applying it failed for a reason that retrying will not fix."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def quarantine_fields(env, refused: ApplyRefused) -> dict:
    """The columns a quarantine row keeps of a refused event, at either node: the whole envelope
    (so it can be applied again later) and why it was refused."""
    return dict(
        event_id=env.id,
        origin=env.origin,
        seq=env.seq,
        hlc=env.hlc,
        type=env.type,
        schema=env.schema,
        payload=env.payload,
        reason=refused.reason,
        detail=refused.detail,
    )
