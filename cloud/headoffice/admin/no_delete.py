"""What nobody deletes in the admin: rows stores or ledgers hold.

There is no event for a delete, so a sale, movement, level, product, price, member, store or member
of staff deleted at the cloud would stay at every store, and the cloud's ledgers would stop adding
up (on hand no longer the sum of the movements, figures no longer the sum of the sales). A fact is
corrected by a new fact (a return, a count, a later price); master data is deactivated (``active``,
``is_active``) and that change is an event. Not even a superuser deletes here.
"""


class NoDeleteMixin:
    def has_delete_permission(self, request, obj=None):
        return False
