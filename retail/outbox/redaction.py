"""Secrets in event payloads, hidden wherever a payload is shown to a person (the admin pages).

The events themselves keep them: a ``staff.updated`` carries the PIN hash because a store checks
PINs offline. Only the displayed copy is redacted.
"""

from __future__ import annotations

REDACTED = "[redacted]"

# Keys whose values are secrets or their hashes, in any payload at any depth.
SECRET_KEYS = frozenset({"password", "pin", "secret", "token"})
SECRET_SUFFIXES = ("_hash", "_secret", "_token", "_password")


def is_secret_key(key: str) -> bool:
    key = key.lower()
    return key in SECRET_KEYS or key.endswith(SECRET_SUFFIXES)


def payload_redacted(payload):
    """A copy of ``payload`` with the value of every secret key replaced by ``REDACTED``."""
    if isinstance(payload, dict):
        return {
            key: REDACTED if is_secret_key(str(key)) and value not in (None, "") else payload_redacted(value)
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [payload_redacted(item) for item in payload]
    return payload
