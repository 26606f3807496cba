// The tools' DOM: the toolbar (buttons with icons, names and tooltips; on phones folded
// into one menu button), the measurement and shadows panels and the pedestrian hint. Texts
// from strings.js, set as text. DOM only; tools.js wires them.
import { el } from "./dom.js";
import { MODES } from "./measure.js";
import { localZone } from "./shadows.js";
import { t } from "./strings.js";

const SVG = "http://www.w3.org/2000/svg";
// 24×24 line icons (stroke only), drawn for twin.
const ICONS = {
  menu: "M14.7 6.3a4 4 0 0 0-5.4 5.4L3 18l3 3 6.3-6.3a4 4 0 0 0 5.4-5.4l-2.5 2.5-2.5-.5-.5-2.5z",
  distance: "M3 17 17 3l4 4L7 21zM7 13l2 2M10 10l2 2M13 7l2 2",
  height: "M12 3v18M8 7l4-4 4 4M8 17l4 4 4-4M3 21h18",
  area: "M4 6 14 3l7 8-5 10H5zM4 6",
  shadows: "M12 4V2M12 22v-2M4 12H2M22 12h-2M6.3 6.3 4.9 4.9M19.1 19.1l-1.4-1.4M6.3 17.7l-1.4 1.4M19.1 4.9l-1.4 1.4M12 7a5 5 0 1 0 0 10z",
  pedestrian: "M12 2.5a2 2 0 1 0 0 4 2 2 0 0 0 0-4zM9 22l2-7-2-2 1-5h4l2 5h3M14 22l-2-4M10 8l-3 4",
  screenshot: "M4 7h3l2-3h6l2 3h3v13H4zM12 10a3.5 3.5 0 1 0 0 7 3.5 3.5 0 0 0 0-7z",
};

function icon(doc, name) {
  const svg = doc.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "tool-icon");
  const path = doc.createElementNS(SVG, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

function toolButton(doc, name, label, extra = {}) {
  const button = el(doc, "button", {
    className: "icon-button tool-button",
    attrs: { type: "button", "aria-label": label, title: label, "data-tool": name, ...extra },
  });
  button.append(icon(doc, name));
  return button;
}

/** Build the tools' elements after #map; returns them by name. */
export function buildToolsDom(doc) {
  const bar = el(doc, "div", {
    className: "tools",
    attrs: { role: "toolbar", "aria-label": t("tools.toolbar"), id: "tools" },
  });
  const menu = toolButton(doc, "menu", t("tools.menu"), {
    "aria-expanded": "false",
    "aria-controls": "tools-buttons",
  });
  menu.classList.add("tools-menu");
  const buttons = el(doc, "div", { className: "tools-buttons", attrs: { id: "tools-buttons" } });
  const modeButtons = {};
  for (const name of [...MODES, "pedestrian"]) {
    modeButtons[name] = toolButton(doc, name, t(`tools.${name}`), { "aria-pressed": "false" });
    buttons.append(modeButtons[name]);
  }
  const shadowsButton = toolButton(doc, "shadows", t("tools.shadows"), {
    "aria-expanded": "false",
    "aria-controls": "shadows-panel",
  });
  const shotButton = toolButton(doc, "screenshot", t("tools.screenshot"));
  buttons.append(shadowsButton, shotButton);
  bar.append(menu, buttons);

  const panels = el(doc, "div", { className: "tools-panels" });
  // Measurement panel: the result as text (a polite live region) and Finish / Clear.
  const { panel: measurePanel, close: measureClose } = toolPanel(doc, "measure");
  const summary = el(doc, "p", {
    className: "measure-summary",
    attrs: { id: "measure-summary", "aria-live": "polite", "aria-atomic": "true" },
  });
  const lines = el(doc, "ul", { className: "measure-lines", attrs: { id: "measure-lines" } });
  const finishButton = el(doc, "button", {
    className: "button secondary",
    text: t("measure.finish"),
    attrs: { type: "button", id: "measure-finish" },
  });
  const clearButton = el(doc, "button", {
    className: "button secondary",
    text: t("measure.clear"),
    attrs: { type: "button", id: "measure-clear" },
  });
  measurePanel.append(
    el(doc, "div", { className: "panel-body" }, [
      summary,
      lines,
      el(doc, "div", { className: "tools-actions" }, [finishButton, clearButton]),
    ]),
  );

  // Shadows panel: on/off, date and time (local), "now".
  const { panel: shadowsPanel, close: shadowsClose } = toolPanel(doc, "shadows");
  const shadowsOn = el(doc, "input", { attrs: { type: "checkbox", id: "shadows-on" } });
  const shadowsTime = el(doc, "input", {
    attrs: { type: "datetime-local", id: "shadows-time", "aria-describedby": "shadows-zone" },
  });
  const shadowsNow = el(doc, "button", {
    className: "link-button",
    text: t("shadows.now"),
    attrs: { type: "button", id: "shadows-now" },
  });
  shadowsPanel.append(
    el(doc, "div", { className: "panel-body" }, [
      el(doc, "div", { className: "field check" }, [
        shadowsOn,
        el(doc, "label", { text: t("shadows.on"), attrs: { for: "shadows-on" } }),
      ]),
      el(doc, "div", { className: "field" }, [
        el(doc, "label", { text: t("shadows.time"), attrs: { for: "shadows-time" } }),
        el(doc, "div", { className: "shadows-time-row" }, [shadowsTime, shadowsNow]),
        el(doc, "p", {
          className: "muted",
          text: t("shadows.zone", { zone: localZone() || "?" }),
          attrs: { id: "shadows-zone" },
        }),
      ]),
      el(doc, "p", { className: "muted", text: t("shadows.slow") }),
    ]),
  );
  panels.append(measurePanel, shadowsPanel);

  // Pedestrian hint: what to do now, and the way back.
  const hint = el(doc, "div", { className: "tools-hint", attrs: { role: "status", hidden: true } });
  const hintText = el(doc, "span", { attrs: { id: "tools-hint-text" } });
  const hintExit = el(doc, "button", {
    className: "button secondary",
    text: t("pedestrian.exit"),
    attrs: { type: "button", id: "pedestrian-exit" },
  });
  hint.append(hintText, hintExit);

  doc.getElementById("map").after(bar, panels, hint);
  return {
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
  };

}

/** A tool's panel (hidden) with its heading and close button: texts `<name>.heading` and
 * `<name>.close`, ids `<name>-panel` and `<name>-title`. */
function toolPanel(doc, name) {
  const panel = el(doc, "section", {
    className: "panel tools-panel",
    attrs: { id: `${name}-panel`, "aria-labelledby": `${name}-title`, hidden: true },
  });
  const close = el(doc, "button", {
    className: "icon-button",
    text: "✕",
    attrs: { type: "button", "aria-label": t(`${name}.close`), title: t(`${name}.close`) },
  });
  panel.append(
    el(doc, "header", { className: "panel-header" }, [
      el(doc, "h2", { className: "info-title", text: t(`${name}.heading`), attrs: { id: `${name}-title` } }),
      close,
    ]),
  );
  return { panel, close };
}
