"""Row-level scoping: a store manager sees and changes only their own store's rows.

Permissions (``cloud/headoffice/roles.py``) say which kinds of rows a role may view or change;
``StoreScopedMixin`` narrows every list, form and object lookup to the rows of the user's store.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.db.models import Q

from cloud.headoffice.selectors import ALL_STORES, NO_STORE, staff_store_scope
from retail.stores.models import Store


class StoreScopedMixin:
    #: lookup from the model to the store's id, e.g. ``"store"`` or ``"sale__store"``
    store_path = "store"
    #: rows without a store (chain-wide prices) are shown to store managers, read only
    chain_wide_rows_visible = False

    def store_scope(self, request):
        return staff_store_scope(user=request.user)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        scope = self.store_scope(request)
        if scope == ALL_STORES:
            return qs
        if scope == NO_STORE:
            return qs.none()
        condition = Q(**{self.store_path: scope})
        if self.chain_wide_rows_visible:
            condition |= Q(**{f"{self.store_path}__isnull": True})
        return qs.filter(condition)

    def _store_id_of(self, obj):
        *path, last = self.store_path.split("__")
        for part in path:
            obj = getattr(obj, part)
        return obj.pk if last in ("id", "pk") else getattr(obj, f"{last}_id")

    def _owns(self, request, obj) -> bool:
        scope = self.store_scope(request)
        if scope == ALL_STORES:
            return True
        return self._store_id_of(obj) == scope

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or self._owns(request, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or self._owns(request, obj))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = self.store_scope(request)
        if db_field.related_model is Store and scope != ALL_STORES:
            kwargs["queryset"] = Store.objects.filter(pk=scope if scope != NO_STORE else None)
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        """Other stores' names in the filter sidebar would leak what a manager cannot open: for a
        scoped user a filter on the store is dropped, and a filter on any other relation (a sale's
        terminal) offers only the related rows of the scoped list (``RelatedOnlyFieldListFilter``)."""
        filters = super().get_list_filter(request)
        if self.store_scope(request) == ALL_STORES:
            return filters
        scoped = []
        for list_filter in filters:
            if isinstance(list_filter, str):
                name = list_filter
            elif isinstance(list_filter, (list, tuple)) and list_filter[1] is admin.RelatedFieldListFilter:
                name = list_filter[0]
            else:  # a filter class of the admin's own, or one with no other rows to offer
                scoped.append(list_filter)
                continue
            field = get_fields_from_path(self.model, name)[-1]
            if not field.is_relation:
                scoped.append(list_filter)
            elif field.related_model is not Store:
                scoped.append((name, admin.RelatedOnlyFieldListFilter))
        return scoped
