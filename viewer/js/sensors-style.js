// Sensor states, their colours and shapes, the legend, value and time texts.
// Pure: no DOM, no Cesium.
import { locale as currentLocale, t } from "./strings.js";

/**
 * Marker styles per display state, worst first. Colours from the Okabe–Ito palette (safe
 * for the common colour-vision deficiencies) and told apart by luminance too; every state
 * also has its own shape and a text mark, so colour is never the only cue.
 * "neutral": a value without thresholds; "none": no value yet.
 */
export const STATE_STYLES = {
  alarm: { color: "#C3002F", shape: "diamond", mark: "!!" },
  warning: { color: "#E69F00", shape: "triangle", mark: "!" },
  ok: { color: "#009E73", shape: "circle", mark: "" },
  neutral: { color: "#0072B2", shape: "square", mark: "" },
  none: { color: "#7A848C", shape: "ring", mark: "–" },
};

/** Display states from worst to best: the order of the legend and of worstState. */
export const STATES = ["alarm", "warning", "ok", "neutral", "none"];

/**
 * The display state of a datastream's latest (or replayed) value.
 * @param {{result?: unknown, state?: string|null}|null} latest
 */
export function displayState(latest) {
  if (!latest || latest.result === undefined || latest.result === null) return "none";
  const s = latest.state;
  return s === "ok" || s === "warning" || s === "alarm" ? s : "neutral";
}

/** The worst of several display states ("none" when there are none). */
export function worstState(states) {
  let best = STATES.length - 1;
  for (const s of states) {
    const i = STATES.indexOf(s);
    if (i >= 0 && i < best) best = i;
  }
  return STATES[best];
}

/** CSS colour (#rrggbb) of a display state; unknown states are "none". */
export function stateColor(state) {
  return (STATE_STYLES[state] ?? STATE_STYLES.none).color;
}

/**
 * The state a value has under a datastream's thresholds, as the server evaluates it:
 * "alarm" at or beyond the alarm level, "warning" at or beyond the warning level, else
 * "ok"; null when no threshold is set or the value is not a number.
 * @param {unknown} value
 * @param {{warning?: number|null, alarm?: number|null, direction?: "above"|"below"}|null} thresholds
 */
export function evaluateState(value, thresholds) {
  if (typeof value !== "number" || !Number.isFinite(value) || !thresholds) return null;
  const { warning, alarm } = thresholds;
  const hasW = Number.isFinite(warning);
  const hasA = Number.isFinite(alarm);
  if (!hasW && !hasA) return null;
  const beyond = thresholds.direction === "below" ? (v, lim) => v <= lim : (v, lim) => v >= lim;
  if (hasA && beyond(value, alarm)) return "alarm";
  if (hasW && beyond(value, warning)) return "warning";
  return "ok";
}

/**
 * Legend rows: every state, worst first, with how many markers show it (so the legend
 * does not jump as values change).
 * @param {string[]} markerStates the display state of each marker
 * @returns {{state: string, label: string, color: string, shape: string, mark: string, count: number}[]}
 */
export function legendRows(markerStates) {
  const counts = new Map(STATES.map((s) => [s, 0]));
  for (const s of markerStates) {
    const key = counts.has(s) ? s : "none";
    counts.set(key, counts.get(key) + 1);
  }
  return STATES.map((state) => ({
    state,
    label: t(`sensors.state.${state}`),
    ...STATE_STYLES[state],
    count: counts.get(state),
  }));
}

const SHAPES = {
  circle: (c) => `<circle cx="12" cy="12" r="9" fill="${c}" stroke="#fff" stroke-width="2.5"/>`,
  square: (c) =>
    `<rect x="3.5" y="3.5" width="17" height="17" rx="2" fill="${c}" stroke="#fff" stroke-width="2.5"/>`,
  triangle: (c) =>
    `<path d="M12 2.5 22 20.5H2z" fill="${c}" stroke="#fff" stroke-width="2.5" stroke-linejoin="round"/>`,
  diamond: (c) =>
    `<path d="M12 1.5 22.5 12 12 22.5 1.5 12z" fill="${c}" stroke="#fff" stroke-width="2.5" stroke-linejoin="round"/>`,
  ring: (c) =>
    `<circle cx="12" cy="12" r="8" fill="${c}" fill-opacity="0.55" stroke="#fff" stroke-width="3"/>`,
};

/**
 * The marker of a state as an SVG document (24 × 24; a yellow ring around it when selected).
 * The middle of the shape is always filled with the state's colour.
 */
export function markerSvg(state, { selected = false } = {}) {
  const style = STATE_STYLES[state] ?? STATE_STYLES.none;
  const ring = selected
    ? `<circle cx="12" cy="12" r="11" fill="none" stroke="#ffd400" stroke-width="2"/>`
    : "";
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24">` +
    `${ring}${SHAPES[style.shape](style.color)}</svg>`
  );
}

/** A number in the viewer's locale, with up to `digits` decimals. */
export function formatNumber(value, locale = currentLocale, digits = 2) {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}

/**
 * An observation's result with its unit: "12,3 µg/m³". Missing values are "–".
 * @param {unknown} result
 * @param {{symbol?: string|null}|null} unit
 */
export function formatResult(result, unit, locale = currentLocale) {
  if (result === undefined || result === null || result === "") return "–";
  const text =
    typeof result === "number" && Number.isFinite(result)
      ? formatNumber(result, locale)
      : String(result);
  const symbol = typeof unit?.symbol === "string" ? unit.symbol.trim() : "";
  return symbol ? `${text} ${symbol}` : text;
}

/** A timestamp (ISO 8601) as local date and time, "2026-11-27 21:03"; "–" when invalid. */
export function formatTime(iso, { locale = currentLocale, timeZone } = {}) {
  const ms = typeof iso === "number" ? iso : Date.parse(iso);
  if (!Number.isFinite(ms)) return "–";
  return new Intl.DateTimeFormat(locale, {
    dateStyle: "short",
    timeStyle: "short",
    ...(timeZone ? { timeZone } : {}),
  }).format(new Date(ms));
}

/**
 * The text beside a marker: the state's mark and the value of its worst datastream, and
 * "repris" when its values are a replay.
 * @param {{state: string, result: unknown, unit: object|null, replay: boolean}} shown
 */
export function markerLabel({ state, result, unit, replay }, locale = currentLocale) {
  const mark = (STATE_STYLES[state] ?? STATE_STYLES.none).mark;
  const value =
    result === undefined || result === null
      ? t("sensors.noData")
      : formatResult(result, unit, locale);
  const parts = [mark && state !== "none" ? `${mark} ${value}` : value];
  if (replay) parts.push(t("sensors.replay"));
  return parts.join(" · ");
}
