// The import panel's pure logic (imports-model.js) and its API calls (imports-api.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { createImportsApi, followJob, xhrError } from "../../viewer/js/imports-api.js";
import {
  canManageLayers,
  fillUrl,
  progressOf,
  reportView,
  suggestLayerName,
  uploadFields,
  versionRows,
} from "../../viewer/js/imports-model.js";
import { parseUser } from "../../viewer/js/user.js";

test("canManageLayers: GIS staff and administrators only", () => {
  assert.equal(canManageLayers(null), false);
  assert.equal(canManageLayers(parseUser({ email: "e@x", roles: { DEMO: ["editor"] } })), false);
  assert.equal(canManageLayers(parseUser({ email: "g@x", roles: { DEMO: ["gis"] } })), true);
  assert.equal(canManageLayers(parseUser({ email: "a@x", is_admin: true, roles: {} })), true);
  assert.equal(canManageLayers({ isAdmin: false, gisOf: "DEMO" }), false); // not a list
});

test("fillUrl encodes what it fills and leaves unknown names", () => {
  assert.equal(fillUrl("/api/imports/{id}/events", { id: "a b/c" }), "/api/imports/a%20b%2Fc/events");
  assert.equal(fillUrl("/api/layers/{layer}/x/{v}", { layer: "city" }), "/api/layers/city/x/{v}");
});

test("suggestLayerName makes a valid layer name from a file name, or none", () => {
  assert.equal(suggestLayerName("delft.city.json"), "delft");
  assert.equal(suggestLayerName("C:\\exports\\Hus Övre Stad.zip"), "hus-ovre-stad");
  assert.equal(suggestLayerName("byggnader_2024.gpkg"), "byggnader_2024");
  assert.equal(suggestLayerName("___.json"), "");
  assert.equal(suggestLayerName(""), "");
  assert.equal(suggestLayerName(`${"a".repeat(80)}.json`).length, 63);
});

test("uploadFields checks the form and leaves defaults out", () => {
  const file = { name: "delft.city.json", size: 10 };
  assert.deepEqual(uploadFields({ file, layer: " city " }), { layer: "city", fields: [] });
  const full = uploadFields({
    file,
    layer: "city",
    title: " Delft ",
    isNew: true,
    public: false,
    crs: "3008",
    axisOrder: "yx",
    lod: "2.2",
    autoPublish: true,
  });
  assert.deepEqual(full.fields, [
    ["title", "Delft"],
    ["public", "false"],
    ["crs", "EPSG:3008"],
    ["lod", "2.2"],
    ["axis_order", "yx"],
    ["auto_publish", "true"],
  ]);
  // An existing layer's public flag is changed in the layer list, not by an upload.
  assert.deepEqual(uploadFields({ file, layer: "city", isNew: false, public: false }).fields, []);
  assert.deepEqual(uploadFields({ file, layer: "c", crs: "urn:ogc:def:crs:EPSG::7415" }).fields, [
    ["crs", "urn:ogc:def:crs:EPSG::7415"],
  ]);
  const bad = uploadFields({ file: null, layer: "Stad!", crs: "EPSG 3008", lod: "two", axisOrder: "zx" });
  assert.deepEqual(Object.keys(bad.errors).sort(), ["axisOrder", "crs", "file", "layer", "lod"]);
  assert.match(uploadFields({ file: { name: "x", size: 0 }, layer: "a" }).errors.file, /tom/);
  const big = uploadFields({ file: { name: "x", size: 3 * 1024 ** 2 }, layer: "a" }, { maxBytes: 1024 ** 2 });
  assert.match(big.errors.file, /större än 1 MB/);
  assert.match(uploadFields({ file, layer: "" }).errors.layer, /namn/);
});

test("progressOf: upload, stages, the end and failures", () => {
  assert.deepEqual(progressOf(null, { uploading: 0.456 }).value, 46);
  assert.match(progressOf(null, { uploading: 2 }).text, /100 %/);
  const running = progressOf({ state: "running", stage: "converting", percent: 10 });
  assert.equal(running.value, 10);
  assert.equal(running.text, "Konverterar … 10 %");
  assert.equal(running.done, false);
  assert.equal(progressOf({ state: "queued", stage: "queued", percent: 0 }).text, "I kö");
  const done = progressOf({ state: "succeeded", stage: "done", percent: 100 });
  assert.deepEqual([done.value, done.done, done.failed], [100, true, false]);
  const failed = progressOf({
    state: "failed",
    stage: "converting",
    percent: 10,
    error: { code: "worker_lost", message: "the worker died" },
  });
  assert.equal(failed.failed, true);
  assert.equal(failed.text, "Misslyckades (worker_lost): the worker died");
  assert.equal(progressOf(null).text, "");
});

test("reportView: decisions, counts per type, skipped objects, warnings; nothing undefined", () => {
  const view = reportView({
    source: "delft.city.json",
    format: "CityJSON 2.0",
    crs: "EPSG:7415",
    crs_from: "file",
    axis_order: "xy",
    axis_note: "coordinates read as easting, northing",
    height_method: "as-ellipsoidal",
    height_note: "EPSG:5709 heights used as ellipsoidal heights",
    feature_count: 570,
    triangle_count: 36267,
    types: { Building: 160, Road: 143, Bridge: 3, WaterBody: 3 },
    lods: { 1: 570 },
    bytes_total: 4628852,
    height_range: [-0.452, 16.846],
    skipped: [{ object_id: "b1", reason: "no geometry" }],
    warnings: ["4 degenerate polygons (no area) skipped"],
  });
  const rows = Object.fromEntries(view.rows);
  assert.equal(rows.Objekt, "570");
  assert.equal(rows.Koordinatsystem, "EPSG:7415 (från filen)");
  assert.equal(rows.Axelordning, "coordinates read as easting, northing");
  assert.equal(rows.Höjder, "EPSG:5709 heights used as ellipsoidal heights");
  assert.equal(rows.Detaljnivåer, "LoD 1: 570");
  assert.equal(rows.Trianglar, "36\u00a0267");
  assert.deepEqual(view.types.map(([type]) => type), ["Building", "Road", "Bridge", "WaterBody"]);
  assert.deepEqual(view.skipped, [{ id: "b1", reason: "no geometry" }]);
  assert.deepEqual(view.warnings, ["4 degenerate polygons (no area) skipped"]);
  assert.ok(!JSON.stringify(view).includes("undefined"));
  const sparse = reportView({ crs: "EPSG:3008", crs_from: "option", types: { A: "x" }, skipped: [null] });
  assert.deepEqual(sparse.rows, [["Koordinatsystem", "EPSG:3008 (angivet vid importen)"]]);
  assert.deepEqual([sparse.types, sparse.skipped, sparse.warnings], [[], [], []]);
  assert.equal(reportView(null), null);
});

test("versionRows: newer than current is a publish, older a roll back; current not deletable", () => {
  const rows = versionRows([
    { id: "v3", created: "2026-01-03T10:00:00+00:00", current: false, source: "c.json", report: { feature_count: 3 }, tileset_url: "/tiles/a/@v3/tileset.json" },
    { id: "v2", created: "2026-01-02T10:00:00+00:00", current: true, source: "b.json", report: {} },
    { id: "v1", created: "2026-01-01T10:00:00+00:00", current: false, source: "a.json", report: { feature_count: 1 } },
    null,
  ]);
  assert.deepEqual(rows.map((r) => [r.id, r.action, r.deletable]), [
    ["v3", "publish", true],
    ["v2", null, false],
    ["v1", "rollback", true],
  ]);
  assert.equal(rows[0].created, "2026-01-03 10:00:00 UTC");
  assert.equal(rows[0].objects, 3);
  assert.equal(rows[1].objects, null);
  assert.equal(rows[0].tilesetUrl, "/tiles/a/@v3/tileset.json");
  // No current version yet (a new layer): every version publishes.
  assert.deepEqual(versionRows([{ id: "v1" }]).map((r) => r.action), ["publish"]);
});

function fakeFetch(answers) {
  const calls = [];
  const impl = async (url, init) => {
    calls.push({ url, method: init.method, headers: init.headers, body: init.body });
    const [status, body] = answers.shift() ?? [200, {}];
    return new Response(body === null ? null : JSON.stringify(body), { status });
  };
  return { impl, calls };
}

test("the API sends the session's CSRF token with every change, to the config's URLs", async () => {
  const { impl, calls } = fakeFetch([
    [200, { authenticated: true, user: { id: 1, email: "g@x", roles: { DEMO: ["gis"] } }, csrf_token: "tok" }],
    [200, [{ id: "v1" }]],
    [200, [{ id: "v1", current: true }]],
    [204, null],
    [200, { name: "city", public: false }],
    [200, { id: "j1", state: "failed" }],
    [409, { code: "conflict", message: "import job 'j1' is running" }],
  ]);
  const api = createImportsApi({ versions: "/x/layers/{layer}/versions", import: "/x/imports/{id}" }, { fetchImpl: impl });
  const user = await api.me();
  assert.deepEqual(user.gisOf, ["DEMO"]);
  assert.equal(api.csrfToken, "tok");
  await api.versions("city");
  await api.publishVersion("city", "v1");
  await api.deleteVersion("city", "v 0");
  await api.patchLayer("city", { public: false });
  await api.cancelJob("j1");
  await assert.rejects(api.publishJob("j1"), (err) => err.status === 409 && err.body.code === "conflict");
  assert.deepEqual(calls.map((c) => `${c.method} ${c.url}`), [
    "GET /api/auth/me",
    "GET /x/layers/city/versions",
    "POST /x/layers/city/versions/v1/publish",
    "DELETE /x/layers/city/versions/v%200",
    "PATCH /api/layers/city",
    "POST /x/imports/j1/cancel",
    "POST /x/imports/j1/publish",
  ]);
  assert.equal(calls[1].headers["X-CSRF-Token"], undefined); // reads carry none
  for (const c of calls.slice(2)) assert.equal(c.headers["X-CSRF-Token"], "tok");
  assert.equal(calls[4].body, JSON.stringify({ public: false }));
  assert.equal(api.eventsUrl("j1"), "/api/imports/j1/events");
});

test("xhrError reads the API's error body like http.js does", () => {
  const err = xhrError("/api/layers/a/imports", 413, '{"code":"upload_too_large","message":"too big"}');
  assert.equal(err.status, 413);
  assert.equal(err.body.code, "upload_too_large");
  assert.equal(err.message, "/api/layers/a/imports answered HTTP 413: too big");
  assert.equal(xhrError("/u", 0, "").message, "/u could not be reached");
  assert.equal(xhrError("/u", 502, "<html>").body, undefined);
});

test("followJob polls when there is no EventSource, and stops at the final state", async () => {
  const states = ["queued", "running", "running", "succeeded", "published"];
  let asked = 0;
  const api = { getJob: async () => ({ id: "j", state: states[asked++] }), eventsUrl: () => "/e" };
  const seen = [];
  await new Promise((resolve) => {
    followJob(api, "j", (job) => {
      seen.push(job.state);
      if (job.state === "succeeded") setTimeout(resolve, 30);
    }, { pollMs: 1 });
  });
  assert.deepEqual(seen, ["queued", "running", "running", "succeeded"]);
  assert.equal(asked, 4); // nothing asked after the end
});
