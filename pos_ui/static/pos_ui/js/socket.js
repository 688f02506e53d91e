// The terminal's WebSocket (pos_ui/consumers.py): serial scans, printer, drawer, sync state and
// click-and-collect orders pushed by the store node. Reconnects with backoff, for ever: a till
// left on over a network blip must come back by itself.

export class TerminalSocket {
  constructor(url, { onMessage, onState, minDelayMs = 500, maxDelayMs = 10000 } = {}) {
    this.url = url;
    this.onMessage = onMessage || (() => {});
    this.onState = onState || (() => {});
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.delay = minDelayMs;
    this.closed = false;
    this.ws = null;
  }

  connect() {
    if (this.closed) return this;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.delay = this.minDelayMs;
      this.onState("connected");
    });
    ws.addEventListener("message", (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.onMessage(msg);
    });
    ws.addEventListener("close", () => {
      this.onState("disconnected");
      if (this.closed) return;
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, this.maxDelayMs);
    });
    return this;
  }

  close() {
    this.closed = true;
    this.ws?.close();
  }
}

export function socketUrl(path) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}${path}`;
}
