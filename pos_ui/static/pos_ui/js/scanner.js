// Keyboard-wedge scanner detection.
//
// A wedge scanner "types" the code very fast and ends it with Enter. We tell it apart from a person
// by the gaps between keys: a run of at least `minLength` characters, none more than `maxGapMs`
// after the one before and `avgGapMs` apart on average, closed by Enter within `maxGapMs`, is a
// scan. (A person managing 30 ms a key over a whole code types at 400 words a minute; a scanner,
// or a busy browser replaying one, can have a single slow key.) Whatever has focus, a scan goes to
// `onScan` and never into a field: characters typed into any field other than the scan field are
// held back for `holdMs` and only then inserted, so a scan's characters can be taken back before
// they ever land (the known failure: a scan ending up in the quantity field). Characters typed into
// the scan field itself go in as usual; a scan there is cut back out of the field before `onScan`.
//
// This module handles input only; what a scan means is decided by the server (retail.barcodes).

export const DEFAULTS = Object.freeze({ maxGapMs: 80, avgGapMs: 30, minLength: 4, holdMs: 100 });

const MODIFIERS = new Set(["Shift", "Control", "Alt", "AltGraph", "Meta", "CapsLock", "NumLock"]);

function isTextField(el) {
  if (!el) return false;
  if (el.tagName === "TEXTAREA") return true;
  if (el.tagName !== "INPUT") return false;
  return ["text", "search", "tel", "email", "password", "url", ""].includes(el.type);
}

function insertText(el, text) {
  const start = el.selectionStart ?? el.value.length;
  const end = el.selectionEnd ?? el.value.length;
  el.setRangeText(text, start, end, "end");
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

export class WedgeDetector {
  /**
   * @param {object} opts
   * @param {(code: string, info: {source: string}) => void} opts.onScan
   * @param {() => HTMLInputElement|null} opts.scanField  the field typing goes to when nothing else has focus
   */
  constructor({ onScan, scanField, options = {} }) {
    this.onScan = onScan;
    this.scanField = scanField;
    this.opts = { ...DEFAULTS, ...options };
    this.burst = []; // {ch, t, held} of the current fast run
    this.lastAt = -Infinity;
    this.held = []; // characters held back from a non-scan field: {ch, t, target}
    this.timer = null;
    this.onKeyDown = this.onKeyDown.bind(this);
  }

  attach(target = document) {
    target.addEventListener("keydown", this.onKeyDown, true);
    return this;
  }

  detach(target = document) {
    target.removeEventListener("keydown", this.onKeyDown, true);
  }

  onKeyDown(e) {
    if (e.isComposing || MODIFIERS.has(e.key)) return;
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    const now = e.timeStamp || performance.now();
    const gap = now - this.lastAt;
    const field = this.scanField();

    if (e.key.length === 1) {
      if (gap > this.opts.maxGapMs) this.burst = [];
      this.lastAt = now;
      const target = e.target;
      if (field && target === field) {
        this.burst.push({ ch: e.key, t: now, held: false });
        return; // the scan field takes characters as they come
      }
      // Anything else: hold the character back until we know it is not part of a scan.
      e.preventDefault();
      this.burst.push({ ch: e.key, t: now, held: true });
      this.held.push({ ch: e.key, t: now, target });
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.flush(), this.opts.holdMs);
      return;
    }

    if (e.key === "Enter") {
      const n = this.burst.length;
      const avg = n > 1 ? (this.burst[n - 1].t - this.burst[0].t) / (n - 1) : Infinity;
      const isScan = n >= this.opts.minLength && avg <= this.opts.avgGapMs && gap <= this.opts.maxGapMs;
      if (isScan) {
        e.preventDefault();
        e.stopPropagation();
        const code = this.burst.map((k) => k.ch).join("");
        const typedIntoField = this.burst.filter((k) => !k.held).map((k) => k.ch).join("");
        if (field && typedIntoField && field.value.endsWith(typedIntoField)) {
          field.value = field.value.slice(0, field.value.length - typedIntoField.length);
        }
        // Held characters older than the scan were typed by a person: they still go in.
        const scanStart = this.burst[0].t;
        this.held = this.held.filter((h) => h.t < scanStart);
        this.flush();
        this.burst = [];
        this.lastAt = -Infinity;
        this.onScan(code, { source: "wedge" });
        return;
      }
      this.flush(); // a person pressed Enter: their characters first, then Enter as usual
      this.burst = [];
      return;
    }

    // Backspace, arrows, Tab, function keys: whatever was held goes in first.
    this.flush();
    this.burst = [];
    this.lastAt = -Infinity;
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    const held = this.held;
    this.held = [];
    for (const h of held) {
      let el = h.target;
      if (!isTextField(el) || el.disabled || el.readOnly || !el.isConnected) {
        el = this.scanField(); // typing with nothing to type into goes to the scan field
        if (!el) continue;
        el.focus();
      }
      insertText(el, h.ch);
    }
  }
}
