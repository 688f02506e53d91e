import os

from cloud.settings.base import *  # noqa: F403
from cloud.settings.base import DATABASES, VAR_DIR

DEBUG = False
SYNC_SHARED_PUBLISH_SECONDS = 0.0  # tests see a push's levels and balances at the next pull
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL says so (see .ci/run).
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-cloud-{os.getpid()}.sqlite3")}

# Under pytest-xdist (``-n 2``) each worker process has its own database (pytest-django names it
# per worker) and, on Redis, its own key space: two workers' channel groups and cache keys (rate
# limits, import progress) never meet.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER:
    if CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis"):  # noqa: F405
        CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"asgi-{_XDIST_WORKER}"  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = _XDIST_WORKER  # noqa: F405
