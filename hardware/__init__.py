"""Store hardware: receipt printers, cash drawers and barcode scanners, in plain Python.

No Django here (an import-linter contract enforces it): the store node's print-job table,
Channels consumer and management commands call into this package, never the other way round.
"""
