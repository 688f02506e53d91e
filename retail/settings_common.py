"""Settings both roles share. Each role's ``settings/base.py`` imports from here and adds its own."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DOMAIN_APPS = [
    "retail.stores.apps.StoresConfig",
    "retail.staff.apps.StaffConfig",
    "retail.catalog.apps.CatalogConfig",
    "retail.members.apps.MembersConfig",
    "retail.stock.apps.StockConfig",
    "retail.shifts.apps.ShiftsConfig",
    "retail.sales.apps.SalesConfig",
    "retail.audit.apps.AuditConfig",
    "retail.outbox.apps.OutboxConfig",
    "retail.demo.apps.DemoConfig",
]

# daphne's app makes ``runserver`` serve ASGI (HTTP and WebSocket) through daphne. Loading it imports
# Twisted (0.6 s on a 2-core machine of ours), so only ``runserver`` gets it: every other command
# (a store's ``sync --once``, the tests' many ``manage.py`` runs) starts that much sooner. The
# served processes run the daphne server itself, which needs no app.
RUNSERVER = sys.argv[1:2] == ["runserver"]

DJANGO_APPS = [
    *(["daphne"] if RUNSERVER else []),
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "retail.middleware_mode.OneThreadMiddleware",  # innermost: the chain runs in one thread (see it)
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

AUTH_USER_MODEL = "staff.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "retail.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "retail.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Deployment-wide retail rules (docs/money.md).
PRICES_INCLUDE_TAX = env.bool("PRICES_INCLUDE_TAX", default=True)
CURRENCY = env.str("CURRENCY", default="EUR")
CASH_ROUNDING_INCREMENT = env.str("CASH_ROUNDING_INCREMENT", default="0.05")


def channel_layers(redis_url: str | None, *, max_connections: int = 1000) -> dict:
    """Redis for the channel layer when a URL is given, else the in-memory layer (one process).

    ``max_connections``: the size of each process's Redis connection pool. redis-py's asyncio pool
    holds 100 by default and then raises ``MaxConnectionsError`` at once instead of waiting: 250
    stores' nudge sockets joining their group together on one worker (the 500-store fleet coming
    back) took more than that. Redis itself accepts 10,000 clients.

    ``socket_timeout``: none. A consumer waits for its messages with a blocking ``BZPOPMIN`` of
    ``RedisChannelLayer.brpop_timeout`` (5 s), so redis-py 8's default read timeout of 5 s made an
    idle consumer's wait raise ``TimeoutError`` and daphne close its WebSocket (django/channels_redis
    #422). Any read timeout at all is worse on Python 3.11: redis-py then sends each command inside
    ``asyncio.wait_for``, which swallows a cancellation that lands just as the send completes
    (CPython gh-86296, fixed in 3.12; redis/redis-py#2028). The consumer of a closed socket then
    never ends: its ``receive()`` loops on ``BZPOPMIN`` for ever, one leaked task per closed socket,
    and an ``asyncio.run`` waiting for it never returns (a CI run hung on this). So no read timeout;
    a dead Redis is noticed by TCP keepalive instead: after 10 s of silence, 3 probes 5 s apart."""
    if redis_url:
        host = {
            "address": redis_url,
            "max_connections": max_connections,
            "socket_timeout": None,
            "socket_keepalive": True,
            "socket_keepalive_options": {
                socket.TCP_KEEPIDLE: 10,
                socket.TCP_KEEPINTVL: 5,
                socket.TCP_KEEPCNT: 3,
            },
        }
        return {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [host]}}}
    return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def sqlite_database(path: Path | str) -> dict:
    """SQLite the way a till needs it: WAL, IMMEDIATE write transactions, and a generous busy wait.

    IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of one failing with
    'database is locked' halfway through a sale; WAL lets readers go on while a sale commits.
    """
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                "PRAGMA busy_timeout=20000; PRAGMA cache_size=-20000;"
            ),
        },
    }


def logging_config(level: str) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }
