import assert from "node:assert/strict";
import { test } from "node:test";

import {
  applyObservation,
  groupThings,
  normaliseDatastream,
  parseObservationEvent,
  pointOf,
  shownValue,
  thingSummary,
} from "../../viewer/js/sensors-data.js";
import {
  appendPoint,
  bucketText,
  chartSeries,
  maxAgeFor,
  maxPointsFor,
  observationsUrl,
  pointCount,
  rangeWindow,
  valueAt,
} from "../../viewer/js/sensors-history.js";
import {
  displayState,
  evaluateState,
  formatResult,
  formatTime,
  legendRows,
  markerLabel,
  markerSvg,
  STATE_STYLES,
  STATES,
  stateColor,
  worstState,
} from "../../viewer/js/sensors-style.js";

/** A datastream as GET /api/datastreams returns it. */
function apiDatastream(id, overrides = {}) {
  return {
    id,
    key: `ds-${id}`,
    name: `PM10 ${id}`,
    description: "",
    unit: { name: "microgram per cubic metre", symbol: "µg/m³", definition: "" },
    observed_property: { id: 1, name: "PM10", definition: "" },
    sensor: { id: 1, name: "SDS011" },
    thing: {
      id: 10,
      name: "Station Stortorget",
      location: { type: "Point", coordinates: [12.69, 56.04] },
      layer: "demo",
      object_id: "bag-42",
      project_id: null,
    },
    visibility: "public",
    organisation: "DEMO",
    replay: false,
    thresholds: { warning: 40, alarm: 80, direction: "above" },
    latest: { id: 5, phenomenon_time: "2026-11-27T20:00:00Z", result: 12.5, state: "ok" },
    ...overrides,
  };
}

// --- state -> colour, shape, legend -----------------------------------------------------

test("every state has its own colour, shape and legend row; unknown states are 'no data'", () => {
  const colors = new Set(STATES.map(stateColor));
  const shapes = new Set(STATES.map((s) => STATE_STYLES[s].shape));
  assert.equal(colors.size, STATES.length);
  assert.equal(shapes.size, STATES.length, "colour is never the only cue");
  assert.equal(stateColor("alarm"), "#C3002F");
  assert.equal(stateColor("ok"), "#009E73");
  assert.equal(stateColor("bogus"), stateColor("none"));
  for (const s of STATES) assert.match(markerSvg(s), new RegExp(`fill="${stateColor(s)}"`));
  assert.match(markerSvg("ok", { selected: true }), /#ffd400/);
  assert.doesNotMatch(markerSvg("ok"), /#ffd400/);
});

test("the display state: server state, a value without thresholds, or no data", () => {
  assert.equal(displayState(null), "none");
  assert.equal(displayState({ result: null, state: "ok" }), "none");
  assert.equal(displayState({ result: 3, state: null }), "neutral");
  assert.equal(displayState({ result: 3, state: "warning" }), "warning");
  assert.equal(displayState({ result: 3, state: "nonsense" }), "neutral");
  assert.equal(worstState(["ok", "alarm", "warning"]), "alarm");
  assert.equal(worstState(["none", "ok"]), "ok");
  assert.equal(worstState([]), "none");
});

test("thresholds are evaluated like the server: at the level counts, above or below", () => {
  const above = { warning: 40, alarm: 80, direction: "above" };
  assert.equal(evaluateState(39.9, above), "ok");
  assert.equal(evaluateState(40, above), "warning");
  assert.equal(evaluateState(80, above), "alarm");
  assert.equal(evaluateState(500, above), "alarm");
  const below = { warning: 0.5, alarm: 0.2, direction: "below" };
  assert.equal(evaluateState(1, below), "ok");
  assert.equal(evaluateState(0.5, below), "warning");
  assert.equal(evaluateState(0.1, below), "alarm");
  assert.equal(evaluateState(90, { warning: null, alarm: 80 }), "alarm");
  assert.equal(evaluateState(50, { warning: null, alarm: 80 }), "ok");
  assert.equal(evaluateState(5, { warning: null, alarm: null }), null);
  assert.equal(evaluateState("high", above), null);
  assert.equal(evaluateState(Number.NaN, above), null);
});

test("the legend lists every state worst first with its count, in Swedish", () => {
  const rows = legendRows(["ok", "ok", "alarm", "weird"]);
  assert.deepEqual(
    rows.map((r) => [r.state, r.count]),
    [
      ["alarm", 1],
      ["warning", 0],
      ["ok", 2],
      ["neutral", 0],
      ["none", 1],
    ],
  );
  assert.equal(rows[0].label, "Larm");
  assert.equal(rows[2].label, "Normalt");
  assert.equal(rows[4].label, "Inga data");
  assert.equal(rows[0].color, stateColor("alarm"));
});

test("values and times are formatted for sv-SE; the label carries the state's mark and 'repris'", () => {
  assert.equal(formatResult(12.345, { symbol: "µg/m³" }), "12,35 µg/m³");
  assert.equal(formatResult(1234.5, { symbol: "" }), "1\u00a0234,5");
  assert.equal(formatResult(null, { symbol: "°C" }), "–");
  assert.equal(formatResult("open", null), "open");
  assert.equal(
    formatTime("2026-11-27T20:05:00Z", { timeZone: "Europe/Stockholm" }),
    "2026-11-27 21:05",
  );
  assert.equal(formatTime("not a time"), "–");
  const unit = { symbol: "µg/m³" };
  assert.equal(markerLabel({ state: "ok", result: 12, unit, replay: false }), "12 µg/m³");
  assert.equal(
    markerLabel({ state: "alarm", result: 95, unit, replay: true }),
    "!! 95 µg/m³ · repris",
  );
  assert.equal(markerLabel({ state: "none", result: null, unit, replay: false }), "inga data");
});

// --- datastreams, things, the stream reducer ------------------------------------------

test("datastreams are checked: bad locations and thresholds are dropped, not trusted", () => {
  assert.equal(normaliseDatastream(null), null);
  assert.equal(normaliseDatastream({ name: "no id" }), null);
  assert.deepEqual(pointOf({ type: "Point", coordinates: [12.7, 56.0, 31.5] }), [12.7, 56.0, 31.5]);
  assert.equal(pointOf({ type: "Point", coordinates: [12.7, 95] }), null);
  assert.equal(pointOf({ type: "LineString", coordinates: [[0, 0]] }), null);
  const d = normaliseDatastream(
    apiDatastream(3, {
      thresholds: { warning: "40", alarm: Infinity, direction: "sideways" },
      latest: { id: 1, phenomenon_time: "garbage", result: 1 },
      thing: { id: 9, name: "<b>x</b>", location: null, layer: "", object_id: 7 },
    }),
  );
  assert.deepEqual(d.thresholds, { warning: null, alarm: null, direction: "above" });
  assert.equal(d.latest, null);
  assert.equal(d.thing.position, null);
  assert.equal(d.thing.layer, null);
  assert.equal(d.thing.objectId, "7");
  assert.equal(d.thing.name, "<b>x</b>", "text stays text; the DOM sets it with textContent");
});

test("datastreams of one thing share one marker showing the worst state", () => {
  const list = [
    apiDatastream(1),
    apiDatastream(2, {
      name: "NO2",
      latest: { id: 9, phenomenon_time: "2026-11-27T20:00:00Z", result: 90, state: "alarm" },
    }),
    apiDatastream(3, {
      thing: { id: 11, name: "Other", location: null },
      latest: null,
      replay: true,
    }),
  ].map(normaliseDatastream);
  const things = groupThings(list);
  assert.deepEqual(
    things.map((t) => [t.key, t.datastreams.map((d) => d.id)]),
    [
      ["10", [1, 2]],
      ["11", [3]],
    ],
  );
  assert.deepEqual(things[0].position, [12.69, 56.04]);
  const live = thingSummary(things[0], (d) => shownValue(d));
  assert.equal(live.state, "alarm");
  assert.equal(live.result, 90);
  assert.equal(live.datastream, 2);
  const other = thingSummary(things[1], (d) => shownValue(d));
  assert.deepEqual([other.state, other.result, other.replay], ["none", null, true]);
});

test("the stream reducer applies newer observations and ignores older, duplicate and unknown ones", () => {
  const byId = new Map([["1", normaliseDatastream(apiDatastream(1))]]);
  const event = (o) =>
    parseObservationEvent(
      JSON.stringify({
        datastream_id: "1",
        id: 6,
        phenomenon_time: "2026-11-27T20:01:00Z",
        result: 95,
        state: "alarm",
        ...o,
      }),
    );
  assert.equal(applyObservation(byId, event({})), "updated");
  assert.equal(byId.get("1").latest.result, 95);
  assert.equal(displayState(byId.get("1").latest), "alarm");
  assert.equal(applyObservation(byId, event({})), "older", "the same observation twice");
  assert.equal(
    applyObservation(byId, event({ id: 4, phenomenon_time: "2026-11-27T19:00:00Z", result: 1 })),
    "older",
  );
  assert.equal(byId.get("1").latest.result, 95, "a late reading never overwrites a newer one");
  assert.equal(
    applyObservation(
      byId,
      event({ id: 7, phenomenon_time: "2026-11-27T20:02:00Z", result: 3, state: "ok" }),
    ),
    "updated",
  );
  assert.equal(byId.get("1").latest.state, "ok");
  assert.equal(applyObservation(byId, event({ datastream_id: "99" })), "unknown");
  assert.equal(parseObservationEvent("{not json"), null);
  assert.equal(
    parseObservationEvent(JSON.stringify({ datastream_id: 1, phenomenon_time: "x" })),
    null,
  );
  assert.equal(parseObservationEvent(JSON.stringify([1, 2])), null);
  assert.equal(
    parseObservationEvent(
      JSON.stringify({ datastream_id: 1, phenomenon_time: "2026-11-27T20:00:00Z", state: "evil" }),
    ).state,
    null,
  );
});

// --- ranges, buckets, chart series, value at a time ----------------------------------

test("range windows end now and have the chosen length; the query asks for a bounded count", () => {
  const now = Date.parse("2026-11-27T20:00:00.400Z");
  const day = rangeWindow("24h", now);
  assert.equal(day.to, "2026-11-27T20:00:01Z");
  assert.equal(day.from, "2026-11-26T20:00:01Z");
  assert.equal(day.toS - day.fromS, 86400);
  assert.equal(rangeWindow("30d", now).toS - rangeWindow("30d", now).fromS, 30 * 86400);
  assert.equal(rangeWindow("bogus", now).toS - rangeWindow("bogus", now).fromS, 86400);
  assert.equal(maxPointsFor(360), 180);
  assert.equal(maxPointsFor(20), 50);
  assert.equal(maxPointsFor(9999), 1000);
  const url = observationsUrl("/api/datastreams/", "a/b", {
    from: day.from,
    to: day.to,
    maxPoints: 180,
  });
  assert.equal(
    url,
    "/api/datastreams/a%2Fb/observations?from=2026-11-26T20%3A00%3A01Z&to=2026-11-27T20%3A00%3A01Z&max_points=180",
  );
  assert.equal(bucketText(900), "15 min");
  assert.equal(bucketText(5400), "1,5 h");
  assert.equal(bucketText(86400), "1 dygn");
});

test("raw observations become a sorted line that breaks at long gaps", () => {
  const obs = [0, 60, 120, 180, 3600, 3660].map((s, i) => ({
    t: new Date(s * 1000).toISOString(),
    result: i,
  }));
  obs.reverse();
  obs.push({ t: "bad", result: 9 }, { t: new Date(240 * 1000).toISOString(), result: "text" });
  const s = chartSeries({ downsampled: false, observations: obs });
  assert.equal(s.downsampled, false);
  assert.deepEqual(s.x.slice(0, 5), [0, 60, 120, 180, 240]);
  const gap = s.value.indexOf(null, 5);
  assert.ok(gap > 0 && s.x[gap] > 240 && s.x[gap] < 3600, "a null breaks the line in the gap");
  assert.deepEqual(s.value.slice(0, 4), [0, 1, 2, 3]);
  assert.equal(s.value[4], null, "a non-numeric result is no point");
  assert.equal(pointCount(s), 6);
});

test("downsampled answers give mean and a min-max band; gaps wider than two buckets break it", () => {
  const b = (s, mean) => ({
    t: new Date(s * 1000).toISOString(),
    min: mean - 1,
    mean,
    max: mean + 1,
    count: 4,
  });
  const s = chartSeries({
    downsampled: true,
    bucket_seconds: 3600,
    observations: [b(0, 10), b(3600, 20), b(4 * 3600, 30)],
  });
  assert.equal(s.downsampled, true);
  assert.equal(s.bucket, 3600);
  assert.deepEqual(s.mean, [10, 20, null, 30]);
  assert.deepEqual(s.min, [9, 19, null, 29]);
  assert.deepEqual(s.max, [11, 21, null, 31]);
  assert.equal(pointCount(s), 3);
  assert.equal(maxAgeFor(s, 86400), 7200);
  assert.equal(chartSeries(null).x.length, 0);
});

test("the slider's value at a time is the last value at or before it, within its age", () => {
  const s = chartSeries({
    downsampled: false,
    observations: [0, 600, 1200, 1800].map((sec, i) => ({
      t: new Date(sec * 1000).toISOString(),
      result: 10 * (i + 1),
    })),
  });
  assert.equal(valueAt(s, -1), null, "before the first value");
  assert.deepEqual(valueAt(s, 0), { value: 10, t: 0 });
  assert.deepEqual(valueAt(s, 599), { value: 10, t: 0 });
  assert.deepEqual(valueAt(s, 600), { value: 20, t: 600 });
  assert.deepEqual(valueAt(s, 99999), { value: 40, t: 1800 });
  assert.equal(valueAt(s, 99999, { maxAgeS: 3600 }), null, "too old to count");
  assert.equal(valueAt({ x: [], value: [] }, 5), null);
  const d = normaliseDatastream(apiDatastream(1));
  const replayed = shownValue(d, valueAt(s, 1300));
  assert.deepEqual(replayed, { result: 30, state: "ok", time: 1200 * 1000 });
  assert.equal(shownValue(d, { value: 85, t: 5 }).state, "alarm", "evaluated from the thresholds");
  assert.equal(shownValue(d, null).state, "none");
});

test("a live value extends the open raw chart; older values and downsampled charts are left alone", () => {
  const raw = chartSeries({
    downsampled: false,
    observations: [{ t: "2026-11-27T20:00:00Z", result: 1 }],
  });
  const t0 = Date.parse("2026-11-27T20:00:00Z") / 1000;
  assert.equal(appendPoint(raw, t0 + 60, 2), true);
  assert.deepEqual(
    [raw.x, raw.value],
    [
      [t0, t0 + 60],
      [1, 2],
    ],
  );
  assert.equal(appendPoint(raw, t0 + 30, 5), false, "older than the last point");
  assert.equal(appendPoint(raw, t0 + 90, "high"), false);
  assert.equal(pointCount(raw), 2);
  const buckets = chartSeries({ downsampled: true, bucket_seconds: 60, observations: [] });
  assert.equal(appendPoint(buckets, t0, 3), false);
});
