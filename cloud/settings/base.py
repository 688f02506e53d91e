"""The cloud: head office admin, the omnichannel API and the sync endpoint for all stores."""

from retail.roles import assert_settings_role
from retail.settings_common import *  # noqa: F403
from retail.settings_common import (
    DJANGO_APPS,
    DOMAIN_APPS,
    VAR_DIR,
    channel_layers,
    env,
    logging_config,
    sqlite_database,
)
from retail.settings_common import MIDDLEWARE as COMMON_MIDDLEWARE

assert_settings_role("cloud")

POS_ROLE = "cloud"
NODE_ORIGIN = "cloud"

MIDDLEWARE = ["cloud.sync.http_date.DateHeaderMiddleware", *COMMON_MIDDLEWARE]

SECRET_KEY = env.str("SECRET_KEY", default="dev-only-cloud-secret-key-change-me-in-production-0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    *DJANGO_APPS,
    *DOMAIN_APPS,
    "cloud.headoffice.apps.HeadOfficeConfig",
    "cloud.reporting.apps.ReportingConfig",
    "cloud.api.apps.OmniApiConfig",
    "cloud.sync.apps.CloudSyncConfig",
    "cloud.transfers.apps.TransfersConfig",
]

# A staff member's role grants the permissions of its head-office group (cloud/headoffice/roles.py).
AUTHENTICATION_BACKENDS = ["cloud.headoffice.roles.RolePermissionBackend"]

ROOT_URLCONF = "cloud.urls"
ASGI_APPLICATION = "cloud.asgi.application"
WSGI_APPLICATION = None

# PostgreSQL in production (DATABASE_URL); with nothing set, a WAL SQLite file under var/.
DATABASES = {
    "default": env.db("DATABASE_URL")
    if env.str("DATABASE_URL", default="")
    else sqlite_database(VAR_DIR / "cloud.sqlite3")
}
CHANNEL_LAYERS = channel_layers(env.str("REDIS_URL", default="") or None)
# Threads serving HTTP in each daphne worker (retail/asgi_http.py). On PostgreSQL requests wait on the
# database, so a few (at most the worker's connection pool, DB_POOL_MAX in production), but few: they
# share the worker's GIL with its event loop (the sockets, the HTTP parsing). The 500-store fleet did
# best with 3 (p99 12,206.5 ms, storm 144.0 s; with 8: 16,674.3 ms, 196.2 s; docs/production.md).
# On SQLite (the demo, the system tests) one, as at a store: SQLite has one writer, and a second
# thread's writes only wait in its busy handler.
CLOUD_HTTP_THREADS = env.int(
    "CLOUD_HTTP_THREADS", default=1 if DATABASES["default"]["ENGINE"].endswith("sqlite3") else 3
)
CACHES = {
    "default": env.cache("CACHE_URL", default="locmemcache://cloud")
    if not env.str("REDIS_URL", default="")
    else {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env.str("REDIS_URL")}
}

STATIC_ROOT = VAR_DIR / "static" / "cloud"
LOGGING = logging_config(env.str("LOG_LEVEL", default="INFO"))
# How often, at most, a pull publishes the stock levels and points balances stores' pushes moved
# (cloud.sync.shared_state): other stores learn them that much later at worst, and a chain of 500
# stores gets a few events per interval instead of every sale's lines.
SYNC_SHARED_PUBLISH_SECONDS = env.float("SYNC_SHARED_PUBLISH_SECONDS", default=10.0)

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,  # noqa: F405
    "TITLE": "Omnitill cloud API",
    "DESCRIPTION": "Head office, the web shop and store sync. Errors are {detail, code} with a 4xx.",
    "VERSION": "1",
    # Two "status" choice sets in the omnichannel API (cloud/api): name them rather than hash them.
    "ENUM_NAME_OVERRIDES": {
        "StockStatusEnum": ["in_stock", "low", "out"],
        "OrderStatusEnum": "cloud.api.models.OrderStatus",
    },
}
