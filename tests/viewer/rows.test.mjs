import assert from "node:assert/strict";
import { test } from "node:test";

import { buildRows, valuesByName } from "../../viewer/js/rows.js";
import { setLanguage } from "../../viewer/js/strings.js";

const properties = [
  { id: "id", name: "id", type: "STRING" },
  { id: "type", name: "type", type: "STRING" },
  { id: "parent", name: "parent", type: "STRING" },
  { id: "lod", name: "lod", type: "STRING" },
  { id: "bgt_status", name: "bgt_status", type: "STRING" },
  { id: "min_height_surface", name: "min-height-surface", type: "FLOAT64" },
  { id: "p_1", name: "建物ID", type: "STRING" },
  { id: "function", name: "function", type: "STRING" },
];

const building = {
  id: "b1",
  type: "Building",
  lod: "1",
  bgt_status: "bestaand",
  min_height_surface: 0.19,
  p_1: "13103-bldg-1",
};

test("core rows first, parent left out when absent, labels in the viewer's language", () => {
  const { core } = buildRows((id) => building[id], properties, "en");
  assert.deepEqual(
    core.map((r) => [r.label, r.text]),
    [
      ["ID", "b1"],
      ["Typ", "Building"],
      ["LoD", "1"],
    ],
  );
  const withParent = buildRows((id) => ({ ...building, parent: "b0" })[id], properties, "en");
  assert.deepEqual(withParent.core[2], {
    id: "parent",
    label: "Överordnat objekt",
    text: "b0",
    missing: false,
  });
  setLanguage("en");
  try {
    const english = buildRows((id) => ({ ...building, parent: "b0" })[id], properties, "en");
    assert.deepEqual(
      english.core.map((r) => r.label),
      ["ID", "Type", "Parent", "LoD"],
    );
  } finally {
    setLanguage("sv");
  }
});

test("attributes in config order under their source names; empty ones apart", () => {
  const { attributes, empty } = buildRows((id) => building[id], properties, "en");
  assert.deepEqual(
    attributes.map((r) => [r.id, r.label, r.text]),
    [
      ["bgt_status", "bgt_status", "bestaand"],
      ["min_height_surface", "min-height-surface", "0.19"],
      ["p_1", "建物ID", "13103-bldg-1"],
    ],
  );
  assert.deepEqual(
    empty.map((r) => [r.label, r.text]),
    [["function", "–"]],
  );
});

test("a missing core value shows a dash; bad entries in the list are skipped", () => {
  const { core, attributes } = buildRows(() => undefined, [null, { name: "x" }, ...properties]);
  assert.equal(core.find((r) => r.id === "type").text, "–");
  assert.equal(attributes.length, 0);
});

test("values by source name for window.twin.selected", () => {
  const values = valuesByName((id) => building[id], properties);
  assert.deepEqual(values, {
    bgt_status: "bestaand",
    "min-height-surface": 0.19,
    建物ID: "13103-bldg-1",
    function: undefined,
  });
  assert.equal(valuesByName(() => 5n, [{ id: "n", name: "n" }]).n, "5");
});
