"""Primary keys for rows created at any node: UUIDv7, so they sort by creation time and never collide."""

import uuid

import uuid6


def new_id() -> uuid.UUID:
    # A plain uuid.UUID (not the library's subclass) keeps pickling, JSON and DB adapters boring.
    return uuid.UUID(int=uuid6.uuid7().int)
