"""``manage.py fleet``: the load generator (see store_node/fleet/simulator.py and docs/production.md).

    POS_ROLE=cloud manage.py fleet_stores --count 500 > var/fleet.json    # at the cloud
    POS_ROLE=store manage.py fleet --setup var/fleet.json --url https://127.0.0.1:8443 \
        --cafile var/prodlike/cert.pem --duration 120 [--storm-backlog 360] [--json out.json]
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.live import Live
from rich.table import Table

from store_node.fleet.probe import CpuProbe, cloud_pids
from store_node.fleet.simulator import FleetConfig, fleet_run, percentile


def _table(phase: str, fleet, sample: dict) -> Table:
    m = fleet.metrics
    p50, p99 = percentile(m.latencies[-5000:], 50), percentile(m.latencies[-5000:], 99)
    table = Table(title=f"fleet of {len(fleet.stores)} stores: {phase}", show_header=False)
    rows = [
        ("enrolled", f"{m.enrolled}"),
        ("sales rung / events accepted", f"{m.sales} / {m.accepted}"),
        ("events still in outboxes", f"{fleet.backlog_events()}"),
        ("pushes / pulls / socket slices / events in", f"{m.pushes} / {m.pulls} / {m.carried} / {m.pulled}"),
        ("sync latency p50 / p99 (recent)", f"{(p50 or 0) * 1000:.0f} ms / {(p99 or 0) * 1000:.0f} ms"),
        ("WebSocket connections held", f"{m.sockets} (peak {m.sockets_peak})"),
        ("errors", ", ".join(f"{k}: {v}" for k, v in sorted(m.errors.items())) or "none"),
        ("cloud CPU / RSS", f"{sample.get('cpu_percent', '-')} % / {sample.get('rss_mb', '-')} MB"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


class Command(BaseCommand):
    help = "Run N simulated stores against a cloud over the real sync protocol and report the load figures."

    def add_arguments(self, parser):
        parser.add_argument(
            "--setup", required=True, help="JSON printed by the cloud's `manage.py fleet_stores`"
        )
        parser.add_argument("--url", required=True, help="the cloud's base URL (https://… through nginx)")
        parser.add_argument("--cafile", help="CA certificate for a self-signed TLS cloud")
        parser.add_argument("--duration", type=float, default=60.0, help="seconds of steady selling")
        parser.add_argument(
            "--sale-every", type=float, default=10.0, help="mean seconds between a store's sales"
        )
        parser.add_argument(
            "--offline-every", type=float, default=0.0, help="mean seconds between outages (0: none)"
        )
        parser.add_argument("--offline-for", type=float, default=30.0)
        parser.add_argument("--storm-backlog", type=int, default=0, help="then: sales rung offline per store")
        parser.add_argument(
            "--storm-offline", type=float, default=3600.0, help="how long that outage lasted (s)"
        )
        parser.add_argument("--storm-timeout", type=float, default=600.0)
        parser.add_argument("--no-websocket", action="store_true")
        parser.add_argument("--no-snapshot", action="store_true", help="start the cursor at 0, no snapshot")
        parser.add_argument(
            "--cloud-pids", help="comma-separated pids to measure (default: every cloud daphne)"
        )
        parser.add_argument("--json", help="write the report here")
        parser.add_argument("--quiet", action="store_true", help="no live display")

    def handle(self, *args, **o):
        logging.getLogger("httpx").setLevel(logging.WARNING)
        setup = json.loads(Path(o["setup"]).read_text())
        if not setup.get("stores"):
            raise CommandError("the setup file names no stores")
        cfg = FleetConfig(
            url=o["url"].rstrip("/"),
            sale_every=o["sale_every"],
            offline_every=o["offline_every"],
            offline_for=o["offline_for"],
            backlog_age=o["storm_offline"],
            websocket=not o["no_websocket"],
            snapshot=not o["no_snapshot"],
            cafile=o["cafile"],
        )
        pids = [int(p) for p in o["cloud_pids"].split(",")] if o["cloud_pids"] else cloud_pids()
        probe = CpuProbe(pids)
        console = Console(stderr=True)
        live = Live(console=console, refresh_per_second=2, transient=False) if not o["quiet"] else None

        def tick(phase, fleet, sample):
            if live is not None:
                live.update(_table(phase, fleet, sample))
            elif o["verbosity"] > 1:
                m = fleet.metrics
                self.stderr.write(
                    f"{phase}: sales {m.sales} accepted {m.accepted} waiting {fleet.backlog_events()} "
                    f"sockets {m.sockets} errors {m.errors} cloud {sample}"
                )

        if live is not None:
            live.start()
        try:
            result = asyncio.run(
                fleet_run(
                    cfg,
                    setup,
                    duration=o["duration"],
                    storm_backlog=o["storm_backlog"],
                    storm_timeout=o["storm_timeout"],
                    probe=probe,
                    tick=tick,
                )
            )
        finally:
            if live is not None:
                live.stop()
        report = {"connect": result.connect, "steady": result.steady, "storm": result.storm}
        if o["json"]:
            Path(o["json"]).write_text(json.dumps(report, indent=2))
        c = result.connect
        self.stdout.write(
            f"connect: {c['connected']} of {c['stores']} stores started at once, synced and holding their "
            f"socket after {c['connect_s']} s; sales rung meanwhile: sync p50 {c['sync_p50_ms']} ms "
            f"p99 {c['sync_p99_ms']} ms, errors {c['error_count']}"
        )
        s = result.steady
        self.stdout.write(
            f"steady: {s['stores']} stores, {s['events_per_s']} events/s accepted, sync p50 {s['sync_p50_ms']} ms "
            f"p99 {s['sync_p99_ms']} ms, sockets held {s['sockets_held']} (peak {s['sockets_peak']}), "
            f"errors {s['error_count']}, cloud CPU {s['cloud'].get('cpu_percent_mean')} % "
            f"(peak {s['cloud'].get('cpu_percent_peak')}), RSS peak {s['cloud'].get('rss_mb_peak')} MB; "
            f"sync p99 with the connect phase's sales {s['sync_p99_ms_with_connect']} ms"
        )
        if result.storm:
            t = result.storm
            self.stdout.write(
                f"storm: {t['backlog_events_at_return']} events waiting at return; caught up "
                f"{'in ' + str(t['caught_up_s']) + ' s' if t['caught_up'] else 'NOT within the timeout'}; "
                f"{t['events_per_s']} events/s accepted, errors {t['error_count']}, "
                f"busy and sent again {t['busy_retries']}"
            )
