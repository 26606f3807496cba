// Shadows at a chosen date and time: viewer.shadows, every tileset's shadow mode and the
// clock (the sun follows viewer.clock.currentTime). The time is an instant (UTC ISO text, as
// in the URL's `sun` key); the date-time input shows and reads it in the browser's own time
// zone (for a viewer in Sweden: Europe/Stockholm). The helpers at the top are pure; the
// rest uses the CesiumJS global, looked up only when called.

const pad = (n) => String(n).padStart(2, "0");

/** An instant as the value of an <input type="datetime-local"> in the local time zone. */
export function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}`
  );
}

/** A datetime-local value ("2026-12-21T09:30", local time) as a UTC ISO instant, or null. */
export function fromLocalInput(text) {
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) {
    return null;
  }
  const d = new Date(text); // no offset: local time (ECMAScript date-time form)
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(".000Z", "Z");
}

/** Now, to the minute, as a UTC ISO instant. */
export function nowMinute(now = Date.now()) {
  const d = new Date(now);
  d.setSeconds(0, 0);
  return d.toISOString().replace(".000Z", "Z");
}

/** The browser's time zone name ("Europe/Stockholm"), or "" when it is not known. */
export function localZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return "";
  }
}

/**
 * @param {object} viewer
 * @param {{onChange: (state) => void}} options called after every change
 */
export function createShadows(viewer, { onChange }) {
  const C = globalThis.Cesium;
  const scene = viewer.scene;
  const state = { on: false, time: nowMinute() };

  function applyTo(primitive) {
    if (primitive instanceof C.Cesium3DTileset) {
      primitive.shadows = state.on ? C.ShadowMode.ENABLED : C.ShadowMode.DISABLED;
    }
  }

  function apply() {
    viewer.shadows = state.on;
    // While shadows are off the sun is at the real time again (the tiles are lit by it).
    const when = state.on ? new Date(state.time) : new Date();
    viewer.clock.shouldAnimate = false;
    viewer.clock.currentTime = C.JulianDate.fromDate(when);
    const primitives = scene.primitives;
    for (let i = 0; i < primitives.length; i++) applyTo(primitives.get(i));
    scene.requestRender();
  }

  // Layers loaded later (a publish, a preview) follow the current choice.
  scene.primitives.primitiveAdded.addEventListener((primitive) => {
    applyTo(primitive);
    scene.requestRender();
  });
  apply();

  return {
    state,
    /**
     * Shadows on or off, at `time` (UTC ISO; unchanged when omitted). Invalid times keep
     * the current one. Returns the state.
     */
    set(on, time) {
      const ms = time === undefined || time === null ? Number.NaN : Date.parse(time);
      if (Number.isFinite(ms)) state.time = new Date(ms).toISOString().replace(".000Z", "Z");
      state.on = Boolean(on);
      apply();
      onChange(state);
      return state;
    },
  };
}
