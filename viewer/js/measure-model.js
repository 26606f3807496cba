// The measuring tools' geometry and texts. Pure: no DOM, no Cesium.
//
// Points are [lon, lat, height]: degrees on WGS84 and ellipsoidal metres (what placement.js
// gives; a point on the plain globe has height 0).
//   - 3D distance: the straight line between the points' ECEF (EPSG:4978) positions.
//   - horizontal distance: the geodesic on the WGS84 ellipsoid (Vincenty's inverse formula,
//     sub-millimetre for any two points a city apart, converges everywhere but near antipodes).
//   - height: the difference of the ellipsoidal heights (the same as the difference of
//     heights above the geoid to well under a millimetre over a city).
//   - area: the polygon projected on the horizontal plane, i.e. the local tangent plane
//     (east, north) at the points' mean position, by the shoelace formula; its perimeter on
//     the same plane. Over a city this agrees with the geodesic area to about 1e-8.
import { formatNumber, t } from "./strings.js";

export const WGS84 = { a: 6378137, f: 1 / 298.257223563 };
const B = WGS84.a * (1 - WGS84.f);
const E2 = WGS84.f * (2 - WGS84.f);
const RAD = Math.PI / 180;

/** Thresholds for switching units: km from 1,000 m, km² from 1,000,000 m². */
export const KM_FROM = 1000;
export const KM2_FROM = 1_000_000;

/** True for a [lon, lat, height?] with finite numbers in range. */
export function isPoint(p) {
  return (
    Array.isArray(p) &&
    p.length >= 2 &&
    p.every((v) => Number.isFinite(v)) &&
    Math.abs(p[1]) <= 90 &&
    Math.abs(p[0]) <= 360
  );
}

/** ECEF metres [x, y, z] of [lon, lat, height]. */
export function toEcef([lon, lat, height = 0]) {
  const l = lon * RAD;
  const p = lat * RAD;
  const sinP = Math.sin(p);
  const n = WGS84.a / Math.sqrt(1 - E2 * sinP * sinP);
  return [
    (n + height) * Math.cos(p) * Math.cos(l),
    (n + height) * Math.cos(p) * Math.sin(l),
    (n * (1 - E2) + height) * sinP,
  ];
}

/** Straight-line (3D) distance in metres. */
export function distance3d(a, b) {
  const [x1, y1, z1] = toEcef(a);
  const [x2, y2, z2] = toEcef(b);
  return Math.hypot(x2 - x1, y2 - y1, z2 - z1);
}

/** Geodesic distance on the WGS84 ellipsoid in metres (Vincenty, inverse problem). */
export function geodesicDistance(a, b) {
  const { a: A, f } = WGS84;
  const L = (b[0] - a[0]) * RAD;
  const U1 = Math.atan((1 - f) * Math.tan(a[1] * RAD));
  const U2 = Math.atan((1 - f) * Math.tan(b[1] * RAD));
  const sinU1 = Math.sin(U1);
  const cosU1 = Math.cos(U1);
  const sinU2 = Math.sin(U2);
  const cosU2 = Math.cos(U2);
  let lambda = L;
  let sinSigma = 0;
  let cosSigma = 1;
  let sigma = 0;
  let cos2Alpha = 1;
  let cos2SigmaM = 0;
  for (let i = 0; i < 200; i++) {
    const sinL = Math.sin(lambda);
    const cosL = Math.cos(lambda);
    sinSigma = Math.hypot(cosU2 * sinL, cosU1 * sinU2 - sinU1 * cosU2 * cosL);
    if (sinSigma === 0) return 0; // the same point
    cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosL;
    sigma = Math.atan2(sinSigma, cosSigma);
    const sinAlpha = (cosU1 * cosU2 * sinL) / sinSigma;
    cos2Alpha = 1 - sinAlpha * sinAlpha;
    cos2SigmaM = cos2Alpha === 0 ? 0 : cosSigma - (2 * sinU1 * sinU2) / cos2Alpha;
    const C = (f / 16) * cos2Alpha * (4 + f * (4 - 3 * cos2Alpha));
    const previous = lambda;
    lambda =
      L +
      (1 - C) *
        f *
        sinAlpha *
        (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM ** 2)));
    if (Math.abs(lambda - previous) < 1e-12) break;
  }
  const u2 = (cos2Alpha * (A * A - B * B)) / (B * B);
  const bigA = 1 + (u2 / 16384) * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
  const bigB = (u2 / 1024) * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
  const deltaSigma =
    bigB *
    sinSigma *
    (cos2SigmaM +
      (bigB / 4) *
        (cosSigma * (-1 + 2 * cos2SigmaM ** 2) -
          (bigB / 6) * cos2SigmaM * (-3 + 4 * sinSigma ** 2) * (-3 + 4 * cos2SigmaM ** 2)));
  return B * bigA * (sigma - deltaSigma);
}

/** Vertical difference b − a in metres (positive when b is higher). */
export function heightDifference(a, b) {
  return (b[2] ?? 0) - (a[2] ?? 0);
}

/** [east, north] metres of each point on the tangent plane at `origin` ([lon, lat]). */
export function toTangentPlane(points, origin) {
  const l0 = origin[0] * RAD;
  const p0 = origin[1] * RAD;
  const o = toEcef([origin[0], origin[1], 0]);
  const sinL = Math.sin(l0);
  const cosL = Math.cos(l0);
  const sinP = Math.sin(p0);
  const cosP = Math.cos(p0);
  return points.map((p) => {
    const [x, y, z] = toEcef(p);
    const dx = x - o[0];
    const dy = y - o[1];
    const dz = z - o[2];
    return [-sinL * dx + cosL * dy, -sinP * cosL * dx - sinP * sinL * dy + cosP * dz];
  });
}

/** The mean [lon, lat] of points (a city's extent: no date-line care needed). */
export function meanPosition(points) {
  const n = points.length;
  return [points.reduce((s, p) => s + p[0], 0) / n, points.reduce((s, p) => s + p[1], 0) / n];
}

/**
 * A polygon's area and perimeter projected on the horizontal plane, in m² and m.
 * Heights are dropped (projected along the local vertical). Fewer than 3 points: zeros.
 */
export function polygonArea(points) {
  if (points.length < 3) return { area: 0, perimeter: 0 };
  const flat = points.map(([lon, lat]) => [lon, lat, 0]);
  const plane = toTangentPlane(flat, meanPosition(flat));
  let twice = 0;
  let perimeter = 0;
  for (let i = 0; i < plane.length; i++) {
    const [x1, y1] = plane[i];
    const [x2, y2] = plane[(i + 1) % plane.length];
    twice += x1 * y2 - x2 * y1;
    perimeter += Math.hypot(x2 - x1, y2 - y1);
  }
  return { area: Math.abs(twice) / 2, perimeter };
}

/** Each segment's 3D and horizontal length, and the totals, of a polyline. */
export function polylineLengths(points) {
  const segments = [];
  for (let i = 1; i < points.length; i++) {
    segments.push({
      distance: distance3d(points[i - 1], points[i]),
      horizontal: geodesicDistance(points[i - 1], points[i]),
    });
  }
  return {
    segments,
    distance: segments.reduce((s, x) => s + x.distance, 0),
    horizontal: segments.reduce((s, x) => s + x.horizontal, 0),
  };
}

/** What a height measurement shows: vertical difference, 3D and horizontal distance. */
export function heightMeasure(a, b) {
  return {
    height: heightDifference(a, b),
    distance: distance3d(a, b),
    horizontal: geodesicDistance(a, b),
  };
}

// --- texts -----------------------------------------------------------------------------

const NBSP = "\u00a0";

/** `value` with exactly `digits` decimals in the viewer's locale. */
const fixed = (value, digits) =>
  formatNumber(value, { maximumFractionDigits: digits, minimumFractionDigits: digits });

function digitsFor(value) {
  const v = Math.abs(value);
  if (v < 10) return 2;
  if (v < 1000) return 1;
  return 0;
}

/** A length in the viewer's locale: "12,35 m", "512,1 m", "1,23 km" (sv) / "1.23 km" (en). */
export function formatLength(metres) {
  if (!Number.isFinite(metres)) return "–";
  if (Math.abs(metres) >= KM_FROM) {
    return `${fixed(metres / 1000, 2)}${NBSP}km`;
  }
  return `${fixed(metres, digitsFor(metres))}${NBSP}m`;
}

/** An area in the viewer's locale: "31 666 m²", "45,2 m²", "2,50 km²". */
export function formatArea(squareMetres) {
  if (!Number.isFinite(squareMetres)) return "–";
  if (Math.abs(squareMetres) >= KM2_FROM) {
    return `${fixed(squareMetres / 1_000_000, 2)}${NBSP}km²`;
  }
  return `${fixed(squareMetres, Math.abs(squareMetres) < 100 ? 1 : 0)}${NBSP}m²`;
}

/** A signed vertical difference: "+12,3 m" / "−4,00 m". */
export function formatHeight(metres) {
  if (!Number.isFinite(metres)) return "–";
  const text = formatLength(Math.abs(metres));
  if (Math.abs(metres) < 0.005) return text;
  return `${metres > 0 ? "+" : "−"}${text}`;
}

/**
 * The result of a measurement as text lines for the panel (screen readers read it) and
 * the labels on the map. `mode` "distance" | "height" | "area"; points [lon, lat, h].
 * Returns {summary, lines: string[], value}: value the numbers (null until enough points).
 */
export function describe(mode, points) {
  if (mode === "distance") {
    if (points.length < 2) return { summary: t("measure.distanceStart"), lines: [], value: null };
    const m = polylineLengths(points);
    const lines = m.segments.map((s, i) =>
      t("measure.segment", {
        n: i + 1,
        distance: formatLength(s.distance),
        horizontal: formatLength(s.horizontal),
      }),
    );
    const summary = t("measure.total", {
      distance: formatLength(m.distance),
      horizontal: formatLength(m.horizontal),
    });
    return { summary, lines, value: m };
  }
  if (mode === "height") {
    if (points.length < 2) return { summary: t("measure.heightStart"), lines: [], value: null };
    const m = heightMeasure(points[0], points[1]);
    const summary = t("measure.heightResult", { height: formatHeight(m.height) });
    const lines = [
      t("measure.heightDistance", {
        distance: formatLength(m.distance),
        horizontal: formatLength(m.horizontal),
      }),
    ];
    return { summary, lines, value: m };
  }
  if (points.length < 3) return { summary: t("measure.areaStart"), lines: [], value: null };
  const m = polygonArea(points);
  const summary = t("measure.areaResult", { area: formatArea(m.area) });
  const lines = [t("measure.perimeter", { perimeter: formatLength(m.perimeter) })];
  return { summary, lines, value: m };
}
