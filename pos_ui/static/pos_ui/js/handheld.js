// Handheld pages: a scan (wedge, or the camera where the browser has BarcodeDetector) fills the
// page's scan field and submits its form; typing always works too.
import { WedgeDetector } from "./scanner.js";
import { installShortcuts, HelpOverlay } from "./shortcuts.js";

const field = () => document.querySelector("[data-scan-field]");

function acceptScan(code) {
  const input = field();
  if (!input) return;
  input.value = code;
  const form = input.form;
  const next = form.dataset.afterScanFocus && form.querySelector(form.dataset.afterScanFocus);
  if (next && !next.value) {
    next.focus(); // e.g. the sign-in: a staff card scanned, then the PIN
    return;
  }
  form.requestSubmit();
}

new WedgeDetector({ onScan: acceptScan, scanField: field }).attach();
installShortcuts({ help: new HelpOverlay(document.getElementById("help")) });

// A scan form marked data-scan-queue (the shelf count, receiving a transfer) sends each code as its
// own htmx request carrying that code (and the form's other fields as they are now, e.g. a count
// typed before the scan), queued in order by its hx-sync: a fast run of scans loses none (htmx
// drops or replaces a request made while one is in flight, and reads the fields only when it
// sends), and the fields are free for the next scan at once.
document.addEventListener(
  "submit",
  (e) => {
    const form = e.target;
    if (!form.matches?.("form[data-scan-queue]")) return;
    e.preventDefault();
    e.stopPropagation(); // before htmx's own handler on the form
    const input = field();
    const code = input?.value.trim();
    if (!code) {
      input?.focus();
      return;
    }
    const values = { ...Object.fromEntries(new FormData(form)), code };
    window.htmx.ajax("POST", form.getAttribute("hx-post"), {
      source: form,
      target: form.getAttribute("hx-target"),
      values,
    });
    for (const other of form.querySelectorAll("input:not([type=hidden])")) other.value = "";
    input.focus();
  },
  true,
);

// Counting from a list: each row's count is kept on the count sheet as soon as it is typed. Enter
// (the phone's Next) goes on to the next row; a row is sent when its count changed and it is left.
// data-sent holds what the server has, so each change is sent once.
const ROW_INPUT = "form[data-count-row] input[name=counted]";

function sendRow(input) {
  const value = input.value.trim();
  if (value === (input.dataset.sent ?? "")) return;
  input.dataset.sent = value;
  input.form.requestSubmit();
}

document.addEventListener("change", (e) => {
  if (e.target.matches?.(ROW_INPUT)) sendRow(e.target);
});
document.addEventListener("submit", (e) => {
  const input = e.target.matches?.("form[data-count-row]") && e.target.querySelector(ROW_INPUT);
  if (input) input.dataset.sent = input.value.trim();
});
document.addEventListener("keydown", (e) => {
  const input = e.target;
  if (e.key !== "Enter" || !input.matches?.(ROW_INPUT)) return;
  e.preventDefault();
  sendRow(input);
  const rows = [...document.querySelectorAll(ROW_INPUT)];
  const next = rows[rows.indexOf(input) + 1];
  if (next) {
    next.focus();
    next.select();
  } else {
    input.blur();
  }
});
// The server answers with what it now holds for the row; a refused count keeps the one before and
// says why on the row, and whatever is typed next is sent again (it clears the refusal).
document.body.addEventListener("htmx:afterSettle", (e) => {
  const form = e.detail.requestConfig?.elt;
  if (!form?.matches?.("form[data-count-row]")) return;
  const product = form.elements.product.value;
  const held = document.getElementById(`counted-${product}`);
  const refused = document.querySelector(`#row-message-${product} [role=alert]`);
  const input = form.querySelector(ROW_INPUT);
  if (held && input) input.dataset.sent = refused ? "\u0000refused" : (held.dataset.counted ?? "");
});

// After the lines are redrawn (a scan, a typed count) the focus is back on the scan field, unless
// someone is already typing elsewhere.
document.body.addEventListener("htmx:afterSettle", (e) => {
  const form = e.detail.requestConfig?.elt;
  if (!form?.matches?.("form[data-back-to-scan]")) return;
  if (!document.activeElement || document.activeElement === document.body) field()?.focus();
});

// Camera scanning where the browser offers BarcodeDetector (Chrome on Android does).
const cameraButton = document.querySelector("[data-camera]");
const video = document.querySelector("[data-camera-view]");
if (cameraButton && video && "BarcodeDetector" in window && navigator.mediaDevices?.getUserMedia) {
  cameraButton.classList.remove("hidden");
  cameraButton.addEventListener("click", async () => {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch {
      cameraButton.textContent = "No camera";
      return;
    }
    const detector = new window.BarcodeDetector();
    video.srcObject = stream;
    video.classList.remove("hidden");
    await video.play();
    const stop = () => {
      stream.getTracks().forEach((t) => t.stop());
      video.classList.add("hidden");
    };
    const tick = async () => {
      try {
        const codes = await detector.detect(video);
        if (codes.length) {
          stop();
          acceptScan(codes[0].rawValue);
          return;
        }
      } catch {
        stop();
        return;
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

// The PIN pad on the sign-in page types into the PIN field.
document.addEventListener("click", (e) => {
  const key = e.target.closest("[data-pinpad] [data-key]");
  if (!key) return;
  const pin = document.querySelector(key.closest("[data-pinpad]").dataset.pinpad);
  pin.value = key.dataset.key === "clear" ? "" : pin.value + key.dataset.key;
  pin.focus();
});

// A shared device: once the server's idle time has passed with no touch, key or request here, go
// to the sign-in page (the server has signed the user out by then and says so there), so the
// screen does not go on showing the last person's name to the next.
const signedIn = document.querySelector("[data-idle-seconds]");
if (signedIn) {
  const wait = (Number(signedIn.dataset.idleSeconds) + 2) * 1000;
  let timer = null;
  const restart = () => {
    clearTimeout(timer);
    timer = setTimeout(() => location.assign(signedIn.dataset.idleUrl), wait);
  };
  for (const type of ["pointerdown", "keydown", "htmx:afterRequest"]) document.addEventListener(type, restart, true);
  restart();
}
