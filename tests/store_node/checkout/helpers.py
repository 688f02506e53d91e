"""Small helpers for checkout tests: ring a sale through the services in one call."""

from store_node.checkout.services.sales import sale_add_line, sale_open
from store_node.checkout.services.tenders import sale_complete


def ring(till, *scans, tenders=None, member=None, **line_kw):
    """Open a sale on the till, scan each code (a str, or a (code, quantity) pair) and, when
    ``tenders`` is given, complete it. Returns the sale."""
    from store_node.checkout.services.members import sale_attach_member

    sale = sale_open(terminal=till.terminal, cashier=till.cashier)
    if member is not None:
        sale_attach_member(sale_id=sale.id, terminal=till.terminal, query=member.number)
    for scan in scans:
        code, qty = scan if isinstance(scan, tuple) else (scan, 1)
        sale_add_line(
            sale_id=sale.id, terminal=till.terminal, cashier=till.cashier, scan=code, quantity=qty, **line_kw
        )
    if tenders is not None:
        sale = sale_complete(sale_id=sale.id, terminal=till.terminal, cashier=till.cashier, tenders=tenders)
    sale.refresh_from_db()
    return sale


MILK = "4006381333931"
