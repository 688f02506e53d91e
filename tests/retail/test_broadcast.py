import asyncio
import logging

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import InMemoryChannelLayer

from retail.broadcast import group_send_soon


class GatedLayer(InMemoryChannelLayer):
    """An in-memory layer whose group sends wait until the test opens the gate."""

    def __init__(self):
        super().__init__()
        self.gate = asyncio.Event()

    async def group_send(self, group, message):
        await self.gate.wait()
        await super().group_send(group, message)


def test_from_a_served_requests_thread_it_returns_before_the_message_is_sent():
    async def serve():
        layer = GatedLayer()
        channel = await layer.new_channel()
        await layer.group_add("stores", channel)

        def request():  # a sync view on its worker thread, as daphne and Django run it
            group_send_soon("stores", {"type": "sync.more"}, layer=layer)
            return "answered"

        # when the request's thread sends while the serving loop cannot send yet (the gate is shut),
        # then the request still answers: it did not wait for the send
        answer = await asyncio.wait_for(sync_to_async(request, thread_sensitive=False)(), timeout=5)
        assert answer == "answered"
        # and the message goes out once the loop can send it
        layer.gate.set()
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    assert asyncio.run(serve()) == {"type": "sync.more"}


def test_outside_a_served_request_it_sends_at_once():
    layer = InMemoryChannelLayer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("dashboards", channel)
    group_send_soon("dashboards", {"type": "figures.changed"}, layer=layer)
    assert async_to_sync(layer.receive)(channel) == {"type": "figures.changed"}


def test_a_send_that_fails_is_logged_not_raised(caplog):
    class BrokenLayer(InMemoryChannelLayer):
        async def group_send(self, group, message):
            raise ConnectionError("redis is restarting")

    async def serve():
        await sync_to_async(group_send_soon, thread_sensitive=False)("g", {"type": "x"}, layer=BrokenLayer())
        await asyncio.sleep(0.05)  # the loop runs the send after the request's thread returned

    with caplog.at_level(logging.ERROR, logger="retail.broadcast"):
        asyncio.run(serve())
        group_send_soon("g", {"type": "x"}, layer=BrokenLayer())  # and outside a request
    assert [r.getMessage() for r in caplog.records] == ["a channel-layer message was not sent"] * 2
