import os

from store_node.settings.base import *  # noqa: F403
from store_node.settings.base import DATABASES, VAR_DIR

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A file, not :memory:, so tests with several threads or processes share one real WAL database.
DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-store-{os.getpid()}.sqlite3")}
