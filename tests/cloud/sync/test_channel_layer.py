"""The Redis channel layer keeps an idle consumer's wait open (the stores' nudge sockets)."""

import asyncio

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from retail.settings_common import channel_layers


def test_the_redis_layers_read_timeout_outlasts_its_blocking_wait_for_messages():
    host = channel_layers("redis://127.0.0.1:6379/0")["default"]["CONFIG"]["hosts"][0]
    # redis-py 8's default read timeout (5 s) equals the layer's BZPOPMIN wait: an idle consumer's
    # read then timed out and its WebSocket was closed
    assert host["socket_timeout"] > RedisChannelLayer.brpop_timeout


@pytest.mark.skipif(
    not settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis"),
    reason="needs Redis: runs in CI's cloud suite on PostgreSQL and Redis (REDIS_URL)",
)
def test_an_idle_consumer_waits_on_redis_past_redis_pys_default_read_timeout():
    async def wait_idle() -> str:
        # A layer of its own, built from the settings' configuration: the wait below is cancelled
        # mid-read, and the process's shared layer (other tests' consumers) must not see that.
        layer = RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
        channel = await layer.new_channel()
        try:
            # nothing is sent: the wait must end by our timeout, not by redis-py's TimeoutError
            await asyncio.wait_for(layer.receive(channel), timeout=RedisChannelLayer.brpop_timeout + 2)
        except TimeoutError:
            return "still waiting"
        return "received"

    assert asyncio.run(wait_idle()) == "still waiting"
