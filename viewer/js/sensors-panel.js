// The sensors section of the layer panel: status, a keyboard-reachable list of the
// sensors (the markers' twin), the legend, "colour linked buildings", and the time slider
// that replays history. Built here so index.html stays small. DOM only.
import { el } from "./dom.js";
import { RANGES, DEFAULT_RANGE } from "./sensors-history.js";
import { legendRows, markerSvg } from "./sensors-style.js";
import { t } from "./strings.js";

/** A small inline marker (the same shape as on the map) for lists and the legend. */
export function stateIcon(doc, state) {
  const span = el(doc, "span", { className: "sensor-icon", attrs: { "aria-hidden": "true" } });
  const svg = new doc.defaultView.DOMParser().parseFromString(markerSvg(state), "image/svg+xml");
  span.append(doc.importNode(svg.documentElement, true));
  return span;
}

/**
 * @param {Document} doc
 * @param {{onOpen: (key) => void, onRetry: () => void, onBuildings: (on: boolean) => void,
 *          onLoadHistory: (range: string) => void, onScrub: (tS: number) => void,
 *          onLive: () => void}} handlers
 */
export function createSensorPanel(doc, handlers) {
  const status = el(doc, "p", {
    className: "muted sensors-status",
    attrs: { id: "sensors-status", "aria-live": "polite" },
  });
  const stream = el(doc, "p", {
    className: "muted sensors-stream",
    attrs: { id: "sensors-stream" },
  });
  const errorText = el(doc, "span");
  const retry = el(doc, "button", {
    className: "link-button",
    text: t("sensors.retry"),
    attrs: { type: "button" },
  });
  retry.addEventListener("click", () => handlers.onRetry());
  const error = el(
    doc,
    "div",
    { className: "inline-error", attrs: { role: "alert", hidden: true } },
    [errorText, retry],
  );
  const list = el(doc, "ul", { className: "sensor-list", attrs: { id: "sensor-list" } });
  const legendList = el(doc, "ul", {
    className: "legend-list",
    attrs: { id: "sensor-legend-list" },
  });
  const legend = el(
    doc,
    "details",
    { className: "legend", attrs: { id: "sensor-legend", open: true } },
    [el(doc, "summary", { text: t("sensors.legend") }), legendList],
  );
  const buildings = el(doc, "input", {
    attrs: { type: "checkbox", id: "sensor-buildings", checked: true },
  });
  buildings.addEventListener("change", () => handlers.onBuildings(buildings.checked));
  const buildingsRow = el(doc, "label", { className: "sensor-check" }, [
    buildings,
    el(doc, "span", { text: t("sensors.buildings") }),
  ]);

  // Time slider: choose a range, load it, scrub; "Live" returns to the latest values.
  const range = el(doc, "select", { attrs: { id: "sensor-time-range" } });
  for (const key of Object.keys(RANGES)) {
    range.append(el(doc, "option", { text: t(`sensors.range.${key}`), attrs: { value: key } }));
  }
  range.value = DEFAULT_RANGE;
  const play = el(doc, "button", {
    className: "button secondary",
    text: t("sensors.play"),
    attrs: { type: "button", id: "sensor-play" },
  });
  play.addEventListener("click", () => handlers.onLoadHistory(range.value));
  const slider = el(doc, "input", {
    attrs: {
      type: "range",
      id: "sensor-time",
      min: 0,
      max: 1,
      step: 60,
      value: 1,
      disabled: true,
      "aria-label": t("sensors.time"),
    },
  });
  slider.addEventListener("input", () => handlers.onScrub(Number(slider.value)));
  const live = el(doc, "button", {
    className: "button",
    text: t("sensors.live"),
    attrs: { type: "button", id: "sensor-live", "aria-pressed": "true" },
  });
  live.addEventListener("click", () => handlers.onLive());
  const timeText = el(doc, "p", {
    className: "muted sensor-time-text",
    text: t("sensors.showingLive"),
    attrs: { id: "sensor-time-text", "aria-live": "polite" },
  });
  const time = el(doc, "fieldset", { className: "sensor-timeline" }, [
    el(doc, "legend", { text: t("sensors.timeHeading") }),
    el(doc, "div", { className: "sensor-time-controls" }, [
      el(doc, "label", {
        className: "visually-hidden",
        text: t("sensors.range"),
        attrs: { for: "sensor-time-range" },
      }),
      range,
      play,
      live,
    ]),
    slider,
    timeText,
  ]);

  const section = el(
    doc,
    "section",
    {
      className: "sensors",
      attrs: { id: "sensors", "aria-labelledby": "sensors-heading", hidden: true },
    },
    [
      el(doc, "h2", {
        className: "panel-subtitle",
        text: t("sensors.heading"),
        attrs: { id: "sensors-heading" },
      }),
      status,
      stream,
      error,
      list,
      legend,
      buildingsRow,
      time,
    ],
  );
  doc.getElementById("layer-panel-body").append(section);
  const items = new Map(); // thing key -> {button, icon, value}

  return {
    loading() {
      section.hidden = false;
      error.hidden = true;
      status.textContent = t("sensors.loading");
    },
    showError(message) {
      section.hidden = false;
      errorText.textContent = t("sensors.error", { message });
      error.hidden = false;
      status.textContent = "";
    },
    /** The sensor list; `summaries` maps thing key -> {state, label}. */
    render(things, summaries) {
      section.hidden = false;
      error.hidden = true;
      // Without sensors, the legend, the building switch and the slider have nothing to do.
      for (const part of [legend, buildingsRow, time]) part.hidden = things.length === 0;
      status.textContent = things.length
        ? t("sensors.count", { count: things.length })
        : t("sensors.empty");
      items.clear();
      list.replaceChildren(
        ...things.map((thing) => {
          const value = el(doc, "span", { className: "sensor-value" });
          const name = el(doc, "span", { className: "sensor-name", text: thing.name });
          const button = el(
            doc,
            "button",
            { className: "sensor-item", attrs: { type: "button", "data-thing": thing.key } },
            [
              el(doc, "span", { className: "sensor-icon-slot" }),
              el(doc, "span", { className: "project-text" }, [name, value]),
            ],
          );
          button.addEventListener("click", () => handlers.onOpen(thing.key));
          items.set(thing.key, { button, value });
          this.updateThing(thing.key, summaries.get(thing.key));
          return el(doc, "li", {}, [button]);
        }),
      );
    },
    updateThing(key, summary) {
      const item = items.get(key);
      if (!item || !summary) return;
      item.button.querySelector(".sensor-icon-slot").replaceChildren(stateIcon(doc, summary.state));
      item.value.textContent = `${t(`sensors.state.${summary.state}`)}: ${summary.label}`;
      item.button.dataset.state = summary.state;
    },
    renderLegend(states) {
      legendList.replaceChildren(
        ...legendRows(states).map((row) =>
          el(doc, "li", { attrs: { "data-state": row.state } }, [
            stateIcon(doc, row.state),
            el(doc, "span", { text: row.label }),
            el(doc, "span", { className: "legend-count", text: `(${row.count})` }),
          ]),
        ),
      );
    },
    markOpen(key) {
      for (const [k, item] of items) item.button.classList.toggle("open", k === key);
    },
    setStream(state) {
      stream.textContent = t(`sensors.stream.${state}`);
      stream.dataset.state = state;
    },
    /** Time slider states: "loading", {fromS, toS} (ready), {error}, "live". */
    setTimeline(state, text = "") {
      const isLive = state === "live";
      live.setAttribute("aria-pressed", String(isLive));
      play.disabled = state === "loading";
      if (state === "loading") {
        timeText.textContent = t("sensors.historyLoading");
      } else if (state?.error) {
        timeText.textContent = t("sensors.historyError", { message: state.error });
        slider.disabled = true;
      } else if (isLive) {
        timeText.textContent = t("sensors.showingLive");
        slider.disabled = true;
      } else if (state?.fromS !== undefined) {
        slider.min = String(state.fromS);
        slider.max = String(state.toS);
        slider.step = String(Math.max(60, Math.round((state.toS - state.fromS) / 500)));
        slider.value = String(state.toS);
        slider.disabled = false;
        slider.focus({ preventScroll: true });
      }
      if (text) timeText.textContent = text;
    },
  };
}
