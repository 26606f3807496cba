// The tools on the map: measure (distance, height, area), shadows at a date and time,
// pedestrian view and screenshot. Wires the toolbar and panels (tools-panel.js) to
// measure.js, shadows.js, pedestrian.js and screenshot.js.
//
// One mode at a time (distance, height, area, pedestrian: aria-pressed); Escape or the
// pressed button leaves it. While a mode is on, main.js hands clicks to tools.click first
// and skips its hover highlight. State for tests and embedding pages: window.twin.tools.
import { el } from "./dom.js";
import { createMeasure, MODES } from "./measure.js";
import { createPedestrian, EYE_HEIGHT } from "./pedestrian.js";
import { takeScreenshot } from "./screenshot.js";
import { createShadows, fromLocalInput, nowMinute, toLocalInput } from "./shadows.js";
import { formatDateTime, formatNumber, t } from "./strings.js";
import { buildToolsDom } from "./tools-panel.js";

/** Typing into a field or pressing a button: keys are theirs, not the tools'. */
function typing(target) {
  return Boolean(target?.closest?.("input, select, textarea, button, a, [contenteditable]"));
}

/**
 * Every entity drawn over the model: project areas and pins, sensor markers, the
 * measurement. The walker stands on the model and the ground, never on these.
 */
function overlays(viewer) {
  const out = [...viewer.entities.values];
  for (let i = 0; i < viewer.dataSources.length; i++) {
    out.push(...viewer.dataSources.get(i).entities.values);
  }
  return out;
}

/**
 * @param {{viewer, doc: Document, twin, notice, config, onActivate: () => void}} options
 *   onActivate: called when a mode starts (main.js clears the selection)
 */
export function createTools({ viewer, doc, twin, notice, config, onActivate }) {
  const win = doc.defaultView;
  const status = {
    mode: null, // "distance" | "height" | "area" | "pedestrian" | null
    measure: { mode: null, points: 0, finished: false, summary: "", lines: [], value: null },
    shadows: { on: false, time: null },
    pedestrian: { mode: "off", surface: null, returning: false },
    screenshot: null, // {name, width, height, bytes, ms} of the last one
  };
  twin.tools = status;

  const {
    bar,
    menu,
    modeButtons,
    shadowsButton,
    shotButton,
    measurePanel,
    measureClose,
    summary,
    lines,
    finishButton,
    clearButton,
    shadowsPanel,
    shadowsClose,
    shadowsOn,
    shadowsTime,
    shadowsNow,
    hint,
    hintText,
    hintExit,
  } = buildToolsDom(doc);

  // --- the tools -----------------------------------------------------------------------

  const measure = createMeasure(viewer, {
    onChange(s) {
      const r = s.result;
      Object.assign(status.measure, {
        mode: s.mode,
        points: s.points.length,
        finished: s.finished,
        summary: r?.summary ?? "",
        lines: r?.lines ?? [],
        value: r?.value ?? null,
      });
      summary.textContent = r?.summary ?? "";
      lines.replaceChildren(...(r?.lines ?? []).map((text) => el(doc, "li", { text })));
      finishButton.hidden = s.mode === "height" || s.finished;
      clearButton.disabled = !s.points.length;
    },
  });
  Object.defineProperty(status.measure, "world", {
    enumerable: false,
    value: () => measure.worldPoints(),
  });

  const shadows = createShadows(viewer, {
    onChange(s) {
      status.shadows = { on: s.on, time: s.time };
      shadowsOn.checked = s.on;
      shadowsTime.value = toLocalInput(s.time);
      shadowsButton.classList.toggle("active", s.on);
    },
  });
  status.shadows = { on: false, time: shadows.state.time };
  shadowsTime.value = toLocalInput(shadows.state.time);

  const pedestrian = createPedestrian(viewer, {
    exclude: () => overlays(viewer),
    onChange(s) {
      status.pedestrian = { mode: s.mode, surface: s.surface, returning: s.returning };
      if (s.mode === "picking") hintText.textContent = t("pedestrian.pick");
      else if (s.mode === "walking") hintText.textContent = t("pedestrian.walk");
      hint.hidden = s.mode === "off";
    },
  });

  // --- modes ---------------------------------------------------------------------------

  /** The button itself when it is shown, else the phone's menu button. */
  const visible = (button) => (button.offsetParent !== null ? button : menu);

  function setMenu(open) {
    bar.classList.toggle("open", open);
    menu.setAttribute("aria-expanded", String(open));
  }

  function setMode(mode) {
    const previous = status.mode;
    if (previous === mode) return;
    if (MODES.includes(previous)) measure.stop();
    if (previous === "pedestrian") pedestrian.stop();
    status.mode = mode;
    for (const [name, button] of Object.entries(modeButtons)) {
      button.setAttribute("aria-pressed", String(name === mode));
    }
    measurePanel.hidden = !MODES.includes(mode);
    if (mode) onActivate?.();
    if (MODES.includes(mode)) measure.start(mode);
    if (mode === "pedestrian") pedestrian.start();
    viewer.scene.canvas.style.cursor = mode && mode !== "pedestrian" ? "crosshair" : "";
    if (mode && bar.classList.contains("open")) {
      // The phone's menu folds once a tool is chosen; focus stays on what is still shown.
      const hadFocus = bar.contains(doc.activeElement);
      setMenu(false);
      if (hadFocus) menu.focus();
    }
    if (!mode && previous) notice.announce(t("tools.left"));
  }

  for (const [name, button] of Object.entries(modeButtons)) {
    button.addEventListener("click", () => setMode(status.mode === name ? null : name));
  }
  measureClose.addEventListener("click", () => {
    const mode = status.mode;
    setMode(null);
    if (mode) visible(modeButtons[mode]).focus();
  });
  finishButton.addEventListener("click", () => measure.finish());
  clearButton.addEventListener("click", () => measure.clear());
  hintExit.addEventListener("click", () => setMode(null));
  menu.addEventListener("click", () => setMenu(!bar.classList.contains("open")));

  function showShadowsPanel(open) {
    shadowsPanel.hidden = !open;
    shadowsButton.setAttribute("aria-expanded", String(open));
  }
  shadowsButton.addEventListener("click", () => {
    showShadowsPanel(shadowsPanel.hidden);
    if (!shadowsPanel.hidden) {
      setMenu(false);
      shadowsOn.focus();
    }
  });
  shadowsClose.addEventListener("click", () => {
    showShadowsPanel(false);
    visible(shadowsButton).focus();
  });
  function announceShadows() {
    const s = shadows.state;
    const text = s.on ? t("shadows.shown", { time: formatDateTime(s.time) }) : t("shadows.hidden");
    notice.announce(text);
  }
  shadowsOn.addEventListener("change", () => {
    shadows.set(shadowsOn.checked, fromLocalInput(shadowsTime.value));
    showShadowsPanel(true);
    announceShadows();
  });
  shadowsTime.addEventListener("change", () => {
    const time = fromLocalInput(shadowsTime.value);
    if (time) shadows.set(shadows.state.on, time);
  });
  shadowsNow.addEventListener("click", () => {
    shadows.set(shadows.state.on, nowMinute());
    announceShadows();
  });

  shotButton.addEventListener("click", () => shoot());

  function attribution() {
    const titles = config.layers
      .filter((l) => twin.layers[l.name]?.shown && twin.layers[l.name]?.loaded)
      .map((l) => l.title);
    const parts = [];
    if (titles.length) parts.push(t("screenshot.layers", { titles: titles.join(", ") }));
    if (config.baseMap?.credit) parts.push(config.baseMap.credit);
    return ["twin", ...parts].join(" · ");
  }

  async function shoot() {
    shotButton.disabled = true;
    try {
      status.screenshot = await takeScreenshot(viewer, { attribution: attribution() });
      notice.announce(t("screenshot.saved", { name: status.screenshot.name }));
    } catch (err) {
      console.error("twin: screenshot", err);
      notice.announce(t("screenshot.failed", { message: err?.message || err }));
    } finally {
      shotButton.disabled = false;
    }
  }

  // --- keys ----------------------------------------------------------------------------

  // Capturing on the window: a tool's Escape is not also the object panel's or the card's.
  win.addEventListener(
    "keydown",
    (event) => {
      if (event.key === "Escape" && (status.mode || bar.classList.contains("open"))) {
        const mode = status.mode;
        const inMenu = bar.contains(doc.activeElement);
        setMenu(false);
        setMode(null);
        if (!mode && inMenu) menu.focus();
        event.preventDefault();
        event.stopPropagation();
        if (mode) visible(modeButtons[mode]).focus();
        return;
      }
      if (event.key === "Escape" && !shadowsPanel.hidden && shadowsPanel.contains(event.target)) {
        showShadowsPanel(false);
        visible(shadowsButton).focus();
        event.preventDefault();
        event.stopPropagation();
        return;
      }
      if (event.key === "Enter" && MODES.includes(status.mode) && !typing(event.target)) {
        measure.finish();
        event.preventDefault();
        return;
      }
      if (status.mode === "pedestrian" && !typing(event.target) && pedestrian.key(event, true)) {
        event.preventDefault();
      }
    },
    true,
  );
  win.addEventListener("keyup", (event) => {
    if (status.mode === "pedestrian") pedestrian.key(event, false);
  });
  win.addEventListener("blur", () => pedestrian.release());
  // Arrow keys move between the toolbar's buttons.
  bar.addEventListener("keydown", (event) => {
    if (!["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(event.key)) return;
    const all = [...bar.querySelectorAll("button")].filter((b) => b.offsetParent !== null);
    const at = all.indexOf(doc.activeElement);
    if (at < 0) return;
    const delta = event.key === "ArrowLeft" || event.key === "ArrowUp" ? -1 : 1;
    all[(at + delta + all.length) % all.length].focus();
    event.preventDefault();
    event.stopPropagation();
  });

  // Double click finishes a polyline or polygon (the clicks before it added its points).
  const C = globalThis.Cesium;
  const handler = new C.ScreenSpaceEventHandler(viewer.scene.canvas);
  handler.setInputAction(() => {
    if (MODES.includes(status.mode)) measure.finish();
  }, C.ScreenSpaceEventType.LEFT_DOUBLE_CLICK);

  return {
    /** A mode is on: main.js gives it the clicks and does no hover highlight. */
    get active() {
      return status.mode !== null;
    },
    /** A click on the canvas (CSS px): true when a tool took it. */
    click(position) {
      if (MODES.includes(status.mode)) {
        if (!measure.click(position)) notice.announce(t("measure.noPoint"));
        return true;
      }
      if (status.mode === "pedestrian") {
        const was = pedestrian.state.mode;
        pedestrian.click(position);
        if (was === "picking" && pedestrian.state.mode === "walking") {
          doc.getElementById("map").focus();
          const height = `${formatNumber(EYE_HEIGHT, { maximumFractionDigits: 1 })}\u00a0m`;
          notice.announce(t("pedestrian.entered", { height }));
        }
        return true;
      }
      return false;
    },
    /** True when `picked` is the tools' own drawing (never an object to select). */
    owns(picked) {
      return measure.owns(picked);
    },
    /** Shadows for url-sync.js: state {on, time} and set(on, time). */
    shadows,
    setMode,
  };
}
