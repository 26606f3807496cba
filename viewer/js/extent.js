// Geographic extents [west, south, east, north] in degrees (WGS84). Pure.

/** True for a finite [w, s, e, n] inside the lon/lat ranges with w <= e and s <= n. */
export function isValidExtent(extent) {
  if (!Array.isArray(extent) || extent.length !== 4) return false;
  if (!extent.every((v) => typeof v === "number" && Number.isFinite(v))) return false;
  const [w, s, e, n] = extent;
  return w >= -180 && e <= 180 && s >= -90 && n <= 90 && w <= e && s <= n;
}

/**
 * The smallest extent holding every valid one, or null when there is none.
 * Extents crossing the antimeridian are not handled (w > e is treated as invalid).
 */
export function unionExtents(extents) {
  const valid = (extents || []).filter(isValidExtent);
  if (valid.length === 0) return null;
  return [
    Math.min(...valid.map((x) => x[0])),
    Math.min(...valid.map((x) => x[1])),
    Math.max(...valid.map((x) => x[2])),
    Math.max(...valid.map((x) => x[3])),
  ];
}

/** The smallest [low, high] holding every valid range of two finite numbers, or null. */
export function unionRanges(ranges) {
  const valid = (ranges || []).filter(
    (r) => Array.isArray(r) && r.length === 2 && r.every(Number.isFinite) && r[0] <= r[1],
  );
  if (valid.length === 0) return null;
  return [Math.min(...valid.map((r) => r[0])), Math.max(...valid.map((r) => r[1]))];
}

/**
 * The extent to show first: the union of all when they lie close together (within
 * `maxSpanDegrees` both ways), else the first valid one: layers in two cities far apart
 * would otherwise show half the globe. Null when there is no valid extent.
 */
export function focusExtent(extents, maxSpanDegrees = 1) {
  const union = unionExtents(extents);
  if (!union) return null;
  if (union[2] - union[0] <= maxSpanDegrees && union[3] - union[1] <= maxSpanDegrees) {
    return union;
  }
  return (extents || []).find(isValidExtent);
}
