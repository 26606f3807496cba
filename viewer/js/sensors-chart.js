// The history chart of the sensor card: uPlot (npm `uplot`, served by the app under
// /uplot/), loaded on first use. A line of the values, or when the server downsampled the
// range, the mean per bucket with a min–max band; live values extend a raw line. DOM and
// fetch.
import { fetchJson } from "./http.js";
import {
  appendPoint,
  bucketText,
  chartSeries,
  maxPointsFor,
  observationsUrl,
  pointCount,
  rangeWindow,
} from "./sensors-history.js";
import { locale as currentLocale, t } from "./strings.js";

const TIMEOUT_MS = 15000;

const LINE = "#0072B2";
const BAND = "rgba(0, 114, 178, 0.22)";
let loading = null;

/** uPlot's constructor, its module and stylesheet loaded once from `baseUrl`. */
function loadUplot(doc, baseUrl) {
  if (!loading) {
    const base = baseUrl.replace(/\/?$/, "/");
    const link = doc.createElement("link");
    link.rel = "stylesheet";
    link.href = `${base}uPlot.min.css`;
    doc.head.append(link);
    loading = import(`${base}uPlot.esm.js`).then((m) => m.default);
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

/**
 * Draw `series` (from sensors-history.js chartSeries) into `container`, replacing what was
 * there. Resolves to a handle with destroy(); the chart follows the container's width.
 * @param {{baseUrl: string, unit: string, height?: number}} options
 */
export async function drawChart(container, series, { baseUrl, unit, height = 170 }) {
  const doc = container.ownerDocument;
  const UPlot = await loadUplot(doc, baseUrl);
  const width = Math.max(container.clientWidth || 300, 200);
  const label = unit ? ` (${unit})` : "";
  const fmt = new Intl.NumberFormat(currentLocale, { maximumFractionDigits: 2 });
  const value = (u, v) => (v === null || v === undefined ? "–" : fmt.format(v));
  const xs = series.x;
  let data;
  let lines;
  let bands;
  if (series.downsampled) {
    data = [xs, series.mean, series.min, series.max];
    lines = [
      { label: t("sensors.chartMean") + label, stroke: LINE, width: 2, value, spanGaps: false },
      { label: t("sensors.chartMin"), stroke: BAND, width: 1, value, points: { show: false } },
      { label: t("sensors.chartMax"), stroke: BAND, width: 1, value, points: { show: false } },
    ];
    bands = [{ series: [3, 2], fill: BAND }];
  } else {
    data = [xs, series.value];
    lines = [
      {
        label: t("sensors.chartValue") + label,
        stroke: LINE,
        width: 2,
        value,
        points: { show: xs.length <= 120, size: 5, fill: LINE },
      },
    ];
  }
  const opts = {
    width,
    height,
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    axes: [
      { stroke: "currentColor", grid: { stroke: "rgba(127,127,127,0.25)" } },
      { stroke: "currentColor", grid: { stroke: "rgba(127,127,127,0.25)" }, size: 52 },
    ],
    series: [
      {
        label: t("sensors.at"),
        value: (u, v) => (v ? new Date(v * 1000).toLocaleString(currentLocale) : "–"),
      },
      ...lines,
    ],
    ...(bands ? { bands } : {}),
  };
  container.replaceChildren();
  const plot = new UPlot(opts, data, container);
  const observer = new ResizeObserver(() => {
    const w = Math.max(container.clientWidth || 300, 200);
    if (Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height });
  });
  observer.observe(container);
  return {
    plot,
    destroy() {
      observer.disconnect();
      plot.destroy();
    },
  };
}

/**
 * The card's chart: loads a datastream's range and draws it; a later request wins over an
 * earlier one still loading. `status.chart` is {datastream, points, downsampled, range}
 * once drawn (null while loading or closed).
 * @param {{card, status: object, urls: {datastreams: string, uplot: string},
 *          unitOf: (id) => string}} options
 */
export function createHistoryChart({ card, status, urls, unitOf }) {
  let ticket = 0;
  let drawn = null;
  let shown = null; // {id, series} of the drawn chart

  function clear() {
    ticket++;
    drawn?.destroy();
    drawn = null;
    shown = null;
    status.chart = null;
  }

  return {
    clear,
    async show(id, range) {
      clear();
      const mine = ticket;
      const target = card.chart();
      if (!target || id === undefined) return;
      card.chartText({ loading: true });
      const win = rangeWindow(range);
      const url = observationsUrl(urls.datastreams, id, {
        ...win,
        maxPoints: maxPointsFor(target.box.clientWidth),
      });
      let series;
      try {
        series = chartSeries(await fetchJson(url, { timeoutMs: TIMEOUT_MS }));
      } catch (err) {
        if (mine === ticket) card.chartText({ error: err?.message || String(err) });
        return;
      }
      if (mine !== ticket) return;
      const points = pointCount(series);
      const summary = { datastream: id, points, downsampled: series.downsampled, range };
      if (!points) {
        target.box.replaceChildren();
        card.chartText({ empty: true });
        status.chart = summary;
        return;
      }
      try {
        const chart = await drawChart(target.box, series, {
          baseUrl: urls.uplot,
          unit: unitOf(id),
        });
        if (mine !== ticket) {
          chart.destroy();
          return;
        }
        drawn = chart;
      } catch (err) {
        if (mine === ticket) card.chartText({ error: err?.message || String(err) });
        return;
      }
      card.chartText({ points, bucket: series.downsampled ? bucketText(series.bucket) : null });
      status.chart = summary;
      shown = { id: String(id), series };
    },
    /** A live value of datastream `id`: extends the drawn chart when it is that one's. */
    append(id, tS, value) {
      if (!drawn || shown?.id !== String(id) || !appendPoint(shown.series, tS, value)) return;
      drawn.plot.setData([shown.series.x, shown.series.value]);
      status.chart.points = pointCount(shown.series);
      card.chartText({ points: status.chart.points });
    },
  };
}
