"""Costs of the serving stack (daphne on Twisted, autobahn for WebSockets) that buy us nothing.

``serving_tune()`` runs in both roles' ASGI modules, which daphne imports before it serves, so it
applies however daphne is started (``python -m daphne``, ``runstore``, the systemd units).

* **Twisted parses every POST body as a form.** ``twisted.web.http.Request`` reads the
  Content-Type of each POST with ``email.message`` (``_parseContentType``) to decide whether to
  parse a urlencoded or multipart body into ``request.args``. daphne never reads ``request.args``:
  it hands the raw body to the ASGI application, and Django parses what it needs. That header
  parsing was about a sixth of daphne's CPU per request (py-spy, a trivial ASGI app under daphne).
  Twisted has a switch for it, ``parsePOSTFormSubmission=False``; daphne does not pass it, so its
  ``WebRequest`` gets it here. The body still goes to the application byte for byte.
* **autobahn pretty-prints its whole configuration on every WebSocket connection.**
  ``WebSocketProtocol._connectionMade`` and ``startHandshake`` call ``pprint.pformat`` for a debug
  line, eagerly, whatever the log level. With hundreds of stores' nudge sockets reconnecting that
  was 7 % of a cloud worker's CPU (py-spy, the 500-store fleet). Here the module's ``pformat``
  becomes a lazy one: the text is made only if the debug line is ever written.
"""

from __future__ import annotations

from pprint import pformat


class LazyPformat:
    """``pprint.pformat(obj)``, computed when (and each time) it is turned into text."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __str__(self) -> str:
        return pformat(self.obj)

    def __repr__(self) -> str:
        return str(self)

    def __format__(self, spec: str) -> str:  # "{attrs}" in a log line's format
        return format(str(self), spec)


def serving_tune() -> None:
    """Apply both changes (idempotent)."""
    from autobahn.websocket import protocol as autobahn_protocol
    from daphne import http_protocol

    request_class = http_protocol.WebRequest
    if not getattr(request_class, "_omnitill_no_form_parsing", False):
        original_init = request_class.__init__

        def __init__(self, channel, *args, **kwargs):
            kwargs.setdefault("parsePOSTFormSubmission", False)  # daphne never reads request.args
            original_init(self, channel, *args, **kwargs)

        request_class.__init__ = __init__
        request_class._omnitill_no_form_parsing = True
    autobahn_protocol.pformat = LazyPformat
