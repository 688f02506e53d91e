"""Django admin for head office, one module per concern."""

from cloud.headoffice.admin import catalog, members, outbox, sales, staff, stock, stores  # noqa: F401
