"""Event payloads on admin pages (the cloud's and a store's), with their secrets redacted
(``retail.outbox.redaction``)."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from retail.outbox.redaction import payload_redacted


class RedactedPayloadMixin:
    """Shows ``payload`` as indented JSON with secrets (a PIN hash, say) redacted, for every role;
    the raw field is never on the page."""

    exclude = ["payload"]

    def get_readonly_fields(self, request, obj=None):
        fields = [f for f in super().get_readonly_fields(request, obj) if f != "payload"]
        return [*fields, "payload_shown"]

    @admin.display(description="payload")
    def payload_shown(self, obj):
        shown = json.dumps(payload_redacted(obj.payload), indent=2, ensure_ascii=False, sort_keys=True)
        return format_html("<pre>{}</pre>", shown)
