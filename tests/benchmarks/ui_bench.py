"""Cashier terminal speed in Chromium, against a real store node (daphne, SQLite WAL).

Setup (not measured): the store bench's node (``manage.py migrate`` + ``checkout_loadtest_setup``:
100,000 products, 10,000 with ``--quick``; lanes with open shifts), served by daphne with
``DEBUG=0``; headless Chromium (/usr/bin/chromium) logs in on lane T01 with the cashier's PIN.

* ``ui.sale_screen_load_ms``: a logged-in cashier's first load of the sale screen in a fresh
  browser context (only the session cookie carried over: no cached CSS, htmx or JS), from the start
  of the navigation until the page takes input (``terminal.js`` has run and focused the scan
  field: its ``pos-ready`` performance mark). The worst of 5 loads.
* ``ui.scan_to_line_p95_ms``: a sale is rung to 30 lines by wedge scans, then each further wedge
  scan (typed at full speed, Enter last) is timed in the page from the Enter ``keydown`` until the
  new line is in the DOM and a frame has been painted. p95 over 60 scans (20 with ``--quick``).

Standalone: ``.venv/bin/python tests/benchmarks/ui_bench.py [--quick]``.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from tests.benchmarks.store_bench import StoreNode, _barcode  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Installed in the page before each measured scan: resolves with the milliseconds from the Enter
# keydown to the first frame painted after the line count grew.
_ARM = """
() => {
  const rows = () => document.querySelectorAll('[data-testid=line]').length;
  const before = rows();
  window.__scan = new Promise((resolve) => {
    let enterAt = null;
    const onKey = (e) => { if (e.key === 'Enter') enterAt = e.timeStamp; };
    document.addEventListener('keydown', onKey, true);
    const observer = new MutationObserver(() => {
      if (rows() > before && enterAt !== null) {
        observer.disconnect();
        document.removeEventListener('keydown', onKey, true);
        requestAnimationFrame(() => resolve(performance.now() - enterAt));
      }
    });
    observer.observe(document.body, { childList: true, subtree: true });
  });
}
"""


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _terminal_id(node: StoreNode, code: str) -> uuid.UUID:
    with sqlite3.connect(node.env["STORE_DB_PATH"]) as db:
        (raw,) = db.execute("SELECT id FROM stores_terminal WHERE code = ?", (code,)).fetchone()
    return uuid.UUID(str(raw))


def _login(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", "cashier")
    page.fill("#pin", "1111")
    page.keyboard.press("Enter")
    _wait_ready(page)


def _wait_ready(page) -> float:
    page.wait_for_function("performance.getEntriesByName('pos-ready').length > 0")
    assert page.evaluate("document.activeElement === document.querySelector('[data-scan-field]')")
    return page.evaluate("performance.getEntriesByName('pos-ready')[0].startTime")


def run(quick: bool) -> dict:
    from playwright.sync_api import sync_playwright

    products = 10_000 if quick else 100_000
    measured = 20 if quick else 60
    rng = random.Random(7)
    node = StoreNode(products, terminals=1)
    try:
        # DEBUG=0: whitenoise serves STATIC_ROOT as it was when daphne started, so collect first.
        node.manage("collectstatic", "--no-input", "-v0")
        node.start()
        base = f"{node.url}/t/{_terminal_id(node, 'T01')}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            login = browser.new_context()
            _login(login.new_page(), base)
            cookies = login.cookies()
            login.close()
            loads = []
            for _ in range(5):
                context = browser.new_context(viewport={"width": 1366, "height": 768})
                context.add_cookies(cookies)
                page = context.new_page()
                page.goto(f"{base}/sale/")
                loads.append(_wait_ready(page))
                context.close()

            context = browser.new_context(viewport={"width": 1366, "height": 768})
            page = context.new_page()
            _login(page, base)
            for n in range(1, 31):
                page.keyboard.type(_barcode(rng.randrange(products)) + "\n", delay=0)
                page.wait_for_function(f"document.querySelectorAll('[data-testid=line]').length >= {n}")
            samples = []
            for _ in range(measured):
                page.evaluate(_ARM)
                page.keyboard.type(_barcode(rng.randrange(products)) + "\n", delay=0)
                samples.append(page.evaluate("window.__scan"))
            context.close()
            browser.close()
    finally:
        node.stop()
    return {
        "ui.scan_to_line_p95_ms": {"value": _p95(samples), "unit": "ms", "target": 100, "better": "lower"},
        "ui.sale_screen_load_ms": {"value": max(loads), "unit": "ms", "target": 500, "better": "lower"},
    }


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    for name, figure in run(quick).items():
        print(f"{name}: {figure['value']:.1f} {figure['unit']} (target <= {figure['target']})")
