"""Authentication and rate limiting of integrations by API key."""

from __future__ import annotations

import time

from django.core.cache import cache
from rest_framework import authentication, exceptions, throttling

from cloud.api.selectors import api_key_authenticate

HEADER = "X-Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``X-Api-Key: ot_<prefix>_<secret>`` (or ``Authorization: Api-Key ...``); the key is the principal."""

    def authenticate(self, request):
        presented = request.headers.get(HEADER, "")
        if not presented:
            scheme, _, value = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "api-key":
                return None
            presented = value
        key = api_key_authenticate(presented=presented.strip())
        if key is None:
            raise exceptions.AuthenticationFailed("unknown or revoked API key", code="api_key_invalid")
        return key, key

    def authenticate_header(self, request):
        return "Api-Key"  # makes DRF answer 401 (not 403) when the key is missing


class HasApiKey:
    def has_permission(self, request, view):
        return request.auth is not None

    def has_object_permission(self, request, view, obj):
        return True


class ApiKeyRateThrottle(throttling.BaseThrottle):
    """Fixed one-minute windows counted in the shared cache (Redis in production), per key.

    ``incr`` is atomic in Redis, so every cloud process counts against the same budget.
    """

    window = 60

    def allow_request(self, request, view):
        key = request.auth
        if key is None:
            return True
        now = time.time()
        self._reset_in = self.window - now % self.window
        bucket = f"omni-api:rate:{key.pk}:{int(now // self.window)}"
        cache.add(bucket, 0, timeout=self.window * 2)
        try:
            count = cache.incr(bucket)
        except ValueError:  # evicted between add and incr
            cache.set(bucket, 1, timeout=self.window * 2)
            count = 1
        return count <= key.rate_limit_per_minute

    def wait(self):
        return self._reset_in
