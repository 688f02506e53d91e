"""Virtual devices for development tills, demos and tests (no hardware needed)."""

from hardware.simulators.printer import (
    DrawerKick,
    VirtualDrawer,
    VirtualPrinter,
    reset_virtual_printers,
    virtual_printer,
)
from hardware.simulators.scanner import VirtualSerialScanner

__all__ = [
    "DrawerKick",
    "VirtualDrawer",
    "VirtualPrinter",
    "VirtualSerialScanner",
    "reset_virtual_printers",
    "virtual_printer",
]
