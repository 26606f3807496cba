import assert from "node:assert/strict";
import { test } from "node:test";

import {
  emptyForm,
  errorsFromResponse,
  fieldOf,
  formToProjectIn,
  parseLinks,
  projectToForm,
} from "../../viewer/js/project-form-model.js";
import {
  anchorOf,
  flightExtent,
  geometryParts,
  heightRange,
  pointOf,
  withPoint,
} from "../../viewer/js/project-geometry.js";
import { canCreate, canEdit, isStaff, monthsSince, parseUser } from "../../viewer/js/user.js";

const OUT = {
  id: 4,
  version: 3,
  title_sv: "Laddgator",
  title_en: null,
  summary_sv: "Laddning i gatan",
  summary_en: "Charging in the street",
  description: "**Text**",
  municipalities: ["1283"],
  categories: ["energy", "mobility"],
  status: "ongoing",
  start_date: "2024-01-01",
  end_date: null,
  contact: null,
  partners: ["Öresundskraft", "NSVA"],
  links: [{ title: "Mer", url: "https://example.org" }, { title: "", url: "https://x.se" }],
  testbed: true,
  tags: ["el", "laddning"],
  geometry: {
    type: "GeometryCollection",
    geometries: [
      { type: "Point", coordinates: [12.7, 56.05] },
      { type: "LineString", coordinates: [[12.7, 56.0], [12.8, 56.1]] },
    ],
  },
  public: true,
};

test("a project round-trips through the form to the same ProjectIn fields", () => {
  const values = projectToForm(OUT);
  assert.equal(values.partners, "Öresundskraft\nNSVA");
  assert.equal(values.links, "Mer | https://example.org\nhttps://x.se");
  assert.equal(values.tags, "el, laddning");
  const body = formToProjectIn(values);
  assert.deepEqual(body, {
    title_sv: "Laddgator",
    title_en: null,
    summary_sv: "Laddning i gatan",
    summary_en: "Charging in the street",
    description: "**Text**",
    municipalities: ["1283"],
    categories: ["energy", "mobility"],
    status: "ongoing",
    start_date: "2024-01-01",
    end_date: null,
    contact: null,
    contact_public: false,
    partners: ["Öresundskraft", "NSVA"],
    links: [{ title: "Mer", url: "https://example.org" }, { title: "", url: "https://x.se" }],
    testbed: true,
    tags: ["el", "laddning"],
    geometries: OUT.geometry.geometries,
    public: true,
  });
});

test("a new project starts internal, as an idea, in the editor's first municipality", () => {
  const v = emptyForm({ municipalities: ["1283", "1284"] });
  assert.deepEqual(v.municipalities, ["1283"]);
  assert.equal(v.public, false);
  assert.equal(v.status, "idea");
  const body = formToProjectIn({ ...v, title_sv: "  X  ", tags: " a, ,b\nc " });
  assert.equal(body.title_sv, "X");
  assert.deepEqual(body.tags, ["a", "b", "c"]);
  assert.equal(body.start_date, null);
});

test("link lines: 'title | url' or a bare url; the server judges the url", () => {
  assert.deepEqual(parseLinks("a | b | https://x\n\n javascript:alert(1) "), [
    { title: "a | b", url: "https://x" },
    { title: "", url: "javascript:alert(1)" },
  ]);
});

test("FastAPI validation errors land on their fields, in Swedish", () => {
  const { fields, message } = errorsFromResponse({
    detail: [
      { loc: ["body", "title_sv"], msg: "String should have at least 1 character",
        type: "string_too_short", ctx: { min_length: 1 } },
      { loc: ["body", "municipalities"], msg: "List should have at least 1 item",
        type: "too_short", ctx: { min_length: 1 } },
      { loc: ["body", "links", 0, "url"], msg: "Value error, a link must start with https://",
        type: "value_error" },
      { loc: ["body", "geometries", 0], msg: "Value error, bad", type: "value_error" },
      { loc: ["body"], msg: "Value error, end_date is before start_date", type: "value_error" },
      { loc: ["body", "unknown"], msg: "Extra inputs are not permitted", type: "extra_forbidden" },
    ],
  });
  assert.equal(fields.title_sv, "Fyll i fältet.");
  assert.equal(fields.municipalities, "Välj minst 1.");
  assert.equal(fields.links, "a link must start with https://");
  assert.equal(fields.location, "bad");
  assert.equal(fields.end_date, "end_date is before start_date");
  assert.equal(message, "Extra inputs are not permitted");
});

test("twin's own {code, message, field} errors land on their field too", () => {
  assert.deepEqual(
    errorsFromResponse({ code: "invalid_project", message: "unknown category", field: "categories" }),
    { fields: { categories: "unknown category" }, message: "" },
  );
  assert.deepEqual(errorsFromResponse({ code: "x", message: "general" }), {
    fields: {},
    message: "general",
  });
  assert.equal(fieldOf("geometries[0]"), "location");
  assert.equal(fieldOf("nonsense"), null);
});

test("geometry parts, the pin's anchor and heights", () => {
  const parts = geometryParts(OUT.geometry);
  assert.equal(parts.points.length, 1);
  assert.equal(parts.lines.length, 1);
  assert.deepEqual(anchorOf(OUT.geometry), [12.7, 56.05]);
  const poly = { type: "Polygon", coordinates: [[[0, 0, 10], [2, 0, 10], [2, 2, 20], [0, 0, 10]]] };
  assert.deepEqual(anchorOf(poly), [1, 1, 12.5]);
  assert.deepEqual(heightRange({ geometry: poly }), [10, 20]);
  assert.equal(heightRange(OUT), null);
  assert.deepEqual(anchorOf(null, [0, 0, 2, 4]), [1, 2]);
  assert.equal(anchorOf(null), null);
  // Malformed parts are skipped, not thrown on.
  const bad = { type: "GeometryCollection", geometries: [{ type: "Point", coordinates: [NaN, 1] },
    { type: "LineString", coordinates: [[1, 2]] }, { type: "Polygon", coordinates: [[[0, 0]]] }, null] };
  assert.deepEqual(geometryParts(bad), { points: [], lines: [], polygons: [] });
});

test("placing replaces the point and keeps the other shapes", () => {
  const before = OUT.geometry.geometries;
  const after = withPoint(before, [13.123456789, 55.5, 43.219]);
  assert.deepEqual(after[0], { type: "Point", coordinates: [13.1234568, 55.5, 43.22] });
  assert.equal(after.length, 2);
  assert.deepEqual(pointOf(after), [13.1234568, 55.5, 43.22]);
  assert.deepEqual(withPoint(after, null), [before[1]]);
});

test("a point's flight extent is at least ~300 m across", () => {
  const [w, s, e, n] = flightExtent({ geometry: { type: "Point", coordinates: [12.7, 56] } });
  assert.ok(n - s >= 0.0029 && e - w > n - s);
  assert.equal(flightExtent({ geometry: null }), null);
});

test("users: twin's me answer, roles per municipality, what they may do", () => {
  assert.equal(parseUser({ authenticated: false }), null);
  const user = parseUser({
    authenticated: true,
    user: { id: 2, email: "e@x.se", display_name: null, roles: { "1283": ["editor"], "1284": ["gis"] } },
    roles: { "1283": ["editor"], "1284": ["gis"] },
    is_admin: false,
    csrf_token: "tok",
  });
  assert.deepEqual(
    { ...user },
    { id: 2, email: "e@x.se", name: "e@x.se", isAdmin: false, editorOf: ["1283"], gisOf: ["1284"],
      csrfToken: "tok" },
  );
  assert.equal(canCreate(user), true);
  assert.equal(canEdit(user, { municipalities: ["1283", "1260"] }), true);
  assert.equal(canEdit(user, { municipalities: ["1284"] }), false);
  assert.equal(isStaff(user, { municipalities: ["1284"] }), true);
  assert.equal(canCreate(null), false);
  const listRoles = parseUser({ email: "a@b", roles: [{ municipality: "DEMO", role: "editor" }] });
  assert.deepEqual(listRoles.editorOf, ["DEMO"]);
  const admin = parseUser({ authenticated: true, user: { id: 1, email: "a@b", is_admin: true, roles: {} } });
  assert.equal(canEdit(admin, { municipalities: ["1214"] }), true);
});

test("months since a review", () => {
  const now = new Date("2025-07-01T00:00:00Z");
  assert.equal(monthsSince("2025-01-01T00:00:00Z", now), 5);
  assert.equal(monthsSince("2024-06-15T10:00:00", now), 12);
  assert.equal(monthsSince(null, now), null);
  assert.equal(monthsSince("garbage", now), null);
});
