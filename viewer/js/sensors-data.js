// The sensors the viewer knows: datastreams from /api/datastreams grouped into things
// (one marker each), and the reducer that applies live observations from the stream.
// Pure: no DOM, no Cesium.
import { displayState, evaluateState, worstState } from "./sensors-style.js";

const isId = (v) =>
  (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && v !== "");
const text = (v) => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));

/** [lon, lat] or [lon, lat, h] of a GeoJSON Point, or null. */
export function pointOf(location) {
  const c = location?.type === "Point" ? location.coordinates : null;
  if (!Array.isArray(c) || c.length < 2) return null;
  const [lon, lat, h] = c;
  if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
    return null;
  }
  return Number.isFinite(h) ? [lon, lat, h] : [lon, lat];
}

function normaliseLatest(latest) {
  if (!latest || typeof latest !== "object") return null;
  const ms = Date.parse(latest.phenomenon_time);
  if (!Number.isFinite(ms)) return null;
  return {
    id: latest.id ?? null,
    phenomenon_time: latest.phenomenon_time,
    ms,
    result: latest.result ?? null,
    state: ["ok", "warning", "alarm"].includes(latest.state) ? latest.state : null,
  };
}

/**
 * A datastream from the API, checked; null when it cannot be used (no id).
 * Numbers that are not finite become null; text stays text (shown with textContent).
 */
export function normaliseDatastream(d) {
  if (!d || typeof d !== "object" || !isId(d.id)) return null;
  const thing = d.thing && typeof d.thing === "object" ? d.thing : {};
  const th = d.thresholds && typeof d.thresholds === "object" ? d.thresholds : {};
  const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return {
    id: d.id,
    key: text(d.key),
    name: text(d.name) || text(d.key) || String(d.id),
    description: text(d.description),
    unit: { name: text(d.unit?.name), symbol: text(d.unit?.symbol) },
    property: text(d.observed_property?.name),
    sensor: text(d.sensor?.name),
    thing: {
      id: isId(thing.id) ? thing.id : `datastream-${d.id}`,
      name: text(thing.name) || text(d.name) || String(d.id),
      position: pointOf(thing.location),
      layer: typeof thing.layer === "string" && thing.layer ? thing.layer : null,
      objectId: isId(thing.object_id) ? String(thing.object_id) : null,
    },
    visibility: text(d.visibility),
    organisation: text(d.organisation),
    replay: d.replay === true,
    thresholds: {
      warning: num(th.warning),
      alarm: num(th.alarm),
      direction: th.direction === "below" ? "below" : "above",
    },
    latest: normaliseLatest(d.latest),
  };
}

/**
 * Datastreams (normalised) grouped by thing, in the API's order.
 * @returns {{id, name, position, layer, objectId, datastreams: object[]}[]}
 */
export function groupThings(datastreams) {
  const things = new Map();
  for (const d of datastreams) {
    const key = String(d.thing.id);
    if (!things.has(key)) things.set(key, { ...d.thing, key, datastreams: [] });
    const thing = things.get(key);
    thing.datastreams.push(d);
    // A thing's place and link come from the first datastream that has them.
    thing.position ??= d.thing.position;
    thing.layer ??= d.thing.layer;
    thing.objectId ??= d.thing.objectId;
  }
  return [...things.values()];
}

/**
 * What a datastream shows at a time: its live latest value (`at` null) or the value it had
 * at `at` (from the slider's history, with the state evaluated from the thresholds).
 * @param {object} d normalised datastream
 * @param {{value: unknown, t: number}|null} [replayed] the value at the slider time
 */
export function shownValue(d, replayed) {
  if (replayed === undefined) {
    return {
      result: d.latest?.result ?? null,
      state: displayState(d.latest),
      time: d.latest?.ms ?? null,
    };
  }
  if (!replayed) return { result: null, state: "none", time: null };
  const state = evaluateState(replayed.value, d.thresholds);
  return {
    result: replayed.value,
    state: displayState({ result: replayed.value, state }),
    time: replayed.t * 1000,
  };
}

/**
 * What a thing's marker shows: the worst state among its datastreams and the value of the
 * datastream that has it (the first of those).
 * @param {{datastreams: object[]}} thing
 * @param {(d) => {result, state, time}} valueOf
 */
export function thingSummary(thing, valueOf) {
  const values = thing.datastreams.map((d) => ({ d, ...valueOf(d) }));
  const state = worstState(values.map((v) => v.state));
  const top = values.find((v) => v.state === state) ?? values[0];
  return {
    state,
    result: top?.result ?? null,
    unit: top?.d.unit ?? null,
    datastream: top?.d.id ?? null,
    replay: thing.datastreams.some((d) => d.replay),
  };
}

/**
 * An `observation` event's data from /api/sensors/stream, checked; null when unusable.
 * @param {string} data the event's data (JSON)
 */
export function parseObservationEvent(data) {
  let obs;
  try {
    obs = JSON.parse(data);
  } catch {
    return null;
  }
  if (!obs || typeof obs !== "object" || !isId(obs.datastream_id)) return null;
  const ms = Date.parse(obs.phenomenon_time);
  if (!Number.isFinite(ms)) return null;
  return {
    datastream_id: obs.datastream_id,
    id: obs.id ?? null,
    phenomenon_time: obs.phenomenon_time,
    ms,
    result: obs.result ?? null,
    state: ["ok", "warning", "alarm"].includes(obs.state) ? obs.state : null,
  };
}

/**
 * Apply one live observation to the datastreams (a Map id -> normalised datastream).
 * Only a newer observation (or the same time, newer id) replaces the latest one: a late,
 * out-of-order reading never overwrites a newer value.
 * @returns {"updated"|"older"|"unknown"} what happened
 */
export function applyObservation(datastreams, obs) {
  const d = datastreams.get(obs.datastream_id) ?? datastreams.get(String(obs.datastream_id));
  if (!d) return "unknown";
  const cur = d.latest;
  if (
    cur &&
    (obs.ms < cur.ms ||
      (obs.ms === cur.ms && obs.id !== null && cur.id !== null && obs.id <= cur.id))
  ) {
    return "older";
  }
  d.latest = {
    id: obs.id,
    phenomenon_time: obs.phenomenon_time,
    ms: obs.ms,
    result: obs.result,
    state: obs.state,
  };
  return "updated";
}
