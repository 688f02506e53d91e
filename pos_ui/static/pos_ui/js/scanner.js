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
// the scan field itself go in as usual; a scan there is cut back out of the field before `onScan`,
// and the scan field is left empty.
//
// While the page waits for an answer that may bring a new field (`pause()` ... `resume(into)`), every
// typed key (characters, Enter, Backspace) is held, the scan field's too, and replayed on
// `resume`: keys typed at the scan field, or at a field that went away, go to `into` (the field the
// answer brought, e.g. a weight), the others to their own field; an Enter among them submits that
// field's form, and if that starts another wait the rest stays held for it. A scan during the
// wait is still a scan. So a cashier who types a weight right after choosing the item loses no key
// to the scan field (the known failure: "0.5" became a "0" in the scan field and ".5" kg).
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
    this.held = []; // keys held back: {ch, t, target}; ch is one character, "Enter" or "Backspace"
    this.timer = null;
    this.paused = false;
    this.onKeyDown = this.onKeyDown.bind(this);
  }

  /** Hold every typed key until `resume` (an answer that may bring a new field is on its way). */
  pause() {
    this.paused = true;
    clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Replay the held keys. `into`: where keys typed at the scan field (or at a field that is gone)
   * go; the scan field when not given. A replayed Enter whose submit starts the next wait (the
   * page calls `pause` again) leaves the rest held for that one.
   */
  resume({ into = null } = {}) {
    this.paused = false;
    this.replay(into);
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
      if (field && target === field && !this.paused) {
        this.burst.push({ ch: e.key, t: now, held: false });
        return; // the scan field takes characters as they come
      }
      // Anything else: hold the character back until we know it is not part of a scan.
      e.preventDefault();
      this.burst.push({ ch: e.key, t: now, held: true });
      this.held.push({ ch: e.key, t: now, target });
      clearTimeout(this.timer);
      if (!this.paused) this.timer = setTimeout(() => this.flush(), this.opts.holdMs);
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
        // The scan is taken: nothing of it (nor a stray key before it) stays in the scan field.
        if (field) field.value = "";
        // Held keys older than the scan were typed by a person: they still go in.
        const scanStart = this.burst[0].t;
        this.held = this.held.filter((h) => h.t < scanStart);
        this.flush();
        this.burst = [];
        this.lastAt = -Infinity;
        this.onScan(code, { source: "wedge" });
        return;
      }
      this.burst = [];
      if (this.paused && (e.target === field || isTextField(e.target) || e.target === document.body)) {
        e.preventDefault(); // submitted on resume, in the field the keys before it went to
        e.stopPropagation();
        this.held.push({ ch: "Enter", t: now, target: e.target });
        return;
      }
      this.flush(); // a person pressed Enter: their characters first, then Enter as usual
      return;
    }

    if (e.key === "Backspace" && this.paused) {
      e.preventDefault();
      this.held.push({ ch: "Backspace", t: now, target: e.target });
      this.burst = [];
      this.lastAt = -Infinity;
      return;
    }

    // Backspace, arrows, Tab, function keys: whatever was held goes in first (unless paused).
    this.flush();
    this.burst = [];
    this.lastAt = -Infinity;
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.paused) return; // held until resume
    this.replay(null);
  }

  replay(into) {
    const field = this.scanField();
    while (this.held.length && !this.paused) {
      const h = this.held.shift();
      let el = h.target;
      if (el === field || !usable(el)) {
        el = usable(into) ? into : field; // typing with nothing to type into goes to the scan field
        if (!el) continue;
        if (document.activeElement !== el) el.focus();
      }
      if (h.ch === "Enter") {
        el.form?.requestSubmit(); // may start the next wait: the loop stops, the rest stays held
      } else if (h.ch === "Backspace") {
        deleteBack(el);
      } else {
        insertText(el, h.ch);
      }
    }
  }
}

function usable(el) {
  return isTextField(el) && !el.disabled && !el.readOnly && el.isConnected;
}

function deleteBack(el) {
  const start = el.selectionStart ?? el.value.length;
  const end = el.selectionEnd ?? el.value.length;
  if (start === end && start === 0) return;
  el.setRangeText("", start === end ? start - 1 : start, end, "end");
  el.dispatchEvent(new Event("input", { bubbles: true }));
}
