"""The long-running sync of a store node: cycles with exponential backoff and jitter, woken at once
by the cloud's WebSocket nudge or by a local sale (``sync_wake``). What head office changes usually
arrives on that socket as a slice of the feed, applied without a pull (``sync_socket_apply``).

``SyncWorker().start()`` is what ``runstore`` calls; ``manage.py syncworker`` runs it alone.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import random
import threading
import time
from urllib.parse import urlsplit

from django.db import close_old_connections, connection

log = logging.getLogger(__name__)

_running: SyncWorker | None = None


def sync_wake() -> None:
    """Ask the running worker for a cycle now (call it with ``transaction.on_commit`` after a sale).

    While cycles are failing (offline, or not enrolled) the backoff decides instead: a busy till
    must not turn every sale into another attempt against an unreachable cloud."""
    if _running is not None and _running.failures == 0:
        _running.want(pull=False)


def tills_tell_sync_state() -> None:
    """Send every active terminal of this store the sync state after a cycle (``terminal.sync``):
    its status bar shows online/offline, events waiting and the last sync at once."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from retail.stores.models import Terminal
    from store_node.devices.publish import terminal_group
    from store_node.sync.selectors import sync_state_message, sync_status

    layer = get_channel_layer()
    if layer is None:
        return
    message = sync_state_message(sync_status())
    for terminal_id in list(Terminal.objects.filter(active=True).values_list("id", flat=True)):
        async_to_sync(layer.group_send)(terminal_group(terminal_id), message)


def backoff_delay(failures: int, *, base: float, cap: float, rng: random.Random = random._inst) -> float:
    """Seconds to wait after ``failures`` failures in a row: "full jitter" over base * 2^n, capped."""
    if failures <= 0:
        return base
    return rng.uniform(base / 2, min(cap, base * (2**failures)))


POLL_JITTER = 0.2


def poll_delay(interval: float, *, rng: random.Random = random._inst) -> float:
    """The poll interval less up to a fifth of it, at random. Stores that start together (after a
    power cut, or a cloud restart that dropped every socket at once) then drift apart instead of
    polling head office in step, all in the same second, for as long as they run."""
    return interval * rng.uniform(1.0 - POLL_JITTER, 1.0)


def poll_splay(interval: float, *, rng: random.Random = random._inst) -> float:
    """Seconds from a store's first whole cycle to its first poll: anywhere in the interval. Stores
    that start in the same second then poll spread over the interval from the first one on;
    ``poll_delay``'s jitter alone parts them only slowly (500 stores started together polled in a
    wave of 500 within about 15 s every 30 s, through a whole 2-minute fleet run)."""
    return rng.uniform(0.0, interval)


class SyncWorker:
    def __init__(
        self,
        *,
        interval: float = 5.0,
        interval_with_socket: float = 30.0,
        max_backoff: float = 300.0,
        websocket: bool = True,
        report_every: float = 300.0,
    ):
        self.interval = interval
        # While the nudge socket is open, head office's changes arrive through it at once; the poll
        # only collects other stores' shared facts (members, points, stock), which do not nudge.
        self.interval_with_socket = max(interval, interval_with_socket)
        self.socket_open = False
        # A local change wants a push; a nudge or the poll a whole cycle (push, then pull).
        self.push_wanted = False
        self.pull_wanted = True
        self.wants = threading.Lock()
        self.last_pull = float("-inf")  # monotonic time of the last cycle that pulled
        self.splayed = False  # the first whole cycle's wait was drawn by ``poll_splay``
        # With nothing to push, a cycle reports the store's head (an empty push) only this often:
        # a nudge to 500 stores then costs 500 pulls, not 500 pulls and 500 empty pushes.
        self.report_every = report_every
        self.last_report = float("-inf")  # monotonic time of the last push that reached the cloud
        self.max_backoff = max_backoff
        self.websocket = websocket
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.failures = 0
        self.cycles = 0
        self.carried: collections.deque[dict] = collections.deque()  # slices the socket brought
        self.carried_applied = 0
        self.next_cycle_at = float("-inf")  # monotonic: the poll (or the backoff) is due then

    def start(self) -> SyncWorker:
        global _running
        _running = self
        self.threads = [threading.Thread(target=self._loop, name="sync-worker", daemon=True)]
        if self.websocket:
            self.threads.append(threading.Thread(target=self._listen, name="sync-nudge", daemon=True))
        for thread in self.threads:
            thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        global _running
        self.stopping.set()
        self.wake.set()
        for thread in self.threads:
            thread.join(timeout)
        if _running is self:
            _running = None

    # ------------------------------------------------------------ cycles

    def _loop(self) -> None:
        from store_node.sync.services import sync_client_release

        try:
            self._cycles()
        finally:
            sync_client_release()  # the connection kept between cycles, closed by the thread that used it

    def _cycles(self) -> None:
        from store_node.sync.services import sync_once

        while not self.stopping.is_set():
            self.wake.clear()
            if self.carried:
                close_old_connections()
                self._apply_carried()
                connection.close()
            with self.wants:
                wanted = self.pull_wanted or self.push_wanted
            if wanted:
                self._cycle(sync_once)
            if not self.wake.wait(max(0.0, self.next_cycle_at - time.monotonic())):
                self.want(pull=True)  # the poll: a whole cycle

    def _cycle(self, sync_once) -> None:
        pull = self.cycle_pulls()
        report = self.reports_head()
        close_old_connections()
        try:
            summary = sync_once(pull=pull, report_head=report, keep_connection=True)
            ok = not summary.error
            if ok and (report or summary.pushed):
                self.last_report = time.monotonic()
            if summary.error:
                log.warning("sync failed: %s", summary.error)
        except Exception:  # a bug must not kill the worker of a till that sells for days
            log.exception("sync cycle crashed")
            ok = False
        try:
            tills_tell_sync_state()
        except Exception:  # the status bar also refreshes itself every 20 s
            log.warning("telling the tills the sync state failed", exc_info=True)
        finally:
            connection.close()
        self.cycles += 1
        self.failures = 0 if ok else self.failures + 1
        self.next_cycle_at = time.monotonic() + self.wait_after(pulled=ok and pull)

    def carry(self, message: dict) -> None:
        """Take a slice of the feed the socket brought (``{"type": "events", …}``), applied by the
        worker's thread before anything else it does."""
        self.carried.append(message)
        self.wake.set()

    def _apply_carried(self) -> None:
        """Apply the slices the socket brought, in order; one the store cannot apply (it lacks
        entries before it, or it is malformed) asks for a pull instead."""
        from store_node.sync.services import sync_socket_apply

        while self.carried:
            message = self.carried.popleft()
            try:
                applied = sync_socket_apply(
                    after=int(message["after"]), cursor=int(message["cursor"]), events=list(message["events"])
                )
            except Exception:  # the pull brings the same entries: nothing is lost by refusing the slice
                log.warning("the nudge socket's slice could not be applied", exc_info=True)
                applied = False
            if applied is False:
                self.want(pull=True)
            elif applied:
                self.carried_applied += 1
                log.info(
                    "applied head office's news from the nudge socket: %d events, feed %s to %s",
                    len(message["events"]),
                    message["after"],
                    message["cursor"],
                )

    def cycle_pulls(self) -> bool:
        """Whether the cycle starting now pulls (and clears what was asked): woken by a local sale
        alone it only pushes; head office's news comes with the nudge or the poll. The poll is due
        a poll interval after the last pull however many sales were pushed since, so a busy till
        still learns the other stores' facts."""
        with self.wants:
            due = time.monotonic() - self.last_pull >= self.interval_with_socket
            pull = self.pull_wanted or not self.push_wanted or due
            self.pull_wanted = self.push_wanted = False
        if pull:
            self.last_pull = time.monotonic()
        return pull

    def reports_head(self) -> bool:
        """Whether the cycle starting now pushes even with nothing to send (``sync_push``)."""
        return time.monotonic() - self.last_report >= self.report_every

    def want(self, *, pull: bool) -> None:
        """Ask for a cycle now: a whole one (``pull``), or a push."""
        with self.wants:
            if pull:
                self.pull_wanted = True
            else:
                self.push_wanted = True
            self.wake.set()

    def wait_after(self, *, pulled: bool) -> float:
        """Seconds until the next cycle after one that ended now: after the first whole cycle that
        succeeded, ``poll_splay`` (and the poll is due then for a push cycle too, ``cycle_pulls``);
        after any other, ``next_delay``."""
        if pulled and not self.splayed:
            self.splayed = True
            # Over the socket's interval even before the socket is open (it opens with the first
            # cycle): a store's first news of head office may then wait up to that once.
            wait = poll_splay(self.interval_with_socket if self.websocket else self.interval)
            self.last_pull = time.monotonic() - (self.interval_with_socket - wait)
            return wait
        return self.next_delay()

    def next_delay(self) -> float:
        """Seconds until the next cycle unless woken: the poll interval (longer while the nudge
        socket is open; ``poll_delay``), or the backoff after failures."""
        if self.failures == 0:
            return poll_delay(self.interval_with_socket if self.socket_open else self.interval)
        return backoff_delay(self.failures, base=self.interval, cap=self.max_backoff)

    # ------------------------------------------------------------ the nudge socket

    def _listen(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            try:
                asyncio.run(self._listen_once())
                failures = 0
            except Exception as exc:  # the socket is an optimisation: polling goes on without it
                log.info("nudge socket: %s", exc)
                failures += 1
            finally:
                connection.close()
            self.stopping.wait(backoff_delay(failures, base=1.0, cap=60.0))

    async def _listen_once(self) -> None:
        from store_node.sync.models import SyncCredential
        from store_node.sync.nudge import listen

        credential = await asyncio.to_thread(lambda: SyncCredential.objects.filter(pk=1).first())
        if credential is None:
            return
        parts = urlsplit(credential.cloud_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        url = f"{scheme}://{parts.netloc}/ws/sync/v1/nudge"

        def heard(text: str) -> None:
            self.socket_open = True  # the cloud sends its opening slice as soon as the socket is accepted
            try:
                message = json.loads(text)
            except ValueError:
                message = None
            if isinstance(message, dict) and message.get("type") == "events":
                self.carry(message)
            else:
                self.want(pull=True)  # "more", or anything this version does not know: pull

        try:
            await listen(url, token=credential.token, on_message=heard, stop=self.stopping.is_set)
        finally:
            self.socket_open = False
