// Screenshot: the current view as a PNG download (twin-<date>.png) with an attribution line
// drawn onto it. The WebGL canvas keeps its pixels only until the frame is composited (no
// preserveDrawingBuffer, which would cost every frame), so the copy is taken in the
// postRender event of a frame rendered for it. Uses the CesiumJS viewer and the DOM.

const pad = (n) => String(n).padStart(2, "0");

/** twin-2026-11-27-1405.png, local time. */
export function screenshotName(now = new Date()) {
  const day = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  return `twin-${day}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}.png`;
}

/** The canvas with the last rendered frame, copied into a 2D canvas. */
function copyFrame(viewer) {
  const scene = viewer.scene;
  return new Promise((resolve, reject) => {
    const remove = scene.postRender.addEventListener(() => {
      remove();
      try {
        const source = scene.canvas;
        const out = source.ownerDocument.createElement("canvas");
        out.width = source.width;
        out.height = source.height;
        out.getContext("2d").drawImage(source, 0, 0);
        resolve(out);
      } catch (err) {
        reject(err);
      }
    });
    scene.requestRender();
  });
}

/** The attribution line at the bottom of the image, scaled with the pixel ratio. */
function drawAttribution(canvas, text, scale) {
  if (!text) return;
  const ctx = canvas.getContext("2d");
  const size = Math.round(12 * scale);
  const pad = Math.round(6 * scale);
  ctx.font = `${size}px sans-serif`;
  const width = Math.min(canvas.width, ctx.measureText(text).width + 2 * pad);
  const height = size + 2 * pad;
  ctx.fillStyle = "rgba(0, 0, 0, 0.6)";
  ctx.fillRect(0, canvas.height - height, width, height);
  ctx.fillStyle = "#ffffff";
  ctx.textBaseline = "middle";
  ctx.fillText(text, pad, canvas.height - height / 2, canvas.width - 2 * pad);
}

/**
 * Render, copy, label and download the view.
 * @param {object} viewer
 * @param {{attribution: string}} options
 * @returns {Promise<{name: string, width: number, height: number, ms: number, bytes: number}>}
 */
export async function takeScreenshot(viewer, { attribution }) {
  const started = performance.now();
  const canvas = await copyFrame(viewer);
  const scale = canvas.width / Math.max(1, viewer.scene.canvas.clientWidth);
  drawAttribution(canvas, attribution, scale);
  const blob = await new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("no image"))), "image/png"),
  );
  const name = screenshotName();
  const doc = viewer.scene.canvas.ownerDocument;
  const url = URL.createObjectURL(blob);
  const link = doc.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  doc.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return {
    name,
    width: canvas.width,
    height: canvas.height,
    bytes: blob.size,
    ms: Math.round(performance.now() - started),
  };
}
