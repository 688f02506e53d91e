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

// One scan at a time, in order: a fast scanner must never see its lines reordered.
export function handleScan(code, { source = "typed" } = {}) {
  const screen = document.querySelector("[data-scan-url]");
  if (!screen || !code) return queue;
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
      target.innerHTML = html;
      if (window.htmx) window.htmx.process(target);
      if (qty) qty.value = "";
      document.dispatchEvent(new CustomEvent("pos:scanned", { detail: { code, source } }));
    })
    .catch(() => {
      showMessage("The till could not reach its server. The sale is kept; scan again.");
    })
    .finally(() => refocus());
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
document.body.addEventListener("htmx:afterSettle", () => setTimeout(refocus, 0));
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

new WedgeDetector({ onScan: (code, info) => handleScan(code, info), scanField }).attach();
installShortcuts({ help: new HelpOverlay(document.getElementById("help")) });

// Supervisor approval in place: buttons with data-approve open the PIN dialog, whose form posts
// the action with the supervisor's credentials (the server checks them).
document.addEventListener("click", (e) => {
  const button = e.target.closest("[data-approve]");
  if (!button) return;
  e.preventDefault();
  const dialog = document.getElementById("approve");
  const form = dialog.querySelector("form");
  form.setAttribute("hx-post", button.dataset.approve);
  form.querySelector("[data-approve-what]").textContent = button.dataset.approveWhat || "";
  const extra = form.querySelector("[data-approve-extra]");
  extra.classList.toggle("hidden", !button.dataset.approveAsk);
  extra.querySelector("label").textContent = button.dataset.approveAsk || "";
  extra.querySelector("input").value = "";
  if (window.htmx) window.htmx.process(form);
  form.reset();
  dialog.showModal();
  form.querySelector(button.dataset.approveAsk ? "[data-approve-extra] input" : "input[name=username]").focus();
});
document.body.addEventListener("htmx:afterRequest", (e) => {
  const dialog = e.detail.elt.closest?.("dialog");
  if (dialog && e.detail.successful) dialog.close();
});

// The live channel.
const setPill = (sel, text, state) => {
  const el = document.querySelector(sel);
  if (!el) return;
  el.textContent = text;
  el.classList.remove("ok", "warn", "bad");
  if (state) el.classList.add(state);
};

if (root?.dataset.socket) {
  new TerminalSocket(socketUrl(root.dataset.socket), {
    onState: (state) => {
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
          setPill("[data-printer-state]", `Printer: ${msg.detail || msg.status}`, ready ? "ok" : "bad");
          break;
        }
        case "terminal.drawer": {
          const el = document.querySelector("[data-drawer-state]");
          if (el) {
            el.classList.toggle("hidden", msg.event === "closed");
            el.textContent = msg.event === "closed" ? "Drawer closed" : "Drawer open";
          }
          break;
        }
        case "terminal.sync":
          setPill("[data-sync-state]", msg.online ? "Online" : "Offline", msg.online ? "ok" : "bad");
          setPill("[data-sync-pending]", `${msg.pending} event${msg.pending === 1 ? "" : "s"} waiting`, msg.pending ? "warn" : "ok");
          if (msg.last_sync) setPill("[data-sync-last]", `Last sync ${new Date(msg.last_sync).toLocaleTimeString()}`);
          break;
        case "terminal.order": {
          const badge = document.querySelector("[data-orders-badge]");
          if (badge) {
            badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1);
            badge.classList.remove("hidden");
          }
          break;
        }
      }
    },
  }).connect();
}

refocus();
document.body.dataset.ready = "1"; // the page takes input from here on
