import assert from "node:assert/strict";
import { test } from "node:test";

import { layerRows, onMapModel, projectRows, sensorRows } from "../../viewer/js/onmap-model.js";
import { setLanguage } from "../../viewer/js/strings.js";

const LAYERS = [
  { name: "demo", title: "Delft", featureCount: 1234, shown: true, error: null },
  { name: "trees", title: "", featureCount: null, shown: false, error: null },
  { name: "old", title: "Gammal", featureCount: 1, shown: false, error: "kunde inte laddas: 404" },
];
const PROJECTS = [
  { id: 7, title_sv: "Smarta parkbänkar", municipalities: ["1283", "1292"], status: "ongoing" },
  { id: 9, title_sv: "", municipalities: [], status: "idea" },
  { id: null, title_sv: "utan id" },
];
const NAMES = { 1283: "Helsingborg", 1292: "Ängelholm" };
const THINGS = [
  { key: "t1", name: "Luftstation", state: "alarm", result: 91.25, unit: { symbol: "µg/m³" }, replay: false },
  { key: "t2", name: "Vattennivå", state: "none", result: null, unit: null, replay: false },
  { key: "t3", name: "", state: "ok", result: 3, unit: { symbol: "m" }, replay: true },
];

function withLanguage(lang, fn) {
  setLanguage(lang);
  try {
    fn();
  } finally {
    setLanguage("sv");
  }
}

test("layers: title, localised object count, and shown, hidden or failed in words", () => {
  const rows = layerRows(LAYERS);
  assert.deepEqual(
    rows.map((r) => [r.kind, r.key, r.title, r.detail, r.state]),
    [
      ["layer", "demo", "Delft", "1\u00a0234 objekt · visas", "shown"],
      ["layer", "trees", "trees", "dolt", "hidden"],
      ["layer", "old", "Gammal", "1 objekt · kunde inte laddas", "error"],
    ],
  );
  withLanguage("en", () => {
    assert.equal(layerRows(LAYERS)[0].detail, "1,234 objects · shown");
    assert.equal(layerRows(LAYERS)[1].detail, "hidden");
  });
});

test("projects: title, status in words and municipality names; rows without an id are left out", () => {
  const rows = projectRows(PROJECTS, { municipalityName: (c) => NAMES[c] ?? c });
  assert.deepEqual(
    rows.map((r) => [r.key, r.title, r.detail]),
    [
      ["7", "Smarta parkbänkar", "Pågående · Helsingborg, Ängelholm"],
      ["9", "Projekt 9", "Idé"],
    ],
  );
  withLanguage("en", () => {
    assert.equal(projectRows(PROJECTS, {})[0].detail, "Ongoing · 1283, 1292", "codes without names");
  });
});

test("sensors: name, latest value with unit in the locale, state in words, replay marked", () => {
  const rows = sensorRows(THINGS);
  assert.deepEqual(
    rows.map((r) => [r.key, r.title, r.detail, r.state]),
    [
      ["t1", "Luftstation", "91,25 µg/m³ · Larm", "alarm"],
      ["t2", "Vattennivå", "inga data · Inga data", "none"],
      ["t3", "t3", "3 m · Normalt · repris", "ok"],
    ],
  );
  withLanguage("en", () => {
    assert.equal(sensorRows(THINGS)[0].detail, "91.25 µg/m³ · Alarm");
  });
});

test("the model: three sections in order with the counts line; shown layers only are counted", () => {
  const model = onMapModel({
    layers: LAYERS,
    projects: PROJECTS,
    things: THINGS,
    municipalityName: (c) => NAMES[c] ?? c,
  });
  assert.deepEqual(
    model.sections.map((s) => [s.kind, s.heading, s.rows.length]),
    [
      ["layer", "Lager", 3],
      ["project", "Projekt", 2],
      ["sensor", "Sensorer", 3],
    ],
  );
  assert.equal(model.counts, "På kartan: 1 lager, 2 projekt, 3 sensorer");
  withLanguage("en", () => {
    const one = onMapModel({ layers: LAYERS.slice(0, 1), projects: PROJECTS.slice(0, 1), things: THINGS.slice(0, 1) });
    assert.equal(one.counts, "On the map: 1 layer, 1 project, 1 sensor");
  });
});

test("a filter or a new value changes the rows; only a count change changes the counts line", () => {
  const before = onMapModel({ layers: LAYERS, projects: PROJECTS, things: THINGS });
  const newValue = onMapModel({
    layers: LAYERS,
    projects: PROJECTS,
    things: [{ ...THINGS[0], result: 12, state: "ok" }, ...THINGS.slice(1)],
  });
  assert.equal(newValue.counts, before.counts, "a value is not announced");
  assert.equal(newValue.sections[2].rows[0].detail, "12 µg/m³ · Normalt");
  const filtered = onMapModel({ layers: LAYERS, projects: PROJECTS.slice(0, 1), things: THINGS });
  assert.equal(filtered.counts, "På kartan: 1 lager, 1 projekt, 3 sensorer");
  assert.deepEqual(filtered.sections[1].rows.map((r) => r.key), ["7"]);
});

test("empty or missing input gives empty sections, never an error", () => {
  const model = onMapModel();
  assert.deepEqual(model.sections.map((s) => s.rows.length), [0, 0, 0]);
  assert.equal(model.counts, "På kartan: 0 lager, 0 projekt, 0 sensorer");
  assert.deepEqual(sensorRows([{ key: "x" }]).map((r) => r.detail), ["inga data · Inga data"]);
});
