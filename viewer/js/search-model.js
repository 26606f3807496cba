// The map search's logic: when to ask, what the answer means, how it is grouped and
// labelled, and how the keyboard moves through it (the WAI-ARIA combobox pattern).
// Pure: no DOM, no Cesium, no fetch (search.js does those).
import { t } from "./strings.js";

/** Wait this long after the last keystroke before asking the server. */
export const DEBOUNCE_MS = 250;
/** Fewer characters than this (after trimming) are not sent. */
export const MIN_QUERY = 2;
/** Longer queries are cut (the server caps them too). */
export const MAX_QUERY = 200;
/** How many results to ask for. */
export const LIMIT = 20;

/** The kinds of result the viewer knows. */
export const KINDS = ["object", "project", "coordinate"];

/**
 * `fn` called `ms` after the last call, with that call's arguments. `.cancel()` drops a
 * pending call; `.flush()` runs it now. Timers are injectable for tests.
 */
export function debounce(fn, ms = DEBOUNCE_MS, timers = globalThis) {
  let timer = null;
  let pending = null;
  const run = () => {
    timer = null;
    const args = pending;
    pending = null;
    if (args) fn(...args);
  };
  const debounced = (...args) => {
    pending = args;
    if (timer !== null) timers.clearTimeout(timer);
    timer = timers.setTimeout(run, ms);
  };
  debounced.cancel = () => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
    pending = null;
  };
  debounced.flush = () => {
    if (timer !== null) timers.clearTimeout(timer);
    run();
  };
  return debounced;
}

/** The text to send: whitespace collapsed and trimmed, control characters dropped, capped;
 * "" when it is too short to search for. */
export function normaliseQuery(text) {
  if (typeof text !== "string") return "";
  // eslint-disable-next-line no-control-regex
  const q = text.replace(/[\u0000-\u001f\u007f]/g, " ").replace(/\s+/g, " ").trim();
  if (q.length < MIN_QUERY) return "";
  return q.slice(0, MAX_QUERY);
}

/** The request URL for `query` under the configured search URL. */
export function searchUrl(base, query, limit = LIMIT) {
  const params = new URLSearchParams({ q: query, limit: String(limit) });
  return `${base}${base.includes("?") ? "&" : "?"}${params}`;
}

const finite = (v) => typeof v === "number" && Number.isFinite(v);
const text = (v) => (typeof v === "string" ? v : "");

/** One result as the viewer uses it; null when it cannot be shown or flown to. */
export function normaliseResult(r) {
  if (!r || typeof r !== "object" || !KINDS.includes(r.kind)) return null;
  if (!finite(r.lon) || !finite(r.lat) || Math.abs(r.lat) > 90 || Math.abs(r.lon) > 180) {
    return null;
  }
  const result = {
    kind: r.kind,
    title: text(r.title),
    subtitle: text(r.subtitle),
    layer: typeof r.layer === "string" && r.layer ? r.layer : null,
    id: r.id === null || r.id === undefined ? null : String(r.id),
    projectId: Number.isInteger(r.project_id) ? r.project_id : null,
    lon: r.lon,
    lat: r.lat,
    height: finite(r.height) ? r.height : 0,
    radius: finite(r.radius) && r.radius > 0 ? r.radius : 0,
  };
  if (result.kind === "object" && (!result.layer || result.id === null)) return null;
  if (result.kind === "project" && result.projectId === null) return null;
  if (!result.title) result.title = result.id ?? `${r.lat}, ${r.lon}`;
  return result;
}

/**
 * The server's answer as {results, unindexed}: results it could not be flown to are left
 * out; a document of the wrong shape throws (the search shows it as an error).
 */
export function parseAnswer(json) {
  if (!json || typeof json !== "object" || !Array.isArray(json.results)) {
    throw new Error("the search answer has no results list");
  }
  const results = json.results.map(normaliseResult).filter(Boolean);
  const unindexed = Array.isArray(json.unindexed_layers)
    ? json.unindexed_layers.filter((n) => typeof n === "string" && n)
    : [];
  return { results, unindexed };
}

/**
 * Results grouped by kind, each item with its position in the flat list the keyboard
 * walks: [{kind, label, items: [{result, index}]}]. The server ranks its answer (a typed
 * coordinate first, then exact ids, projects by title, ...): groups come in the order of
 * their best result, and keep the server's order inside.
 */
export function groupResults(results) {
  const byKind = new Map();
  for (const result of results) {
    if (!byKind.has(result.kind)) {
      byKind.set(result.kind, { kind: result.kind, label: t(`search.group.${result.kind}`), items: [] });
    }
    byKind.get(result.kind).items.push({ result });
  }
  const groups = [...byKind.values()];
  let index = 0;
  for (const group of groups) for (const item of group.items) item.index = index++;
  return groups;
}

/** The results in the order the list shows them (grouped). */
export function orderedResults(results) {
  return groupResults(results).flatMap((g) => g.items.map((i) => i.result));
}

/** The option's two lines: {title, detail}. */
export function resultLabel(result) {
  const title = result.title || result.id || "";
  let detail = result.subtitle;
  if (!detail && result.kind === "object") detail = t("search.inLayer", { layer: result.layer });
  return { title, detail: detail || "" };
}

/** What a screen reader hears for the option and the announcement when it is chosen. */
export function resultSpeech(result) {
  const { title, detail } = resultLabel(result);
  return [title, detail].filter(Boolean).join(", ");
}

/** The live region's text for an answer. */
export function countText(count, query) {
  return count === 0 ? t("search.none", { query }) : t("search.count", { count });
}

/**
 * Where the active option moves for a key, in a list of `count` options (`active` -1: none).
 * Returns the new index, or null when the key is not a list movement. Down/Up wrap around
 * (Down from the box goes to the first, Up to the last); Home/End only move within the list
 * when an option is active (otherwise they belong to the text field).
 */
export function moveActive(active, count, key) {
  if (count <= 0) return null;
  switch (key) {
    case "ArrowDown":
      return active < 0 || active >= count - 1 ? 0 : active + 1;
    case "ArrowUp":
      return active <= 0 ? count - 1 : active - 1;
    case "PageDown":
      return active < 0 ? 0 : Math.min(count - 1, active + 5);
    case "PageUp":
      return active < 0 ? 0 : Math.max(0, active - 5);
    case "Home":
      return active < 0 ? null : 0;
    case "End":
      return active < 0 ? null : count - 1;
    default:
      return null;
  }
}

/**
 * Which result Enter takes: the active one, else the only one, else the first when it is a
 * coordinate or an exact id match (typing a whole id or coordinate and pressing Enter goes
 * there); null when the list leaves the choice to the user.
 */
export function enterChoice(results, active, query) {
  if (active >= 0 && active < results.length) return active;
  if (results.length === 1) return 0;
  const first = results[0];
  if (!first) return null;
  const q = (query || "").trim().toLowerCase();
  if (first.kind === "coordinate") return 0;
  if (first.kind === "object" && first.id !== null && first.id.toLowerCase() === q) return 0;
  return null;
}

/** Camera distance (metres) to look at a result of this radius: the whole of it in view,
 * never closer than a street's width nor farther than a district. */
export function flightRange(radius) {
  const r = finite(radius) && radius > 0 ? radius : 0;
  return Math.min(Math.max(r * 3, 120), 20000);
}
