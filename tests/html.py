"""Helpers for asserting on rendered pages."""

import re

# Django's CSRF tokens (64 random letters and digits) in forms and meta tags: random text that can
# hold any short code ("S02") by chance, so pages are searched without them.
_TOKENS = re.compile(r'(name="csrfmiddlewaretoken" value="|name="csrf-token" content=")[A-Za-z0-9]+"')


def without_tokens(html: str) -> str:
    return _TOKENS.sub(r'\1"', html)
