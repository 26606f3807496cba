import assert from "node:assert/strict";
import { test } from "node:test";

import { formatValue, isMissing, MISSING } from "../../viewer/js/format.js";
import { setLanguage } from "../../viewer/js/strings.js";

test("missing values show as a dash", () => {
  for (const v of [undefined, null, "", "   ", Number.NaN, []]) {
    assert.equal(isMissing(v), true, String(v));
    assert.equal(formatValue(v, "STRING", "en"), MISSING);
  }
  assert.equal(isMissing(0), false);
  assert.equal(isMissing(false), false);
});

test("numbers: floats to three decimals, integers whole, no digit grouping", () => {
  assert.equal(formatValue(4.61, "FLOAT64", "en"), "4.61");
  assert.equal(formatValue(3.14159, "FLOAT64", "en"), "3.142");
  assert.equal(formatValue(3.14159, "FLOAT64", "sv"), "3,142");
  assert.equal(formatValue(2014, "INT32", "en"), "2014");
  assert.equal(formatValue(503100000026221, "FLOAT64", "en"), "503100000026221");
  assert.equal(formatValue(12n, "INT64", "en"), "12");
});

test("strings are shown as they are, including Japanese", () => {
  assert.equal(formatValue("bestaand", "STRING", "en"), "bestaand");
  assert.equal(formatValue("東京都港区", "STRING", "ja"), "東京都港区");
});

test("booleans, arrays and objects", () => {
  // Yes and no in the viewer's language (Swedish by default).
  assert.equal(formatValue(true, "BOOLEAN"), "ja");
  assert.equal(formatValue(false, "BOOLEAN"), "nej");
  setLanguage("en");
  try {
    assert.equal(formatValue(true, "BOOLEAN"), "yes");
    assert.equal(formatValue(false, "BOOLEAN"), "no");
    assert.equal(formatValue(3.14159, "FLOAT64"), "3.142", "the English locale by default");
  } finally {
    setLanguage("sv");
  }
  assert.equal(formatValue(3.14159, "FLOAT64"), "3,142", "the Swedish locale by default");
  assert.equal(formatValue([1.5, 2], "FLOAT64", "en"), "1.5, 2");
  assert.equal(formatValue(new Float32Array([0.5]), "FLOAT32", "en"), "0.5");
  assert.equal(formatValue({ a: 1 }, undefined, "en"), '{"a":1}');
});

