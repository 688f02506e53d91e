"""DRF's JSON rendering and content negotiation, with the same answers in less time.

The till's hot responses are plain JSON (``sale_json``: dicts of strings, numbers, booleans and
lists) rendered after every scan; DRF renders them with the standard library's encoder and parses
the ``Accept`` header anew on every request. Here:

* ``JSONRenderer`` renders ``PlainData`` with orjson (the same bytes: compact, UTF-8, U+2028/2029
  escaped) and hands anything else (serializer output, errors, Decimals, dates, an indent asked
  for) to DRF's renderer unchanged;
* ``ContentNegotiation`` remembers DRF's choice of renderer per ``Accept`` header and renderer
  list (it is a pure function of them), so a terminal sending the same header gets the same
  renderer without the parse; a ``?format=`` and anything refused still go through DRF.
"""

from __future__ import annotations

import orjson
from rest_framework import renderers
from rest_framework.negotiation import DefaultContentNegotiation


class PlainData(dict):
    """A response body made of str, int, bool, None, UUID, and lists and dicts (str keys) of them,
    with no float: orjson writes those exactly as DRF's encoder does (a float it may write in
    another exponent form, 1.5e-7 for 1.5e-07, so floats are not allowed here)."""


_PLAIN_ONLY = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _not_plain(value):
    raise TypeError(f"{type(value).__name__} is not plain JSON")


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not isinstance(data, PlainData) or self.get_indent(accepted_media_type, renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            # A Decimal, date or other object that slipped in raises: DRF renders it as before.
            ret = orjson.dumps(data, default=_not_plain, option=_PLAIN_ONLY)
        except (TypeError, orjson.JSONEncodeError):
            return super().render(data, accepted_media_type, renderer_context)
        return ret.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")


class ContentNegotiation(DefaultContentNegotiation):
    _MAX_REMEMBERED = 64

    def select_renderer(self, request, renderers, format_suffix=None):
        if format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE):
            return super().select_renderer(request, renderers, format_suffix)
        key = (request.META.get("HTTP_ACCEPT", "*/*"), tuple(type(r) for r in renderers))
        chosen = _CHOSEN.get(key)
        if chosen is None:
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            if len(_CHOSEN) < self._MAX_REMEMBERED:
                _CHOSEN[key] = (renderers.index(renderer), media_type)
            return renderer, media_type
        index, media_type = chosen
        return renderers[index], media_type


# Per process: DRF makes a new negotiator for every request.
_CHOSEN: dict = {}
