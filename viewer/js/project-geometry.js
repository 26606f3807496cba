// A project's GeoJSON (WGS 84 lon/lat[/height]) as drawable parts. Pure: no DOM, no Cesium.

function isPosition(p) {
  return (
    Array.isArray(p) && (p.length === 2 || p.length === 3) && p.every((v) => Number.isFinite(v))
  );
}

function isLine(line) {
  return Array.isArray(line) && line.length >= 2 && line.every(isPosition);
}

/** The geometries of a GeometryCollection, a single geometry, or a list of them. */
export function geometriesOf(geometry) {
  if (!geometry) return [];
  if (Array.isArray(geometry)) return geometry.flatMap(geometriesOf);
  if (typeof geometry !== "object") return [];
  if (geometry.type === "GeometryCollection") return geometriesOf(geometry.geometries);
  if (geometry.type === "Feature") return geometriesOf(geometry.geometry);
  return typeof geometry.type === "string" ? [geometry] : [];
}

/**
 * Points, lines and polygons (outer ring plus holes) of a geometry; malformed parts are
 * skipped. Positions keep their height when they have one.
 */
export function geometryParts(geometry) {
  const parts = { points: [], lines: [], polygons: [] };
  const polygon = (rings) => {
    if (!Array.isArray(rings) || !rings.length) return;
    const valid = rings.filter((r) => Array.isArray(r) && r.length >= 4 && r.every(isPosition));
    if (valid.length && valid[0] === rings[0]) {
      parts.polygons.push({ outer: valid[0], holes: valid.slice(1) });
    }
  };
  for (const g of geometriesOf(geometry)) {
    const c = g.coordinates;
    switch (g.type) {
      case "Point":
        if (isPosition(c)) parts.points.push(c);
        break;
      case "MultiPoint":
        if (Array.isArray(c)) parts.points.push(...c.filter(isPosition));
        break;
      case "LineString":
        if (isLine(c)) parts.lines.push(c);
        break;
      case "MultiLineString":
        if (Array.isArray(c)) parts.lines.push(...c.filter(isLine));
        break;
      case "Polygon":
        polygon(c);
        break;
      case "MultiPolygon":
        if (Array.isArray(c)) c.forEach(polygon);
        break;
      default:
        break;
    }
  }
  return parts;
}

/** True when a position carries a height (drawn at it rather than on the ground). */
export function hasHeight(position) {
  return isPosition(position) && position.length === 3;
}

/**
 * Where a project's pin goes: its first point; else the middle of its shapes' extent (with
 * their mean height when they all have one); else the middle of `bbox`; else null.
 * @returns {number[]|null} [lon, lat] or [lon, lat, height]
 */
export function anchorOf(geometry, bbox = null) {
  const parts = geometryParts(geometry);
  if (parts.points.length) return parts.points[0];
  const all = [...parts.lines.flat(), ...parts.polygons.flatMap((p) => p.outer)];
  if (all.length) {
    const lons = all.map((p) => p[0]);
    const lats = all.map((p) => p[1]);
    const mid = [
      (Math.min(...lons) + Math.max(...lons)) / 2,
      (Math.min(...lats) + Math.max(...lats)) / 2,
    ];
    if (all.every(hasHeight)) mid.push(all.reduce((s, p) => s + p[2], 0) / all.length);
    return mid;
  }
  if (Array.isArray(bbox) && bbox.length === 4 && bbox.every(Number.isFinite)) {
    return [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2];
  }
  return null;
}

/**
 * The geometries to save after placing a point: the new Point replaces the old points and
 * every other shape is kept. `position` null removes the points.
 */
export function withPoint(geometries, position) {
  const others = geometriesOf(geometries).filter((g) => g.type !== "Point");
  if (!isPosition(position)) return others;
  return [{ type: "Point", coordinates: position.map(roundPosition) }, ...others];
}

/** ~1 cm: 7 decimals for degrees, 2 for metres. */
function roundPosition(v, i) {
  const digits = i < 2 ? 7 : 2;
  return Number(v.toFixed(digits));
}

/** The Point of a list of geometries, for the form's location line. */
export function pointOf(geometries) {
  const p = geometriesOf(geometries).find((g) => g.type === "Point" && isPosition(g.coordinates));
  return p ? p.coordinates : null;
}

/**
 * The extent to fly to for a project: its bbox (or anchor), at least `minSize` degrees of
 * latitude across (~300 m), so single points are seen with their surroundings.
 * @returns {number[]|null} [w, s, e, n]
 */
export function flightExtent(project, minSize = 0.003) {
  let ext = Array.isArray(project?.bbox) && project.bbox.length === 4 ? [...project.bbox] : null;
  if (!ext || !ext.every(Number.isFinite)) {
    const a = anchorOf(project?.geometry, null);
    if (!a) return null;
    ext = [a[0], a[1], a[0], a[1]];
  }
  const [w, s, e, n] = ext;
  const lat = (s + n) / 2;
  const padLat = Math.max(0, (minSize - (n - s)) / 2);
  const minLon = minSize / Math.max(Math.cos((lat * Math.PI) / 180), 0.1);
  const padLon = Math.max(0, (minLon - (e - w)) / 2);
  return [w - padLon, s - padLat, e + padLon, n + padLat];
}

/** The height range [low, high] of a project's positions that have one, else null. */
export function heightRange(project) {
  const parts = geometryParts(project?.geometry);
  const hs = [...parts.points, ...parts.lines.flat(), ...parts.polygons.flatMap((p) => p.outer)]
    .filter(hasHeight)
    .map((p) => p[2]);
  return hs.length ? [Math.min(...hs), Math.max(...hs)] : null;
}
