// Keyboard shortcuts: any element with data-shortcut="F2" is clicked (or focused, for fields) when
// that key is pressed. The help overlay (F1) lists every shortcut on the page from the same
// attributes, so what is documented on screen is exactly what works.

const NAMED = { Esc: "Escape", Del: "Delete" };

function keyName(e) {
  let k = e.key;
  if (k.length === 1) k = k.toUpperCase();
  return (e.ctrlKey ? "Ctrl+" : "") + (e.altKey ? "Alt+" : "") + (e.shiftKey && k.length > 1 ? "Shift+" : "") + k;
}

function visible(el) {
  return el.isConnected && !el.disabled && el.getClientRects().length > 0;
}

export function shortcutElements(root = document) {
  return [...root.querySelectorAll("[data-shortcut]")].filter(visible);
}

export function installShortcuts({ help } = {}) {
  document.addEventListener("keydown", (e) => {
    const name = keyName(e);
    if (name === "F1" && help) {
      e.preventDefault();
      help.toggle();
      return;
    }
    if (name === "Escape" && help && help.open) {
      e.preventDefault();
      help.close();
      return;
    }
    // Printable keys are text, never shortcuts, unless combined with Ctrl or Alt.
    if (e.key.length === 1 && !e.ctrlKey && !e.altKey) return;
    const wanted = NAMED[name] || name;
    // Dialogs first: the innermost open dialog's shortcuts win over the page's.
    const dialog = document.querySelector("dialog[open]");
    const scope = dialog || document;
    const el = shortcutElements(scope).find((x) => x.dataset.shortcut === wanted);
    if (!el) return;
    e.preventDefault();
    if (el.matches("input, select, textarea")) {
      el.focus();
      el.select?.();
    } else {
      el.click();
    }
  });
}

export class HelpOverlay {
  constructor(dialog) {
    this.dialog = dialog;
  }
  get open() {
    return this.dialog.open;
  }
  toggle() {
    this.open ? this.close() : this.show();
  }
  show() {
    const list = this.dialog.querySelector("[data-help-list]");
    list.replaceChildren(
      ...shortcutElements(document)
        .filter((el) => !this.dialog.contains(el))
        .map((el) => {
          const row = document.createElement("div");
          row.className = "help-row";
          const kbd = document.createElement("kbd");
          kbd.textContent = el.dataset.shortcut;
          const what = document.createElement("span");
          what.textContent = el.dataset.help || el.getAttribute("aria-label") || el.textContent.trim();
          row.append(kbd, what);
          return row;
        }),
    );
    this.dialog.showModal();
  }
  close() {
    this.dialog.close();
  }
}
