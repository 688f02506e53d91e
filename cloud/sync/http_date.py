"""Every answer of the cloud carries a ``Date`` header (RFC 9110 §6.6.1: an origin server with a
clock must send one). daphne sends none, and stores read head office's clock from it to tell their
staff when a till's clock is off (docs/sync-protocol.md §4)."""

from __future__ import annotations

from django.utils.http import http_date


class DateHeaderMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Date" not in response:
            response["Date"] = http_date()
        return response
