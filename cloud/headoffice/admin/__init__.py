"""Django admin for head office, one module per concern."""

from cloud.headoffice.admin import (  # noqa: F401
    api_keys,
    catalog,
    members,
    orders,
    outbox,
    sales,
    shifts,
    staff,
    stock,
    stores,
    transfers,
)
