"""Store node hardware glue speed.

* ``hw.scan_to_terminal_p99_ms``: p99 from writing a scan's bytes on the master side of a pty
  until the terminal's WebSocket (a Channels ``WebsocketCommunicator`` on the store's real
  routing and ``pos_ui`` consumer) receives the ``terminal.scan`` message: real pyserial reader
  thread, ``retail.barcodes.parse_scan``, ``group_send`` on the in-memory channel layer scheduled
  onto the serving loop, the consumer's forward. 200 scans (50 with ``quick``), one warm-up scan,
  human-paced (2 ms apart) so no queue is measured.

Django is set up with the store's settings in a child process, so this bench never shares a
configured Django with another role's bench in the runner. Standalone:
``.venv/bin/python tests/benchmarks/hw_bench.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def _child(scans: int) -> float:
    import asyncio
    import time
    import uuid

    import django

    django.setup()
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator

    from hardware.simulators import VirtualSerialScanner
    from store_node.devices.publish import GroupPublisher
    from store_node.devices.scanners import ScannerBridge
    from store_node.routing import websocket_urlpatterns

    async def measure() -> float:
        terminal = uuid.uuid4()
        browser = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/terminal/{terminal}/")
        connected, _ = await browser.connect()
        assert connected
        publisher = GroupPublisher(asyncio.get_running_loop())
        frame = b"]E04006381333931\r"
        samples = []
        with VirtualSerialScanner() as scanner:
            bridge = ScannerBridge(
                terminal_id=terminal, label="BENCH", address=scanner.address(), publisher=publisher
            )
            bridge.start()
            try:
                if not await asyncio.to_thread(bridge.reader.wait_connected, 5):
                    raise RuntimeError("scanner reader did not connect to the pty")
                for i in range(scans + 1):
                    started = time.perf_counter()
                    scanner.write(frame)
                    message = await browser.receive_json_from(timeout=2)
                    elapsed = (time.perf_counter() - started) * 1000
                    if message["key"] != "4006381333931":
                        raise RuntimeError(f"unexpected message {message}")
                    if i:  # the first one warms up imports and the consumer
                        samples.append(elapsed)
                    await asyncio.sleep(0.002)
            finally:
                bridge.stop()
        await browser.disconnect()
        return _p99(samples)

    return asyncio.run(measure())


def bench_scan_to_terminal(scans: int) -> float:
    with tempfile.TemporaryDirectory(prefix="omnitill-hw-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL")}
        env.update(
            POS_ROLE="store",
            DJANGO_SETTINGS_MODULE="store_node.settings.dev",
            STORE_DB_PATH=str(Path(tmp) / "bench.sqlite3"),
            LOG_LEVEL="ERROR",
        )
        result = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(scans)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    if result.returncode != 0:
        raise RuntimeError(f"bench child failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])["p99_ms"]


def run(quick: bool) -> dict:
    return {
        "hw.scan_to_terminal_p99_ms": {
            "value": bench_scan_to_terminal(50 if quick else 200),
            "unit": "ms",
            "target": 20,
            "better": "lower",
        },
    }


if __name__ == "__main__":
    if "--child" in sys.argv:
        sys.path.insert(0, str(ROOT))
        print(json.dumps({"p99_ms": _child(int(sys.argv[sys.argv.index("--child") + 1]))}))
    else:
        for name, figure in run(quick="--quick" in sys.argv).items():
            print(f"{name:30s} {figure['value']:8.3f} {figure['unit']}  (target <= {figure['target']})")
