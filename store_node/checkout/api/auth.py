"""``Authorization: Terminal <token>``: a staff member logged in on a terminal with their PIN."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.views import APIView

from store_node.checkout.selectors import terminal_session_get

KEYWORD = "Terminal"


class TerminalAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace") != KEYWORD:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header: give 'Terminal <token>'")
        session = terminal_session_get(token=header[1].decode(errors="replace"))
        if session is None:
            raise exceptions.AuthenticationFailed(
                "The terminal session ended or expired: log in again with your PIN"
            )
        return session.user, session

    def authenticate_header(self, request):
        return KEYWORD


class TerminalAuthScheme(OpenApiAuthenticationExtension):
    target_class = "store_node.checkout.api.auth.TerminalAuthentication"
    name = "terminalSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Terminal <token>` from POST /api/checkout/terminal/login",
        }


class HasTerminalSession(permissions.BasePermission):
    message = "Log in on the terminal with your PIN first"

    def has_permission(self, request, view):
        return request.auth is not None and hasattr(request.auth, "terminal")


class TerminalApi(APIView):
    """Base of every till operation: ``self.terminal`` and ``self.cashier`` come from the session."""

    authentication_classes = [TerminalAuthentication]
    permission_classes = [HasTerminalSession]

    @property
    def session(self):
        return self.request.auth

    @property
    def terminal(self):
        return self.request.auth.terminal

    @property
    def cashier(self):
        return self.request.auth.user
