import assert from "node:assert/strict";
import { test } from "node:test";

import {
  describe,
  distance3d,
  formatArea,
  formatHeight,
  formatLength,
  geodesicDistance,
  heightDifference,
  polygonArea,
  polylineLengths,
  toEcef,
} from "../../viewer/js/measure-model.js";
import { setLanguage } from "../../viewer/js/strings.js";

// Reference values from pyproj 3.7.2 (PROJ, WGS84), generated with:
//   from pyproj import Geod, Transformer
//   g = Geod(ellps="WGS84"); g.inv(lon1, lat1, lon2, lat2)[2]           # geodesic metres
//   t = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)  # ECEF metres
//   math.dist(t.transform(*a), t.transform(*b))                          # 3D metres
const DELFT_A = [4.3571, 52.0116];
const DELFT_B = [4.3621, 52.015];
const GEODESIC_DELFT = 510.84754200911414;
const STOCKHOLM = [18.0686, 59.3293];
const GOTHENBURG = [11.9746, 57.7089];
const GEODESIC_STO_GOT = 398157.20144885656;
const GEODESIC_11M = 11.126735424994493; // (4.35, 52.0) -> (4.35, 52.0001)
const ECEF_A = [3922580.008677119, 298871.8457748463, 5003605.759724606]; // DELFT_A at 10 m
const DISTANCE_3D = 512.0817613431983; // DELFT_A at 10 m -> DELFT_B at 45.5 m

// A polygon in Delft (lon, lat). Reference area and perimeter: shapely 2.2.0 on the points
// projected to the tangent plane at their mean position with pyproj,
//   Transformer.from_pipeline("+proj=pipeline +step +proj=cart +ellps=WGS84 +step
//     +proj=topocentric +ellps=WGS84 +lon_0=4.35802 +lat_0=52.012 +h_0=0")
//   Polygon([tr.transform(lon, lat, 0)[:2] for lon, lat in POLYGON]).area / .length
// (pyproj's geodesic Geod.polygon_area_perimeter gives 31666.11887 m², 685.63688 m).
const POLYGON = [
  [4.357, 52.011],
  [4.359, 52.0112],
  [4.3595, 52.0125],
  [4.358, 52.0131],
  [4.3566, 52.0122],
];
const SHAPELY_AREA = 31666.11885454506;
const SHAPELY_PERIMETER = 685.6368819734975;

const close = (actual, expected, tolerance, what) =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} differs from ${expected} by more than ${tolerance}`,
  );

test("geodesic distances match pyproj's to the millimetre", () => {
  close(geodesicDistance(DELFT_A, DELFT_B), GEODESIC_DELFT, 1e-3, "Delft");
  close(geodesicDistance(STOCKHOLM, GOTHENBURG), GEODESIC_STO_GOT, 1e-3, "Stockholm–Göteborg");
  close(geodesicDistance([4.35, 52.0], [4.35, 52.0001]), GEODESIC_11M, 1e-6, "11 m");
  assert.equal(geodesicDistance(DELFT_A, DELFT_A), 0);
  // Symmetric.
  close(geodesicDistance(DELFT_B, DELFT_A), GEODESIC_DELFT, 1e-3, "reversed");
});

test("3D distances go through ECEF as PROJ does", () => {
  const [x, y, z] = toEcef([...DELFT_A, 10]);
  close(x, ECEF_A[0], 1e-6, "x");
  close(y, ECEF_A[1], 1e-6, "y");
  close(z, ECEF_A[2], 1e-6, "z");
  close(distance3d([...DELFT_A, 10], [...DELFT_B, 45.5]), DISTANCE_3D, 1e-6, "3D");
  // Straight up: the 3D distance is the height difference, the horizontal one zero.
  close(distance3d([...DELFT_A, 0], [...DELFT_A, 25]), 25, 1e-6, "vertical");
  assert.equal(heightDifference([...DELFT_A, 2], [...DELFT_B, 14.5]), 12.5);
  assert.equal(heightDifference([...DELFT_A], [...DELFT_B, 3]), 3); // no height: 0
});

test("polyline totals add up the segments", () => {
  const m = polylineLengths([
    [...DELFT_A, 10],
    [...DELFT_B, 45.5],
    [...DELFT_A, 10],
  ]);
  assert.equal(m.segments.length, 2);
  close(m.distance, 2 * DISTANCE_3D, 1e-6, "3D total");
  close(m.horizontal, 2 * GEODESIC_DELFT, 1e-3, "horizontal total");
  assert.equal(polylineLengths([DELFT_A]).distance, 0);
});

test("polygon area on the horizontal plane matches shapely's", () => {
  const m = polygonArea(POLYGON);
  close(m.area, SHAPELY_AREA, 1e-3, "area");
  close(m.perimeter, SHAPELY_PERIMETER, 1e-3, "perimeter");
  // Heights do not change the projected area; the order of the corners does not either.
  const raised = polygonArea(POLYGON.map(([lon, lat], i) => [lon, lat, 10 * i]));
  close(raised.area, SHAPELY_AREA, 1e-3, "raised area");
  close(polygonArea([...POLYGON].reverse()).area, SHAPELY_AREA, 1e-3, "reversed");
  assert.deepEqual(polygonArea(POLYGON.slice(0, 2)), { area: 0, perimeter: 0 });
});

test("lengths and areas in Swedish: decimal comma, spaces in thousands, km from 1 000 m", () => {
  setLanguage("sv");
  assert.equal(formatLength(3.14159), "3,14\u00a0m");
  assert.equal(formatLength(512.0817), "512,1\u00a0m");
  assert.equal(formatLength(999.94), "999,9\u00a0m");
  assert.equal(formatLength(GEODESIC_STO_GOT), "398,16\u00a0km");
  assert.equal(formatArea(45.25), "45,3\u00a0m²");
  assert.equal(formatArea(SHAPELY_AREA), "31\u00a0666\u00a0m²");
  assert.equal(formatArea(2_500_000), "2,50\u00a0km²");
  assert.equal(formatHeight(12.345), "+12,3\u00a0m");
  assert.equal(formatHeight(-4), "−4,00\u00a0m");
  assert.equal(formatHeight(0), "0,00\u00a0m");
  assert.equal(formatLength(Number.NaN), "–");
});

test("lengths and areas in English: decimal point, commas in thousands", () => {
  setLanguage("en");
  try {
    assert.equal(formatLength(512.0817), "512.1\u00a0m");
    assert.equal(formatLength(1234.5), "1.23\u00a0km");
    assert.equal(formatArea(SHAPELY_AREA), "31,666\u00a0m²");
    assert.equal(formatArea(1_000_000), "1.00\u00a0km²");
  } finally {
    setLanguage("sv");
  }
});

test("describe: the panel's texts per mode, and prompts until there are enough points", () => {
  setLanguage("sv");
  const start = describe("distance", [DELFT_A]);
  assert.equal(start.value, null);
  assert.match(start.summary, /Klicka/);
  const d = describe("distance", [
    [...DELFT_A, 10],
    [...DELFT_B, 45.5],
  ]);
  assert.equal(d.summary, "Totalt 512,1\u00a0m (horisontellt 510,8\u00a0m)");
  assert.deepEqual(d.lines, ["Sträcka 1: 512,1\u00a0m (horisontellt 510,8\u00a0m)"]);
  const h = describe("height", [
    [...DELFT_A, 0],
    [...DELFT_A, 21.5],
  ]);
  assert.equal(h.summary, "Höjdskillnad +21,5\u00a0m");
  assert.equal(h.value.horizontal, 0);
  const a = describe("area", POLYGON);
  assert.equal(a.summary, "Area, horisontellt projicerad: 31\u00a0666\u00a0m²");
  assert.deepEqual(a.lines, ["Omkrets 685,6\u00a0m"]);
  assert.equal(describe("area", POLYGON.slice(0, 2)).value, null);
});
