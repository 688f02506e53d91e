"""Event-log replication shared by both roles: wire formats, appliers, merge rules, upcasters.

The protocol is specified in docs/sync-protocol.md; this package is the part of it that does not
depend on which side of the wire runs it. ``cloud.sync`` and ``store_node.sync`` drive it.
"""
