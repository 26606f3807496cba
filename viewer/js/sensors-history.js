// History of a datastream: the ranges a person can choose, the query for them, the
// chart's series (raw values, or min/mean/max per bucket when downsampled), and the value
// at a time for the time slider. Pure: no DOM, no Cesium.

/** Range choices: key -> seconds. */
export const RANGES = { "24h": 24 * 3600, "7d": 7 * 24 * 3600, "30d": 30 * 24 * 3600 };
export const DEFAULT_RANGE = "24h";

/** Points the server is asked for at most: about one per 2 px of chart, 50 to 1000. */
export function maxPointsFor(widthPx) {
  const n = Math.round((Number.isFinite(widthPx) ? widthPx : 300) / 2);
  return Math.min(1000, Math.max(50, n));
}

/**
 * The window of a range ending now (whole seconds, ISO 8601 UTC).
 * @returns {{from: string, to: string, fromS: number, toS: number}}
 */
export function rangeWindow(key, nowMs = Date.now()) {
  const seconds = RANGES[key] ?? RANGES[DEFAULT_RANGE];
  const toS = Math.ceil(nowMs / 1000);
  const fromS = toS - seconds;
  const iso = (s) => new Date(s * 1000).toISOString().replace(".000Z", "Z");
  return { from: iso(fromS), to: iso(toS), fromS, toS };
}

/** GET URL of a datastream's observations in a window. */
export function observationsUrl(base, id, { from, to, maxPoints }) {
  const q = new URLSearchParams({ from, to, max_points: String(maxPoints) });
  return `${base.replace(/\/$/, "")}/${encodeURIComponent(id)}/observations?${q}`;
}

const seconds = (iso) => Date.parse(iso) / 1000;
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * The observations answer as chart series, sorted by time, seconds on x. Raw answers give
 * `value`; downsampled ones `mean`, `min`, `max` (the band). A gap wider than twice the
 * bucket (or, raw, five times the median spacing) gets a null so the line breaks there.
 * @returns {{downsampled: boolean, bucket: number|null, x: number[], value?: (number|null)[],
 *            mean?: (number|null)[], min?: (number|null)[], max?: (number|null)[]}}
 */
export function chartSeries(answer) {
  const downsampled = answer?.downsampled === true;
  const rows = (Array.isArray(answer?.observations) ? answer.observations : [])
    .map((o) => ({ ...o, s: seconds(o?.t) }))
    .filter((o) => Number.isFinite(o.s))
    .sort((a, b) => a.s - b.s);
  const bucket = num(answer?.bucket_seconds);
  const keys = downsampled ? ["mean", "min", "max"] : ["value"];
  const out = { downsampled, bucket: downsampled ? bucket : null, x: [] };
  for (const k of keys) out[k] = [];
  const pick = downsampled ? (o, k) => num(o[k]) : (o) => num(o.result);
  let maxGap = Infinity;
  if (downsampled && bucket) maxGap = bucket * 2;
  else if (rows.length > 2) {
    const gaps = rows
      .slice(1)
      .map((o, i) => o.s - rows[i].s)
      .sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)];
    if (median > 0) maxGap = median * 5;
  }
  rows.forEach((o, i) => {
    if (i > 0 && o.s - rows[i - 1].s > maxGap) {
      out.x.push((o.s + rows[i - 1].s) / 2);
      for (const k of keys) out[k].push(null);
    }
    out.x.push(o.s);
    for (const k of keys) out[k].push(pick(o, k));
  });
  return out;
}

/** How many real (non-null) points a series has. */
export function pointCount(series) {
  const ys = series.downsampled ? series.mean : series.value;
  return (ys || []).filter((v) => v !== null).length;
}

/**
 * The value at time `tS` (seconds): the last point at or before it, or null before the
 * first point, in a gap, or when that point is older than `maxAgeS`.
 * @returns {{value: number, t: number}|null}
 */
export function valueAt(series, tS, { maxAgeS = Infinity } = {}) {
  const xs = series?.x || [];
  const ys = series?.downsampled ? series.mean : series?.value;
  if (!ys || !xs.length || !(tS >= xs[0])) return null;
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (xs[mid] <= tS) lo = mid;
    else hi = mid - 1;
  }
  const value = ys[lo];
  if (value === null || value === undefined || tS - xs[lo] > maxAgeS) return null;
  return { value, t: xs[lo] };
}

/** How far back a replayed value still counts: two buckets, or a quarter of the range. */
export function maxAgeFor(series, rangeSeconds) {
  if (series?.downsampled && series.bucket) return series.bucket * 2;
  return rangeSeconds / 4;
}

/** A bucket length as short Swedish text: "30 s", "15 min", "2 h", "1 dygn". */
export function bucketText(s) {
  if (!Number.isFinite(s) || s <= 0) return "";
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round((s / 3600) * 10) / 10} h`.replace(".", ",");
  const d = Math.round((s / 86400) * 10) / 10;
  return `${String(d).replace(".", ",")} dygn`;
}

/**
 * Add a live value to a raw series (the open chart), when it is a number newer than the
 * last point; downsampled series are left alone (their buckets are the server's).
 * @returns {boolean} whether the series changed
 */
export function appendPoint(series, tS, value) {
  if (!series || series.downsampled || typeof value !== "number" || !Number.isFinite(value))
    return false;
  const last = series.x.length ? series.x[series.x.length - 1] : -Infinity;
  if (!(tS > last)) return false;
  series.x.push(tS);
  series.value.push(value);
  return true;
}
