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
    next.focus(); // e.g. the count: scan the product, then type how many
    return;
  }
  form.requestSubmit();
}

new WedgeDetector({ onScan: acceptScan, scanField: field }).attach();
installShortcuts({ help: new HelpOverlay(document.getElementById("help")) });

// After a count line is added, clear the form for the next product.
document.body.addEventListener("htmx:afterRequest", (e) => {
  const form = e.detail.elt;
  if (form.matches?.("form[data-after-scan-focus]") && e.detail.successful) {
    form.reset();
    field()?.focus();
  }
});

// Receiving a transfer: after a scan or a typed count the lines are redrawn; clear the scan field
// and go back to it for the next item.
document.body.addEventListener("htmx:afterSettle", (e) => {
  const form = e.detail.requestConfig?.elt;
  if (!form?.matches?.("form[data-back-to-scan]")) return;
  const input = field();
  if (input) {
    input.value = "";
    input.focus();
  }
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
