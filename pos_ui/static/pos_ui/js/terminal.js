// The cashier terminal: every scan (keyboard wedge, serial scanner over the WebSocket, or typed
// into the scan field) goes to one handler that posts it to the current screen's scan URL and
// swaps in the server's answer. The server decides what a scan means; this file moves input only.
import { WedgeDetector } from "./scanner.js";
import { installShortcuts, HelpOverlay } from "./shortcuts.js";
import { TerminalSocket, socketUrl } from "./socket.js";

const root = document.querySelector("[data-terminal]");
const scanField = () => document.querySelector("[data-scan-field]");
const qtyField = () => document.querySelector("[data-qty-field]");
const csrf = () => document.querySelector("meta[name=csrf-token]")?.content || "";

let queue = Promise.resolve();

const detector = new WedgeDetector({ onScan: (code, info) => handleScan(code, info), scanField });

// While an answer for the sale panel is on its way (a product picked, a scan, an action), typed keys
// wait for it (scanner.js holds them): the answer may bring the field they are meant for, the
// weight of the item just picked. When the last answer has settled they go into that field
// ([data-autofocus]), else into the scan field. An answer that never comes releases them after
// WAIT_MAX_MS.
const WAIT_MAX_MS = 10000;
let waits = 0;
let waitTimer = null;

function waitStart() {
  waits += 1;
  detector.pause();
  clearTimeout(waitTimer);
  waitTimer = setTimeout(() => {
    waits = 1;
    waitEnd();
  }, WAIT_MAX_MS);
}

function waitEnd() {
  waits = Math.max(0, waits - 1);
  if (waits) return;
  clearTimeout(waitTimer);
  detector.resume({ into: document.querySelector("[data-autofocus]") });
}

// One scan at a time, in order: a fast scanner must never see its lines reordered.
export function handleScan(code, { source = "typed" } = {}) {
  const screen = document.querySelector("[data-scan-url]");
  if (!screen || !code) return queue;
  waitStart();
  const url = screen.dataset.scanUrl;
  const target = document.querySelector(screen.dataset.scanTarget || "#screen");
  const body = new URLSearchParams({ code, source });
  const qty = qtyField();
  if (qty && qty.value.trim()) body.set("qty", qty.value.trim());
  queue = queue
    .then(() =>
      fetch(url, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": csrf(), "HX-Request": "true" },
        credentials: "same-origin",
      }),
    )
    .then(async (res) => {
      const html = await res.text();
      if (res.redirected || res.headers.get("HX-Redirect")) {
        location.href = res.headers.get("HX-Redirect") || res.url;
        return;
      }
      if (screen.dataset.scanThen) {
        location.href = screen.dataset.scanThen; // e.g. the next customer's first scan on the receipt screen
        return;
      }
      target.innerHTML = html;
      if (window.htmx) window.htmx.process(target);
      autofocusIn(target);
      if (qty) qty.value = "";
      document.dispatchEvent(new CustomEvent("pos:scanned", { detail: { code, source } }));
    })
    .catch(() => {
      showMessage("The till could not reach its server. The sale is kept; scan again.");
    })
    .finally(() => {
      // The quantity was used by this scan: the next keys belong to the scan field again.
      if (document.activeElement === qtyField()) scanField()?.focus();
      refocus();
      waitEnd();
    });
  return queue;
}

function showMessage(text) {
  const box = document.querySelector("[data-messages]");
  if (!box) return;
  const div = document.createElement("div");
  div.className = "message error";
  div.textContent = text;
  box.replaceChildren(div);
}

// The scan field always has focus unless the cashier is in another field or a dialog.
function refocus() {
  const active = document.activeElement;
  if (document.querySelector("dialog[open]")) return;
  if (active && active !== document.body && active.matches("input, select, textarea")) return;
  scanField()?.focus();
}

document.addEventListener("focusout", () => setTimeout(refocus, 0));

// htmx requests answered into the sale panel (a product picked from the search, a weight): xhr ->
// whether its answer is being swapped in (then the wait ends when it has settled).
const panelRequests = new Map();
document.body.addEventListener("htmx:beforeRequest", (e) => {
  if (e.detail.target?.id !== "sale-panel") return;
  panelRequests.set(e.detail.xhr, false);
  waitStart();
});
document.body.addEventListener("htmx:beforeSwap", (e) => {
  if (panelRequests.has(e.detail.xhr)) panelRequests.set(e.detail.xhr, !!e.detail.shouldSwap);
});
document.body.addEventListener("htmx:afterRequest", (e) => {
  // No swap coming (an error, a redirect, nothing to show): the keys need not wait any longer.
  if (panelRequests.has(e.detail.xhr) && !panelRequests.get(e.detail.xhr)) {
    panelRequests.delete(e.detail.xhr);
    waitEnd();
  }
});
document.body.addEventListener("htmx:afterSettle", (e) => {
  autofocusIn(e.detail.target);
  if (panelRequests.delete(e.detail.xhr)) waitEnd();
  setTimeout(refocus, 0);
});
document.addEventListener("close", () => setTimeout(refocus, 0), true); // a dialog closed

// Typed input: Enter in the scan field.
document.addEventListener("submit", (e) => {
  const form = e.target;
  if (!form.matches("[data-scan-form]")) return;
  e.preventDefault();
  const field = scanField();
  const code = field.value.trim();
  field.value = "";
  handleScan(code, { source: "typed" });
});

detector.attach();
installShortcuts({ help: new HelpOverlay(document.getElementById("help")) });

// Actions on the sale (member, discounts, price override, void, cancel) open a small dialog in
// place: a value to type and, where the server asks for one, a supervisor's staff number and PIN.
// The form posts to the action's URL and the server answers with the sale panel.
const NO_LINE = "00000000-0000-0000-0000-000000000000";

function selectedLine() {
  return document.querySelector("[data-line-id].selected")?.dataset.lineId;
}

async function postToPanel(url, body) {
  waitStart();
  try {
    const res = await fetch(url, {
      method: "POST",
      body,
      headers: { "X-CSRFToken": csrf(), "HX-Request": "true" },
      credentials: "same-origin",
    });
    const redirect = res.headers.get("HX-Redirect");
    if (redirect) {
      location.href = redirect;
      return;
    }
    const target = document.querySelector("#sale-panel");
    const keep = selectedLine();
    target.innerHTML = await res.text();
    if (window.htmx) window.htmx.process(target);
    selectLine(keep); // an action on a line keeps that line chosen
    autofocusIn(target);
  } finally {
    waitEnd();
  }
}

function selectLine(id) {
  const rows = [...document.querySelectorAll("[data-line-id]")];
  if (!id || !rows.some((r) => r.dataset.lineId === id)) return;
  rows.forEach((r) => r.classList.toggle("selected", r.dataset.lineId === id));
}

function autofocusIn(el) {
  const wanted = el.querySelector("[data-autofocus]");
  if (wanted) wanted.focus();
}

let actionUrl = null;

document.addEventListener("click", (e) => {
  const button = e.target.closest("[data-action]");
  if (!button) return;
  e.preventDefault();
  let url = button.dataset.action;
  if (button.hasAttribute("data-action-line")) {
    const line = selectedLine();
    if (!line) {
      showMessage("Scan an item first, then choose the line with the arrow keys.");
      return;
    }
    url = url.replace(NO_LINE, line);
  }
  actionUrl = url;
  const dialog = document.getElementById(button.dataset.actionForm === "member" ? "member-new" : "action");
  const form = dialog.querySelector("form");
  form.reset();
  const title = form.querySelector("[data-action-title]");
  if (title) title.textContent = button.dataset.actionTitle || "";
  const ask = form.querySelector("[data-action-ask]");
  if (ask) {
    ask.classList.toggle("hidden", !button.dataset.actionAsk);
    ask.querySelector("label").textContent = button.dataset.actionAsk || "";
  }
  const pin = form.querySelector("[data-action-pin]");
  if (pin) pin.classList.toggle("hidden", !button.hasAttribute("data-action-pin"));
  dialog.showModal();
  const first = [...form.querySelectorAll("input")].find((i) => i.getClientRects().length && i.type !== "hidden");
  first?.focus();
});

document.addEventListener("submit", (e) => {
  const form = e.target;
  if (!form.matches("[data-action-form]")) return;
  e.preventDefault();
  const dialog = form.closest("dialog");
  const body = new URLSearchParams(new FormData(form));
  dialog.close();
  if (actionUrl) postToPanel(actionUrl, body).finally(() => refocus());
});

document.addEventListener("click", (e) => {
  if (e.target.closest("[data-action-cancel]")) e.target.closest("dialog").close();
  const post = e.target.closest("[data-post]");
  if (post) {
    e.preventDefault();
    postToPanel(post.dataset.post, new URLSearchParams()).finally(() => refocus());
  }
});

// Choosing a line: arrow keys move the selection (what F6, F7 and F8 act on).
document.addEventListener("keydown", (e) => {
  if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
  if (document.querySelector("dialog[open]")) return;
  const rows = [...document.querySelectorAll("[data-line-id]")];
  if (!rows.length) return;
  e.preventDefault();
  let i = rows.findIndex((r) => r.classList.contains("selected"));
  i = e.key === "ArrowUp" ? Math.max(0, i - 1) : Math.min(rows.length - 1, i + 1);
  rows.forEach((r, j) => r.classList.toggle("selected", j === i));
  rows[i].scrollIntoView({ block: "nearest" });
});

// The PIN pad on the login screen types into the PIN field.
document.addEventListener("click", (e) => {
  const key = e.target.closest("[data-pinpad] [data-key]");
  if (!key) return;
  const field = document.querySelector(key.closest("[data-pinpad]").dataset.pinpad);
  field.value = key.dataset.key === "clear" ? "" : field.value + key.dataset.key;
  field.focus();
});

// The live channel.
const setPill = (sel, text, state) => {
  const el = document.querySelector(sel);
  if (!el) return;
  el.textContent = text;
  el.classList.remove("ok", "warn", "bad");
  if (state) el.classList.add(state);
};

// The order badge (orders ready for collection and to pick at this store) is the server's count:
// reloaded when an order of the store moves, and whenever the link (re)connects (a push is lost
// while it is down). One reload at a time; a push during one asks for another after it.
let badgeLoading = null;
let badgeAgain = false;

function refreshOrdersBadge() {
  const badge = document.querySelector("[data-orders-badge]");
  if (!badge) return;
  if (badgeLoading) {
    badgeAgain = true;
    return;
  }
  badgeLoading = fetch(badge.dataset.ordersBadge, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
    .then(async (res) => {
      if (res.status !== 200 || res.redirected) return; // logged out meanwhile: the next screen says so
      const html = await res.text();
      document.querySelector("[data-orders-badge]")?.replaceWith(
        document.createRange().createContextualFragment(html.trim()),
      );
    })
    .catch(() => {})
    .finally(() => {
      badgeLoading = null;
      if (badgeAgain) {
        badgeAgain = false;
        refreshOrdersBadge();
      }
    });
}

if (root?.dataset.socket) {
  new TerminalSocket(socketUrl(root.dataset.socket), {
    onState: (state) => {
      if (state === "connected") refreshOrdersBadge(); // what moved before the link was up
      setPill("[data-link-state]", state === "connected" ? "Till link: ok" : "Till link: reconnecting", state === "connected" ? "ok" : "bad");
      document.body.dataset.link = state;
    },
    onMessage: (msg) => {
      switch (msg.type) {
        case "terminal.scan":
          handleScan(`${msg.aim || ""}${msg.data || ""}`, { source: "serial" });
          break;
        case "terminal.printer": {
          const ready = msg.status === "ready";
          const text = msg.detail || msg.status;
          const state = ready ? "ok" : msg.status === "unknown" ? null : "bad";
          setPill("[data-printer-state]", /^printer/i.test(text) ? text : `Printer: ${text}`, state);
          // The receipt screen of a receipt not printed yet: say what to do (the sale is saved).
          const problem = document.querySelector("[data-print-problem]");
          if (problem && msg.status === "paper_out") {
            problem.textContent = problem.dataset.printProblem;
            problem.classList.remove("hidden");
          }
          break;
        }
        case "terminal.drawer": {
          const el = document.querySelector("[data-drawer-state]");
          if (el) {
            el.classList.toggle("hidden", msg.event === "closed");
            el.textContent = msg.event === "closed" ? "Drawer closed" : "Drawer open";
          }
          if (msg.event === "opened") setPill("[data-drawer-kick]", "Drawer: opened", "ok");
          break;
        }
        case "terminal.sync":
          setPill("[data-sync-state]", msg.online ? "Online" : "Offline", msg.online ? "ok" : "bad");
          setPill("[data-sync-pending]", `${msg.pending} event${msg.pending === 1 ? "" : "s"} waiting`, msg.pending ? "warn" : "ok");
          if (msg.last_sync) setPill("[data-sync-last]", `Last sync ${new Date(msg.last_sync).toLocaleTimeString()}`);
          break;
        case "terminal.order":
          refreshOrdersBadge();
          break;
      }
    },
  }).connect();
}

refocus();
document.body.dataset.ready = "1"; // the page takes input from here on
performance.mark("pos-ready");
