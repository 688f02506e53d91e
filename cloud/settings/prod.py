"""Production cloud: PostgreSQL, Redis for channels and cache, TLS at nginx in front of daphne."""

from cloud.settings.base import *  # noqa: F403
from cloud.settings.base import env
from retail.settings_common import channel_layers

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# Under ASGI every request and every WebSocket consumer runs its queries on a thread of its own, so
# persistent connections pile up (one per socket): 500 stores' nudge sockets exhaust PostgreSQL's
# max_connections. DB_POOL_MAX > 0 bounds a worker to a psycopg pool of that many (needs CONN_MAX_AGE=0).
if env.int("DB_POOL_MAX", default=0) > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN", default=2),
        "max_size": env.int("DB_POOL_MAX"),
        "timeout": env.int("DB_POOL_TIMEOUT", default=30),
    }
REDIS_URL = env.str("REDIS_URL")
CHANNEL_LAYERS = channel_layers(REDIS_URL, max_connections=env.int("REDIS_MAX_CONNECTIONS", default=1000))
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=8 * 1024 * 1024)
