"""The Redis channel layer keeps an idle consumer's wait open (the stores' nudge sockets) and lets a
closed socket's consumer end when it is cancelled."""

import asyncio

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from retail.settings_common import channel_layers

needs_redis = pytest.mark.skipif(
    not settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis"),
    reason="needs Redis: runs in CI's cloud suite on PostgreSQL and Redis (REDIS_URL)",
)


def test_the_redis_layer_reads_without_a_timeout_and_notices_a_dead_redis_by_keepalive():
    host = channel_layers("redis://127.0.0.1:6379/0")["default"]["CONFIG"]["hosts"][0]
    # a read timeout either cut idle consumers' 5 s BZPOPMIN short (redis-py 8's default of 5 s) or,
    # on Python 3.11, put every send inside asyncio.wait_for, which can swallow a cancellation
    assert host["socket_timeout"] is None
    assert host["socket_keepalive"] is True and host["socket_keepalive_options"]


def _own_layer() -> RedisChannelLayer:
    # A layer of its own, built from the settings' configuration: the waits below are cancelled
    # mid-command, and the process's shared layer (other tests' consumers) must not see that.
    return RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])


@needs_redis
def test_an_idle_consumer_waits_on_redis_past_redis_pys_default_read_timeout():
    async def wait_idle() -> str:
        layer = _own_layer()
        channel = await layer.new_channel()
        try:
            # nothing is sent: the wait must end by our timeout, not by redis-py's TimeoutError
            await asyncio.wait_for(layer.receive(channel), timeout=RedisChannelLayer.brpop_timeout + 2)
        except TimeoutError:
            return "still waiting"
        return "received"

    assert asyncio.run(wait_idle()) == "still waiting"


@needs_redis
def test_a_waiting_receive_ends_when_cancelled_at_any_step_of_its_commands():
    # channels cancels a consumer's receive() when its socket closes (OriginValidator's denier,
    # daphne on disconnect). Cancelling after 0, 1, 2, ... loop steps lands the cancellation at every
    # point of the EVAL and BZPOPMIN sends and reads; with a read timeout configured, redis-py's
    # asyncio.wait_for around each send swallowed it at some of them (steps 9-11, 21, 24 here) and
    # the receive looped on BZPOPMIN for ever.
    async def sweep() -> list[int]:
        layer = _own_layer()
        never_ended = []
        for steps in range(60):
            receive = asyncio.ensure_future(layer.receive(await layer.new_channel()))
            for _ in range(steps):
                await asyncio.sleep(0)
            receive.cancel()
            done, _ = await asyncio.wait([receive], timeout=2)
            if not done:
                never_ended.append(steps)
                receive.cancel()  # let the run end; the cancellation was lost once already
                await asyncio.wait([receive], timeout=RedisChannelLayer.brpop_timeout + 2)
        await layer.flush()
        return never_ended

    assert asyncio.run(sweep()) == []
