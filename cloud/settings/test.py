import os

from cloud.settings.base import *  # noqa: F403
from cloud.settings.base import DATABASES, VAR_DIR

DEBUG = False
SYNC_SHARED_PUBLISH_SECONDS = 0.0  # tests see a push's levels and balances at the next pull
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL says so (see .ci/run).
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-cloud-{os.getpid()}.sqlite3")}
