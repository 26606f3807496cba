// Sensors in the viewer: /api/datastreams -> one marker per thing (state colour, shape,
// value label), the list and legend; live values from /api/sensors/stream (SSE) without
// reload; the sensor card with its history chart; the time slider replaying history;
// linked buildings coloured by state. Readiness for tests: window.twin.sensors.
import { fetchJson } from "./http.js";
import { clientPosition } from "./placement.js";
import {
  applyObservation,
  groupThings,
  normaliseDatastream,
  parseObservationEvent,
  shownValue,
  thingSummary,
} from "./sensors-data.js";
import {
  chartSeries,
  maxAgeFor,
  observationsUrl,
  RANGES,
  rangeWindow,
  valueAt,
} from "./sensors-history.js";
import { createSensorLayer } from "./sensors-layer.js";
import { createSensorPanel } from "./sensors-panel.js";
import { formatTime, markerLabel } from "./sensors-style.js";
import { t } from "./strings.js";

export const SENSOR_URLS = {
  datastreams: "/api/datastreams",
  stream: "/api/sensors/stream",
  uplot: "/uplot/",
};
const TIMEOUT_MS = 15000;
const RECONNECT_MS = [1000, 2000, 5000, 10000, 30000];
const HISTORY_POINTS = 300;
const HISTORY_PARALLEL = 4;

/**
 * @param {{viewer, notice, twin, whenReady: Promise, tilesetOf: (layer) => object|undefined,
 *          onOpen: () => void, paintFeature?: (feature, color) => void, urls?: object}} options
 *   onOpen: the card opened (close others); paintFeature: how a linked building gets its
 *   colour (sensors-layer.js)
 */
export function createSensors({
  viewer,
  notice,
  twin,
  whenReady,
  tilesetOf,
  onOpen,
  paintFeature,
  urls = SENSOR_URLS,
}) {
  const doc = document;
  const byId = new Map(); // datastream id -> normalised datastream
  let things = [];
  const thingOf = new Map(); // datastream id -> thing
  const history = new Map(); // datastream id -> chart series (time slider)
  let historyRange = null; // {key, fromS, toS} of the loaded history
  let at = null; // slider time (s), null: live
  let colourBuildings = true;
  let source = null;
  let reconnects = 0;
  let reloadTimer = 0;
  let userKey; // the logged-in person's email (null: nobody) once known

  const status = {
    loaded: false,
    error: null,
    count: 0,
    things: [],
    stream: "connecting",
    events: 0,
    lastEvent: null,
    mode: "live",
    time: null,
    open: null,
    chart: null, // {datastream, points, downsampled, range} once drawn
  };
  twin.sensors = status;

  const layer = createSensorLayer(viewer, { tilesetOf, paintFeature });
  const panel = createSensorPanel(doc, {
    onOpen: (key) => open(key, { fly: true }),
    onRetry: () => load(),
    onBuildings: (on) => {
      colourBuildings = on;
      paintBuildings();
    },
    onLoadHistory: (range) => loadHistory(range),
    onScrub: (tS) => scrub(tS),
    onLive: () => goLive(),
  });
  // The card and its chart load on the first open (sensors-card.js, sensors-chart.js).
  let card = null;
  let chart = null;
  let loadingCard = null;
  function loadCard() {
    loadingCard ??= Promise.all([import("./sensors-card.js"), import("./sensors-chart.js")]).then(
      ([cardModule, chartModule]) => {
        card = cardModule.createSensorCard(doc, {
          onClose: () => close(),
          onChart: (id, range) => chart.show(id, range),
          onZoom: (key) => layer.flyTo(key),
        });
        chart = chartModule.createHistoryChart({
          card,
          status,
          urls,
          unitOf: (id) => byId.get(String(id))?.unit.symbol ?? "",
        });
        return card;
      },
      (err) => {
        loadingCard = null; // try again at the next open
        throw err;
      },
    );
    return loadingCard;
  }

  // --- what the markers show ---------------------------------------------------------

  function valueOf(d) {
    if (at === null) return shownValue(d);
    const series = history.get(String(d.id));
    const span = historyRange.toS - historyRange.fromS;
    return shownValue(d, series ? valueAt(series, at, { maxAgeS: maxAgeFor(series, span) }) : null);
  }

  function summaryOf(thing) {
    const s = thingSummary(thing, valueOf);
    return { ...s, label: markerLabel(s) };
  }

  function paintBuildings() {
    const links = colourBuildings
      ? things
          .filter((th) => th.layer && th.objectId !== null)
          .map((th) => ({ layer: th.layer, objectId: th.objectId, state: summaryOf(th).state }))
      : [];
    layer.setBuildings(links);
  }

  function paintThing(thing) {
    const s = summaryOf(thing);
    layer.update(thing.key, s);
    panel.updateThing(thing.key, s);
    return s;
  }

  function paintAll() {
    const states = things.map((th) => paintThing(th).state);
    panel.renderLegend(states);
    paintBuildings();
  }

  // --- loading -----------------------------------------------------------------------

  async function load() {
    panel.loading();
    let answer;
    try {
      answer = await fetchJson(urls.datastreams, { timeoutMs: TIMEOUT_MS });
    } catch (err) {
      status.error = err?.message || String(err);
      panel.showError(status.error);
      console.error(`twin: sensors: ${status.error}`);
      return;
    }
    const list = (Array.isArray(answer?.datastreams) ? answer.datastreams : [])
      .map(normaliseDatastream)
      .filter(Boolean);
    byId.clear();
    thingOf.clear();
    for (const d of list) byId.set(String(d.id), d);
    things = groupThings(list);
    for (const th of things) for (const d of th.datastreams) thingOf.set(String(d.id), th);
    layer.setThings(things);
    panel.render(things, new Map(things.map((th) => [th.key, summaryOf(th)])));
    paintAll();
    Object.assign(status, {
      loaded: true,
      error: null,
      count: list.length,
      things: things.map((th) => th.key),
    });
    const openThing = card && things.find((th) => th.key === card.openKey);
    if (openThing) for (const d of openThing.datastreams) card.update(d);
  }

  /** A datastream the page does not know sent a value: reload the list (at most every 10 s). */
  function reloadSoon() {
    if (reloadTimer) return;
    reloadTimer = setTimeout(() => {
      reloadTimer = 0;
      load();
    }, 10000);
  }

  // --- live stream -------------------------------------------------------------------

  function onObservation(event) {
    const obs = parseObservationEvent(event.data);
    if (!obs) return;
    status.events += 1;
    const what = applyObservation(byId, { ...obs, datastream_id: String(obs.datastream_id) });
    if (what === "unknown") reloadSoon();
    if (what !== "updated") return;
    status.lastEvent = {
      datastream: obs.datastream_id,
      id: obs.id,
      result: obs.result,
      state: obs.state,
      receivedAt: Date.now(),
    };
    const d = byId.get(String(obs.datastream_id));
    card?.update(d);
    chart?.append(d.id, obs.ms / 1000, obs.result);
    if (at === null) {
      const thing = thingOf.get(String(d.id));
      if (thing) paintThing(thing);
      panel.renderLegend(things.map((th) => summaryOf(th).state));
      paintBuildings();
    }
  }

  function connect() {
    if (typeof EventSource === "undefined") return;
    status.stream = "connecting";
    panel.setStream("connecting");
    const es = new EventSource(urls.stream);
    source = es;
    es.addEventListener("observation", onObservation);
    es.addEventListener("open", () => {
      status.stream = "open";
      panel.setStream("open");
      // After a fresh connection (not a resume), catch up with what was missed.
      if (reconnects > 0) load();
      reconnects = 0;
    });
    es.addEventListener("error", () => {
      status.stream = "error";
      panel.setStream("error");
      // EventSource resumes by itself (Last-Event-ID) unless the server refused: then
      // it is closed, and a new one is made after a growing pause.
      if (es.readyState === EventSource.CLOSED && source === es) {
        const wait = RECONNECT_MS[Math.min(reconnects, RECONNECT_MS.length - 1)];
        reconnects += 1;
        setTimeout(() => source === es && connect(), wait);
      }
    });
  }

  // --- card and chart ----------------------------------------------------------------

  function open(key, { fly = false } = {}) {
    const thing = things.find((th) => th.key === key);
    if (!thing) return false;
    onOpen?.();
    layer.select(key);
    panel.markOpen(key);
    status.open = key;
    loadCard().then(
      (c) => status.open === key && c.show(things.find((th) => th.key === key) ?? thing),
      (err) => {
        console.error("twin: the sensor card did not load", err);
        notice.announce(String(err?.message || err));
      },
    );
    notice.announce(thing.name);
    if (fly && thing.position) layer.flyTo(key);
    return true;
  }

  function close() {
    if (status.open === null) return;
    chart?.clear();
    const hadFocus = card ? card.hide() : false;
    layer.select(null);
    panel.markOpen(null);
    status.open = null;
    if (hadFocus) doc.getElementById("map").focus();
  }

  // --- time slider -------------------------------------------------------------------

  async function loadHistory(range) {
    panel.setTimeline("loading");
    const win = rangeWindow(range);
    const ids = [...byId.keys()];
    const loaded = new Map();
    try {
      for (let i = 0; i < ids.length; i += HISTORY_PARALLEL) {
        const batch = ids.slice(i, i + HISTORY_PARALLEL);
        const answers = await Promise.all(
          batch.map((id) =>
            fetchJson(
              observationsUrl(urls.datastreams, id, { ...win, maxPoints: HISTORY_POINTS }),
              { timeoutMs: TIMEOUT_MS },
            ),
          ),
        );
        answers.forEach((a, j) => loaded.set(batch[j], chartSeries(a)));
      }
    } catch (err) {
      panel.setTimeline({ error: err?.message || String(err) });
      return;
    }
    history.clear();
    for (const [id, s] of loaded) history.set(id, s);
    historyRange = { key: range, fromS: win.fromS, toS: win.toS, seconds: RANGES[range] };
    panel.setTimeline({ fromS: win.fromS, toS: win.toS });
    scrub(win.toS);
  }

  function scrub(tS) {
    if (!historyRange) return;
    at = Math.min(Math.max(tS, historyRange.fromS), historyRange.toS);
    status.mode = "history";
    status.time = new Date(at * 1000).toISOString();
    paintAll();
    panel.setTimeline(null, t("sensors.showing", { time: formatTime(at * 1000) }));
  }

  function goLive() {
    at = null;
    status.mode = "live";
    status.time = null;
    panel.setTimeline("live");
    paintAll();
  }

  doc.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && status.open !== null && !doc.querySelector("dialog[open]")) {
      e.preventDefault();
      close();
    }
  });

  // --- test and embedding helpers (not enumerable) -----------------------------------

  const hidden = (name, value) => Object.defineProperty(status, name, { enumerable: false, value });
  hidden("marker", (key) => layer.marker(key));
  hidden("summary", (key) => {
    const thing = things.find((th) => th.key === key);
    return thing ? summaryOf(thing) : null;
  });
  hidden("thingOf", (datastreamId) => thingOf.get(String(datastreamId))?.key ?? null);
  hidden("screenPosition", (key) => clientPosition(viewer, layer.position(key)));
  hidden("hitAt", (clientX, clientY) => {
    const rect = viewer.canvas.getBoundingClientRect();
    const at = new globalThis.Cesium.Cartesian2(clientX - rect.left, clientY - rect.top);
    return layer.interpret(viewer.scene.pick(at));
  });
  hidden("buildingColor", (layerName, objectId) => layer.buildingColor(layerName, objectId));
  hidden("show", (key) => open(key, { fly: false }));
  hidden("scrub", (tS) => scrub(tS));
  hidden("reload", () => load());

  return {
    async start() {
      connect();
      await load();
      // Linked buildings: their tilesets load after the sensors.
      whenReady.then(() => paintBuildings());
    },
    close,
    /** The state colour of a building linked to a sensor (a Cesium.Color), or undefined. */
    linkedColor: (feature) => layer.linkedColor(feature),
    /** The time slider at an ISO time (a shared link): loads the shortest range holding it. */
    async showTime(iso) {
      const ms = Date.parse(iso);
      const ageS = (Date.now() - ms) / 1000;
      const range = Object.keys(RANGES).find((k) => RANGES[k] >= ageS);
      if (!Number.isFinite(ms) || ageS < 0 || !range || !byId.size) return false;
      await loadHistory(range);
      scrub(ms / 1000);
      return status.mode === "history";
    },
    live: () => goLive(),
    /** Open a thing's card and fly to its marker (the "På kartan" list). */
    openThing: (key) => open(key, { fly: true }),
    /** Each listed thing's name and what its marker shows (live or at the slider's time). */
    summaries: () => things.map((th) => ({ key: th.key, name: th.name, ...summaryOf(th) })),
    /** Login or logout: what this person may see changed; reload and reconnect. */
    setUser(user) {
      const key = user?.email ?? null;
      if (key === userKey) return;
      const first = userKey === undefined;
      userKey = key;
      if (first && key === null) return; // the page's first answer: nobody logged in
      if (!status.loaded && !status.error) return; // the first load sees the session already
      const old = source;
      source = null;
      old?.close();
      reconnects = 0;
      connect();
      load();
    },
    get cardOpen() {
      return status.open !== null;
    },
    /** A click on the canvas: true when it hit a sensor marker (its card opens). */
    click(picked) {
      const key = layer.interpret(picked);
      return key !== null && open(key);
    },
    /** True when the pointer is over a sensor marker. */
    hover(picked) {
      return layer.interpret(picked) !== null;
    },
  };
}
