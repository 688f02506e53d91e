"""A store node: the tills, handhelds and devices of one store, on its own SQLite database."""

from retail.roles import assert_settings_role
from retail.settings_common import *  # noqa: F403
from retail.settings_common import (
    DJANGO_APPS,
    DOMAIN_APPS,
    MIDDLEWARE,
    VAR_DIR,
    channel_layers,
    env,
    logging_config,
    sqlite_database,
)

assert_settings_role("store")

POS_ROLE = "store"
STORE_CODE = env.str("STORE_CODE", default="S01")
NODE_ORIGIN = STORE_CODE

SECRET_KEY = env.str("SECRET_KEY", default="dev-only-store-secret-key-change-me-in-production-0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    *DJANGO_APPS,
    "django_htmx",
    *DOMAIN_APPS,
    "store_node.node.apps.NodeConfig",
    "pos_ui.apps.PosUiConfig",
    "store_node.devices.apps.DevicesConfig",
    "store_node.checkout.apps.CheckoutConfig",
    "store_node.orders.apps.StoreOrdersConfig",
    "store_node.transfers.apps.StoreTransfersConfig",
    "store_node.sync.apps.StoreSyncConfig",
    "store_node.fleet.apps.FleetConfig",
]

# Every handheld page (under /h/) needs a staff member signed in with their PIN (pos_ui/handheld_auth.py).
MIDDLEWARE = [*MIDDLEWARE, "pos_ui.handheld_auth.HandheldLoginMiddleware"]
# A handheld is shared: its user is signed out after this long without a request, and at the latest
# this many hours after signing in.
HANDHELD_IDLE_MINUTES = env.float("HANDHELD_IDLE_MINUTES", default=5)
HANDHELD_SESSION_HOURS = env.float("HANDHELD_SESSION_HOURS", default=12)
# A stock count is blind by default: the counting screens do not show the book quantity (the
# review of the differences does). A store whose policy is to count against the book sets this.
HANDHELD_COUNT_SHOWS_BOOK = env.bool("HANDHELD_COUNT_SHOWS_BOOK", default=False)

ROOT_URLCONF = "store_node.urls"
ASGI_APPLICATION = "store_node.asgi.application"
WSGI_APPLICATION = None

DATABASES = {
    "default": sqlite_database(env.str("STORE_DB_PATH", default=str(VAR_DIR / f"store-{STORE_CODE}.sqlite3")))
}
# Django's SQLite backend, converting each statement's placeholders once (retail/db/sqlite3/base.py).
DATABASES["default"]["ENGINE"] = "retail.db.sqlite3"
# WAL checkpoints run on a thread of the process serving the tills, every this many seconds; a
# connection checkpoints inside a commit only once the WAL passes this many pages, as a safety net
# (store_node/node/checkpoint.py).
STORE_WAL_CHECKPOINT_SECONDS = env.float("STORE_WAL_CHECKPOINT_SECONDS", default=1.0)
STORE_WAL_AUTOCHECKPOINT_PAGES = env.int("STORE_WAL_AUTOCHECKPOINT_PAGES", default=10_000)
DATABASES["default"]["OPTIONS"]["init_command"] += (
    f" PRAGMA wal_autocheckpoint={STORE_WAL_AUTOCHECKPOINT_PAGES};"
)
# Keep the SQLite connection between requests (the ASGI handler runs sync views on one thread):
# reconnecting would re-run the WAL pragmas on every scan at the till.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("STORE_DB_CONN_MAX_AGE", default=600)
# The store serves one site on a LAN: one process, the in-memory channel layer is enough.
CHANNEL_LAYERS = channel_layers(env.str("REDIS_URL", default="") or None)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "store"}}

# Where head office lives, and this store's credential (written by `manage.py enroll`).
CLOUD_URL = env.str("CLOUD_URL", default="http://127.0.0.1:8000")

# Devices of terminals that have none set in admin (hardware/addresses.py explains the forms).
DEFAULT_PRINTER_ADDRESS = env.str("PRINTER_ADDRESS", default="virtual://")
DEFAULT_SCANNER_ADDRESS = env.str("SCANNER_ADDRESS", default="")
# The device workers (store_node/devices/conf.py and docs/hardware.md explain each).
PRINT_MAX_ATTEMPTS = env.int("PRINT_MAX_ATTEMPTS", default=10)
PRINT_LEASE_SECONDS = env.float("PRINT_LEASE_SECONDS", default=60.0)
DRAWER_KICK_MAX_AGE_SECONDS = env.float("DRAWER_KICK_MAX_AGE_SECONDS", default=5.0)
PRINTER_STATUS_POLL_SECONDS = env.float("PRINTER_STATUS_POLL_SECONDS", default=5.0)
DEVICES_DIR = env.str("DEVICES_DIR", default=str(VAR_DIR / "devices"))

# The tills' CSS and JS, collected by the store unit before it starts (whitenoise serves them).
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static" / f"store-{STORE_CODE}")
LOGGING = logging_config(env.str("LOG_LEVEL", default="INFO"))

# The same JSON and the same negotiated renderer as DRF's defaults, faster (retail/api_render.py).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_RENDERER_CLASSES": ["retail.api_render.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "retail.api_render.ContentNegotiation",
}
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,  # noqa: F405
    "TITLE": "Omnitill store node API",
    "DESCRIPTION": "The tills and handhelds of one store. Errors are {detail, code} with a 4xx.",
    "VERSION": "1",
}
# Worker threads serving HTTP; each keeps its own SQLite connection (retail/asgi_http.py).
STORE_HTTP_THREADS = env.int("STORE_HTTP_THREADS", default=1)
