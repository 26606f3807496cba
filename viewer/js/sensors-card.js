// The sensor card: one thing's datastreams with their latest value, unit, time (viewer's locale)
// and state, updated live (announced politely), and the history chart with a range
// choice. A right-hand panel like the project card, a bottom sheet on phones. DOM only.
import { el } from "./dom.js";
import { stateIcon } from "./sensors-panel.js";
import { DEFAULT_RANGE, RANGES } from "./sensors-history.js";
import { displayState, formatResult, formatTime } from "./sensors-style.js";
import { t } from "./strings.js";

/**
 * @param {Document} doc
 * @param {{onClose: () => void, onChart: (datastreamId, range: string) => void,
 *          onZoom: (key) => void}} handlers
 */
export function createSensorCard(doc, handlers) {
  const title = el(doc, "h2", { className: "info-title", attrs: { id: "sensor-card-title" } });
  const close = el(
    doc,
    "button",
    {
      className: "icon-button",
      attrs: {
        type: "button",
        id: "sensor-card-close",
        "aria-label": t("sensors.close"),
        title: t("sensors.close"),
      },
    },
    [el(doc, "span", { text: "✕", attrs: { "aria-hidden": "true" } })],
  );
  close.addEventListener("click", () => handlers.onClose());
  const body = el(doc, "div", {
    className: "panel-body card-body",
    attrs: { id: "sensor-card-body" },
  });
  const panel = el(
    doc,
    "aside",
    {
      className: "panel side-panel sensor-card",
      attrs: { id: "sensor-card", "aria-labelledby": "sensor-card-title", hidden: true },
    },
    [el(doc, "header", { className: "panel-header" }, [title, close]), body],
  );
  doc.body.append(panel);

  const rowsOf = new Map(); // datastream id -> {value, time, state}
  let chartBox = null;
  let chartStatus = null;
  let chartRange = null;
  let chartStream = null;
  let openKey = null;

  const row = (label, node) =>
    el(doc, "div", { className: "row" }, [
      el(doc, "dt", { text: label }),
      el(doc, "dd", {}, [node]),
    ]);

  function fillValue(d, parts) {
    const state = displayState(d.latest);
    parts.value.textContent = formatResult(d.latest?.result, d.unit);
    parts.time.textContent = d.latest ? formatTime(d.latest.ms) : "–";
    parts.time.dateTime = d.latest ? new Date(d.latest.ms).toISOString() : "";
    parts.state.replaceChildren(
      stateIcon(doc, state),
      el(doc, "span", { text: t(`sensors.state.${state}`) }),
    );
    parts.section.dataset.state = state;
  }

  function datastreamSection(d) {
    const parts = {
      value: el(doc, "strong", { className: "sensor-latest" }),
      time: el(doc, "time"),
      state: el(doc, "span", { className: "sensor-state" }),
    };
    const th = d.thresholds;
    const thresholds =
      th.warning !== null || th.alarm !== null
        ? t("sensors.thresholdText", {
            warning: th.warning === null ? null : formatResult(th.warning, d.unit),
            alarm: th.alarm === null ? null : formatResult(th.alarm, d.unit),
            below: th.direction === "below",
          })
        : null;
    // The value, its time and state are read out when they change while the card is open.
    // Its own <dl>: a <dl> holds only dt/dd groups (in a <div> each), not a wrapper.
    const live = el(
      doc,
      "dl",
      { className: "rows sensor-live", attrs: { "aria-live": "polite", "aria-atomic": "true" } },
      [
        row(t("sensors.latest"), parts.value),
        row(t("sensors.at"), parts.time),
        row(t("sensors.state"), parts.state),
      ],
    );
    const rows = el(doc, "dl", { className: "rows" }, [
      d.property ? row(t("sensors.property"), el(doc, "span", { text: d.property })) : null,
      d.sensor ? row(t("sensors.sensor"), el(doc, "span", { text: d.sensor })) : null,
      thresholds ? row(t("sensors.thresholds"), el(doc, "span", { text: thresholds })) : null,
    ]);
    parts.section = el(
      doc,
      "section",
      { className: "sensor-datastream", attrs: { "data-datastream": d.id } },
      [
        el(doc, "h3", { className: "rows-heading", text: d.name }),
        d.description ? el(doc, "p", { className: "muted", text: d.description }) : null,
        live,
        rows,
      ],
    );
    fillValue(d, parts);
    rowsOf.set(String(d.id), parts);
    return parts.section;
  }

  function chartControls(thing) {
    chartRange = el(doc, "select", {
      attrs: { id: "sensor-chart-range", "aria-label": t("sensors.chartRange") },
    });
    for (const key of Object.keys(RANGES)) {
      chartRange.append(
        el(doc, "option", { text: t(`sensors.range.${key}`), attrs: { value: key } }),
      );
    }
    chartRange.value = DEFAULT_RANGE;
    const controls = [chartRange];
    chartStream = null;
    if (thing.datastreams.length > 1) {
      chartStream = el(doc, "select", {
        attrs: { id: "sensor-chart-datastream", "aria-label": t("sensors.chart") },
      });
      for (const d of thing.datastreams)
        chartStream.append(el(doc, "option", { text: d.name, attrs: { value: String(d.id) } }));
      controls.unshift(chartStream);
    }
    const redraw = () => handlers.onChart(chosenDatastream(thing), chartRange.value);
    for (const c of controls) c.addEventListener("change", redraw);
    chartBox = el(doc, "div", {
      className: "sensor-chart",
      attrs: { id: "sensor-chart", role: "img", "aria-label": t("sensors.chart") },
    });
    chartStatus = el(doc, "p", {
      className: "muted sensor-chart-status",
      attrs: { id: "sensor-chart-status", "aria-live": "polite" },
    });
    return el(doc, "section", { className: "sensor-history" }, [
      el(doc, "h3", { className: "rows-heading", text: t("sensors.chart") }),
      el(doc, "div", { className: "sensor-chart-controls" }, controls),
      chartBox,
      chartStatus,
    ]);
  }

  function chosenDatastream(thing) {
    return chartStream
      ? thing.datastreams.find((d) => String(d.id) === chartStream.value)?.id
      : thing.datastreams[0]?.id;
  }

  return {
    /** Show a thing (grouped datastreams); the chart is drawn by the caller (onChart). */
    show(thing) {
      openKey = thing.key;
      rowsOf.clear();
      title.textContent = thing.name;
      const badges = [];
      if (thing.datastreams.some((d) => d.replay)) {
        badges.push(el(doc, "span", { className: "badge replay", text: t("sensors.replayBadge") }));
      }
      if (thing.datastreams.some((d) => d.visibility === "internal")) {
        badges.push(el(doc, "span", { className: "badge internal", text: t("sensors.internal") }));
      }
      const building =
        thing.layer && thing.objectId !== null
          ? el(doc, "p", {
              className: "muted",
              text: t("sensors.building", { id: thing.objectId, layer: thing.layer }),
            })
          : null;
      const zoom = thing.position
        ? el(doc, "button", {
            className: "button secondary",
            text: t("card.zoom"),
            attrs: { type: "button" },
          })
        : null;
      zoom?.addEventListener("click", () => handlers.onZoom(thing.key));
      body.replaceChildren(
        ...[
          badges.length ? el(doc, "p", { className: "badges" }, badges) : null,
          building,
          ...thing.datastreams.map(datastreamSection),
          chartControls(thing),
          zoom ? el(doc, "p", { className: "card-actions" }, [zoom]) : null,
        ].filter(Boolean),
      );
      panel.dataset.thing = thing.key;
      panel.hidden = false;
      panel.scrollTop = 0;
      handlers.onChart(chosenDatastream(thing), chartRange.value);
    },
    /** A datastream's latest value changed: refresh its rows when it is on the card. */
    update(d) {
      const parts = rowsOf.get(String(d.id));
      if (parts) fillValue(d, parts);
    },
    /** Where the chart goes and its status line, while the card is open. */
    chart() {
      return panel.hidden ? null : { box: chartBox, status: chartStatus };
    },
    /** Status line texts for the chart: {loading} | {error} | {empty} | {points, bucket}. */
    chartText({ loading, error, empty, points, bucket }) {
      if (!chartStatus) return;
      if (loading) chartStatus.textContent = t("sensors.chartLoading");
      else if (error) chartStatus.textContent = t("sensors.chartError", { message: error });
      else if (empty) chartStatus.textContent = t("sensors.chartEmpty");
      else {
        const count = t("sensors.chartPoints", { count: points });
        chartStatus.textContent = bucket
          ? `${count}. ${t("sensors.chartBand", { bucket })}`
          : count;
      }
    },
    hide() {
      const hadFocus = panel.contains(doc.activeElement);
      panel.hidden = true;
      openKey = null;
      delete panel.dataset.thing;
      return hadFocus;
    },
    focus() {
      close.focus({ preventScroll: true });
    },
    get openKey() {
      return openKey;
    },
  };
}
