"""Store authentication for the sync API: ``Authorization: Bearer <key_id>.<secret>``."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from cloud.sync.selectors import credential_authenticate


class StorePrincipal:
    """The authenticated caller of a sync request: one enrolled store."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, credential):
        self.credential = credential
        self.store = credential.store

    def __str__(self) -> str:
        return f"store {self.store.code}"


class StoreCredentialAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        credential, problem = credential_authenticate(token=header[len("Bearer ") :].strip())
        if credential is None:
            raise exceptions.AuthenticationFailed(problem[1], code=problem[0])
        return StorePrincipal(credential), credential

    def authenticate_header(self, request):
        return 'Bearer realm="omnitill-sync"'


class IsEnrolledStore(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.user, StorePrincipal)


class StoreCredentialScheme(OpenApiAuthenticationExtension):
    """Documents the store credential in the OpenAPI schema (security scheme ``storeCredential``)."""

    target_class = "cloud.sync.auth.StoreCredentialAuthentication"
    name = "storeCredential"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "<key_id>.<secret>"}
