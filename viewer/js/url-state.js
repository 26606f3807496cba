// The viewer's shareable state <-> the URL's hash. Pure: no DOM, no Cesium.
//
// The state lives in the hash (#cam=...&layers=...), not the query: changing it never
// reloads the page or asks the server anything, and it keeps the old `#project=<id>`
// deep links working. Only `?embed=1` is in the query: it is how the page is served,
// not where the reader is.
//
//   cam=lon,lat,height,heading,pitch   degrees (6 decimals: ~0.1 m), metres (0.1), degrees (0.1)
//   layers=a,b                         the visible layers ("layers=" : none; absent: defaults)
//   sel=layer:id                       the selected object
//   project=12                         the open project card
//   q, m, cat, status                  catalogue filter: text, municipality, category, status
//   t=2026-11-27T10:00:00Z             the sensors' time slider
//   sun=2026-12-21T08:30:00Z           shadows on, the sun at that instant (UTC; the tools'
//                                      date-time input shows it in local time). Kept apart
//                                      from `t`: replaying sensors and lighting the city are
//                                      separate choices, and either may be on alone.
//   map=topo                           the base map (its name in /api/config)
//   style=layer:property:mode[:...]    colour and filter by an attribute, per layer
//                                      (styling-model.js; several layers: several keys)

import { encodeStyleParam, parseStyleParam } from "./styling-model.js";

const LAYER_NAME = /^[A-Za-z0-9_-]{1,63}$/;
const BASE_MAP = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const FILTER_VALUE = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_ID = 200;
const MAX_TEXT = 200;
export const MIN_HEIGHT = 1;
export const MAX_HEIGHT = 50_000_000;
/** The shadows' time is clamped to these years (the sun model's sensible range). */
export const SUN_FROM = Date.UTC(1900, 0, 1);
export const SUN_TO = Date.UTC(2100, 11, 31, 23, 59);

const round = (v, digits) => Number(v.toFixed(digits));
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/** A camera with every number finite and in range, rounded; null when it cannot be. */
export function normaliseCamera(cam) {
  if (!cam || typeof cam !== "object") return null;
  const nums = ["lon", "lat", "height", "heading", "pitch"].map((k) => Number(cam[k]));
  if (!nums.every(Number.isFinite)) return null;
  const [lon, lat, height, heading, pitch] = nums;
  return {
    lon: round(((((lon + 180) % 360) + 360) % 360) - 180, 6),
    lat: round(clamp(lat, -90, 90), 6),
    height: round(clamp(height, MIN_HEIGHT, MAX_HEIGHT), 1),
    heading: round(((heading % 360) + 360) % 360, 1) % 360,
    pitch: round(clamp(pitch, -90, 90), 1),
  };
}

function parseCamera(text) {
  if (typeof text !== "string") return null;
  const parts = text.split(",");
  if (parts.length !== 5 || parts.some((p) => !/^-?\d+(\.\d+)?$/.test(p.trim()))) return null;
  const [lon, lat, height, heading, pitch] = parts.map(Number);
  return normaliseCamera({ lon, lat, height, heading, pitch });
}

function parseSelection(text) {
  if (typeof text !== "string") return null;
  const at = text.indexOf(":");
  if (at < 1) return null;
  const layer = text.slice(0, at);
  const id = text.slice(at + 1);
  if (!LAYER_NAME.test(layer) || !id || id.length > MAX_ID || /[\u0000-\u001f]/.test(id)) {
    return null;
  }
  return { layer, id };
}

function parseProject(text) {
  if (typeof text !== "string" || !/^\d{1,12}$/.test(text)) return null;
  const id = Number(text);
  return id > 0 ? id : null;
}

function parseTime(text) {
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace(".000Z", "Z") : null;
}

/** A `sun` value: an ISO instant clamped to SUN_FROM..SUN_TO, to the minute; else null. */
export function parseSun(text) {
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:[\d.]+)?Z$/.test(text)) {
    return null;
  }
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return null;
  const minute = Math.floor(clamp(ms, SUN_FROM, SUN_TO) / 60000) * 60000;
  return new Date(minute).toISOString().replace(".000Z", "Z");
}

/** The empty state: nothing said, every default applies. */
export function emptyState() {
  return {
    camera: null,
    layers: null, // null: the config's defaults; []: none
    selected: null, // {layer, id}
    project: null,
    filter: { q: "", municipality: "", category: "", status: "" },
    time: null,
    sun: null, // shadows on at this instant; null: off
    baseMap: null, // null: the config's default
    styles: [], // [{layer, property, mode, ...}] one per layer, by layer name
  };
}

/** One style per layer (the first given), ordered by layer; malformed ones left out. */
function normaliseStyles(styles) {
  const byLayer = new Map();
  for (const s of styles || []) {
    const choice = parseStyleParam(encodeStyleParam(s));
    if (choice && !byLayer.has(choice.layer)) byLayer.set(choice.layer, choice);
  }
  return [...byLayer.keys()].sort().map((k) => byLayer.get(k));
}

/**
 * The state a hash describes; anything malformed is left out (its default applies).
 * @param {string} hash "#cam=..." or "cam=..."
 */
export function decodeState(hash) {
  const state = emptyState();
  let params;
  try {
    params = new URLSearchParams(String(hash || "").replace(/^#/, ""));
  } catch {
    return state;
  }
  state.camera = parseCamera(params.get("cam"));
  if (params.has("layers")) {
    const names = params.get("layers").split(",").filter((n) => LAYER_NAME.test(n));
    state.layers = [...new Set(names)].sort();
  }
  state.selected = parseSelection(params.get("sel"));
  state.project = parseProject(params.get("project"));
  const q = params.get("q");
  if (q !== null) state.filter.q = q.slice(0, MAX_TEXT).replace(/[\u0000-\u001f]/g, " ").trim();
  for (const [key, param] of [["municipality", "m"], ["category", "cat"], ["status", "status"]]) {
    const v = params.get(param);
    if (v !== null && FILTER_VALUE.test(v)) state.filter[key] = v;
  }
  state.time = parseTime(params.get("t"));
  state.sun = parseSun(params.get("sun"));
  const map = params.get("map");
  if (map !== null && BASE_MAP.test(map)) state.baseMap = map;
  state.styles = normaliseStyles(params.getAll("style").map(parseStyleParam));
  return state;
}

/** The hash ("" or "#...") for a state; the same state always gives the same text. */
export function encodeState(state) {
  const s = state || emptyState();
  const params = new URLSearchParams();
  const cam = normaliseCamera(s.camera);
  if (cam) params.set("cam", [cam.lon, cam.lat, cam.height, cam.heading, cam.pitch].join(","));
  if (Array.isArray(s.layers)) {
    params.set("layers", [...new Set(s.layers.filter((n) => LAYER_NAME.test(n)))].sort().join(","));
  }
  const sel = s.selected && parseSelection(`${s.selected.layer}:${s.selected.id ?? ""}`);
  if (sel) params.set("sel", `${sel.layer}:${sel.id}`);
  else if (s.project !== null && s.project !== undefined) {
    const id = parseProject(String(s.project));
    if (id) params.set("project", String(id));
  }
  const f = s.filter || {};
  const q = typeof f.q === "string" ? f.q.trim().slice(0, MAX_TEXT) : "";
  if (q) params.set("q", q);
  for (const [key, param] of [["municipality", "m"], ["category", "cat"], ["status", "status"]]) {
    if (typeof f[key] === "string" && FILTER_VALUE.test(f[key])) params.set(param, f[key]);
  }
  const time = parseTime(s.time);
  if (time) params.set("t", time);
  const sun = parseSun(s.sun);
  if (sun) params.set("sun", sun);
  if (typeof s.baseMap === "string" && BASE_MAP.test(s.baseMap)) params.set("map", s.baseMap);
  for (const style of normaliseStyles(s.styles)) params.append("style", encodeStyleParam(style));
  const text = params.toString().replace(/%2C/g, ",").replace(/%3A/g, ":");
  return text ? `#${text}` : "";
}

/**
 * What kind of history step a change from `a` to `b` is: "push" (selection, layers,
 * What kind of history step a change from `a` to `b` is: "push" (selection, layers,
 * base map, filters but the text, starting or ending a replay, shadows on or off),
 * "replace" (the camera, the search text while typing, the slider's time, the shadows'
 * time) or null (nothing changed).
 */
export function changeKind(a, b) {
  if (encodeState(a) === encodeState(b)) return null;
  // Dragging the time slider moves within one entry; starting or leaving a replay pushes.
  const sig = (s) =>
    encodeState({
      ...s,
      camera: null,
      filter: { ...s.filter, q: "" },
      time: s.time ? "1970-01-01T00:00:00Z" : null,
      sun: s.sun ? "2000-01-01T00:00:00Z" : null,
    });
  return sig(a) === sig(b) ? "replace" : "push";
}

/** True when the page is in embed mode (`?embed=1` or `?embed=true`). */
export function isEmbed(search) {
  const v = new URLSearchParams(String(search || "").replace(/^\?/, "")).get("embed");
  return v === "1" || v === "true";
}

/** The full viewer's URL for an embedded one: the same state, without `embed`. */
export function fullViewerUrl(href) {
  const url = new URL(href);
  url.searchParams.delete("embed");
  return url.toString();
}

/** True when a hash says where the camera is (then no start-up flight). */
export function hasCamera(hash) {
  return decodeState(hash).camera !== null;
}
