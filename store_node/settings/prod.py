"""Production store node: still SQLite (WAL, IMMEDIATE) on the store's own machine, behind its LAN."""

from store_node.settings.base import *  # noqa: F403
from store_node.settings.base import env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
# A store serves its LAN over plain HTTP unless a proxy terminates TLS; say so explicitly per store.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
