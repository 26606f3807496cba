import assert from "node:assert/strict";
import { test } from "node:test";

import { en } from "../../viewer/js/i18n/en.js";
import { sv } from "../../viewer/js/i18n/sv.js";
import {
  countText,
  debounce,
  enterChoice,
  flightRange,
  groupResults,
  moveActive,
  normaliseQuery,
  normaliseResult,
  orderedResults,
  parseAnswer,
  resultLabel,
  resultSpeech,
  searchUrl,
} from "../../viewer/js/search-model.js";
import { setStrings } from "../../viewer/js/strings.js";

/** Timers that run only when told: the debounce without waiting for real time. */
function fakeTimers() {
  let now = 0;
  let next = 1;
  const due = new Map();
  return {
    setTimeout(fn, ms) {
      const id = next++;
      due.set(id, { fn, at: now + ms });
      return id;
    },
    clearTimeout(id) {
      due.delete(id);
    },
    advance(ms) {
      now += ms;
      for (const [id, { fn, at }] of [...due].sort((a, b) => a[1].at - b[1].at)) {
        if (at <= now) {
          due.delete(id);
          fn();
        }
      }
    },
    get pending() {
      return due.size;
    },
  };
}

const object = (id, extra = {}) => ({
  kind: "object",
  title: id,
  subtitle: "Building · Delft",
  layer: "demo",
  id,
  project_id: null,
  lon: 4.37,
  lat: 52.0,
  height: 45.5,
  radius: 12,
  ...extra,
});
const project = {
  kind: "project",
  title: "Solceller på skolan",
  subtitle: "Pågående",
  layer: null,
  id: null,
  project_id: 7,
  lon: 12.7,
  lat: 56.05,
  height: 0,
  radius: 200,
};
const coordinate = {
  kind: "coordinate",
  title: "N 6212500 E 358000 (SWEREF 99 TM)",
  subtitle: "56.0440, 12.6940",
  layer: null,
  id: null,
  project_id: null,
  lon: 12.694,
  lat: 56.044,
  height: 0,
  radius: 50,
};

test("debounce calls once, with the last arguments, after the quiet time", () => {
  const timers = fakeTimers();
  const calls = [];
  const d = debounce((q) => calls.push(q), 250, timers);
  d("a");
  timers.advance(100);
  d("ab");
  timers.advance(200);
  assert.deepEqual(calls, [], "still typing: nothing sent");
  d("abc");
  timers.advance(249);
  assert.deepEqual(calls, []);
  timers.advance(1);
  assert.deepEqual(calls, ["abc"]);
  timers.advance(1000);
  assert.deepEqual(calls, ["abc"], "not again");
});

test("debounce cancel drops the pending call, flush runs it now", () => {
  const timers = fakeTimers();
  const calls = [];
  const d = debounce((q) => calls.push(q), 250, timers);
  d("x1");
  d.cancel();
  timers.advance(500);
  assert.deepEqual(calls, []);
  assert.equal(timers.pending, 0);
  d("x2");
  d.flush();
  assert.deepEqual(calls, ["x2"]);
  timers.advance(500);
  assert.deepEqual(calls, ["x2"], "a flushed call does not run again");
  d.flush();
  assert.deepEqual(calls, ["x2"], "flush with nothing pending does nothing");
});

test("queries are trimmed, collapsed, stripped of control characters and capped", () => {
  assert.equal(normaliseQuery("  b3d:NL.IMBAG  \t Pand  "), "b3d:NL.IMBAG Pand");
  assert.equal(normaliseQuery("a\u0000b\nc"), "a b c");
  assert.equal(normaliseQuery(" a "), "", "one character is too short");
  assert.equal(normaliseQuery(""), "");
  assert.equal(normaliseQuery(null), "");
  assert.equal(normaliseQuery("x".repeat(500)).length, 200);
});

test("the request URL encodes the query", () => {
  assert.equal(searchUrl("/api/search", "Å & b#c", 20), "/api/search?q=%C3%85+%26+b%23c&limit=20");
  assert.equal(searchUrl("/api/search?x=1", "ab", 5), "/api/search?x=1&q=ab&limit=5");
});

test("results are normalised; those that cannot be flown to are dropped", () => {
  const r = normaliseResult(object("b1"));
  assert.deepEqual(r, {
    kind: "object",
    title: "b1",
    subtitle: "Building · Delft",
    layer: "demo",
    id: "b1",
    projectId: null,
    lon: 4.37,
    lat: 52.0,
    height: 45.5,
    radius: 12,
  });
  assert.equal(normaliseResult(project).projectId, 7);
  assert.equal(normaliseResult({ ...object("b1"), id: 42 }).id, "42", "ids are text");
  for (const bad of [
    null,
    "x",
    { ...object("b"), kind: "street" },
    { ...object("b"), lon: Number.NaN },
    { ...object("b"), lat: 91 },
    { ...object("b"), lon: "4.3" },
    { ...object("b"), layer: null },
    { ...object("b"), id: null },
    { ...project, project_id: null },
    { ...project, project_id: 1.5 },
  ]) {
    assert.equal(normaliseResult(bad), null, JSON.stringify(bad));
  }
  const loose = normaliseResult({ ...coordinate, height: null, radius: -3, title: "" });
  assert.equal(loose.height, 0);
  assert.equal(loose.radius, 0);
  assert.equal(loose.title, "56.044, 12.694", "an untitled coordinate is named by its position");
});

test("an answer of the wrong shape is an error; bad items and layer names are left out", () => {
  assert.throws(() => parseAnswer(null), /no results/);
  assert.throws(() => parseAnswer({ results: "x" }), /no results/);
  const answer = parseAnswer({
    query: "b",
    results: [object("b1"), { kind: "object" }, project],
    unindexed_layers: ["old", 3, ""],
  });
  assert.deepEqual(answer.results.map((r) => r.kind), ["object", "project"]);
  assert.deepEqual(answer.unindexed, ["old"]);
  assert.deepEqual(parseAnswer({ results: [] }).unindexed, []);
});

test("results are grouped by kind, groups in the order of their best result", () => {
  setStrings(sv);
  const results = [object("b1"), project, object("b2"), coordinate].map(normaliseResult);
  const groups = groupResults(results);
  assert.deepEqual(
    groups.map((g) => [g.kind, g.label, g.items.map((i) => [i.index, i.result.title])]),
    [
      ["object", "Objekt", [[0, "b1"], [1, "b2"]]],
      ["project", "Projekt", [[2, "Solceller på skolan"]]],
      ["coordinate", "Koordinater", [[3, coordinate.title]]],
    ],
  );
  assert.deepEqual(
    orderedResults(results).map((r) => r.title),
    ["b1", "b2", "Solceller på skolan", coordinate.title],
    "the list the keyboard walks is the grouped order",
  );
  // A typed coordinate ranks first on the server: its group leads.
  const typed = groupResults([coordinate, object("b3")].map(normaliseResult));
  assert.deepEqual(typed.map((g) => g.kind), ["coordinate", "object"]);
  assert.deepEqual(groupResults([]), []);
  setStrings(en);
  assert.deepEqual(
    groupResults(results).map((g) => g.label),
    ["Objects", "Projects", "Coordinates"],
  );
  setStrings(sv);
});

test("labels: title and detail; an object without a subtitle names its layer", () => {
  setStrings(sv);
  assert.deepEqual(resultLabel(normaliseResult(object("b1"))), {
    title: "b1",
    detail: "Building · Delft",
  });
  const bare = normaliseResult(object("b2", { subtitle: "" }));
  assert.deepEqual(resultLabel(bare), { title: "b2", detail: "i lagret demo" });
  assert.equal(resultSpeech(bare), "b2, i lagret demo");
  setStrings(en);
  assert.equal(resultSpeech(bare), "b2, in layer demo");
  setStrings(sv);
});

test("the count line in both languages, and no results names the query", () => {
  setStrings(sv);
  assert.equal(countText(1, "x"), "1 träff");
  assert.equal(countText(3, "x"), "3 träffar");
  assert.equal(countText(0, "kvarn"), "Inga träffar för ”kvarn”");
  setStrings(en);
  assert.equal(countText(1, "x"), "1 result");
  assert.equal(countText(12, "x"), "12 results");
  assert.equal(countText(0, "mill"), "No results for “mill”");
  setStrings(sv);
});

test("keyboard: Down/Up wrap, Page keys step by five, Home/End only inside the list", () => {
  assert.equal(moveActive(-1, 3, "ArrowDown"), 0, "from the box to the first");
  assert.equal(moveActive(0, 3, "ArrowDown"), 1);
  assert.equal(moveActive(2, 3, "ArrowDown"), 0, "wraps to the first");
  assert.equal(moveActive(-1, 3, "ArrowUp"), 2, "from the box to the last");
  assert.equal(moveActive(0, 3, "ArrowUp"), 2, "wraps to the last");
  assert.equal(moveActive(2, 3, "ArrowUp"), 1);
  assert.equal(moveActive(1, 12, "PageDown"), 6);
  assert.equal(moveActive(9, 12, "PageDown"), 11);
  assert.equal(moveActive(3, 12, "PageUp"), 0);
  assert.equal(moveActive(4, 5, "Home"), 0);
  assert.equal(moveActive(1, 5, "End"), 4);
  assert.equal(moveActive(-1, 5, "Home"), null, "Home in the box moves the caret");
  assert.equal(moveActive(-1, 5, "End"), null);
  assert.equal(moveActive(-1, 0, "ArrowDown"), null, "an empty list");
  assert.equal(moveActive(1, 3, "a"), null, "other keys are not movements");
});

test("Enter takes the active option, the only one, an exact id or a coordinate", () => {
  const two = [object("b1"), object("b12")].map(normaliseResult);
  assert.equal(enterChoice(two, 1, "b1"), 1, "the active option first");
  assert.equal(enterChoice(two, -1, "B1 "), 0, "an exact id (any case)");
  assert.equal(enterChoice(two, -1, "b"), null, "a prefix: the user chooses");
  assert.equal(enterChoice([two[1]], -1, "b"), 0, "the only result");
  const coord = [coordinate, project].map(normaliseResult);
  assert.equal(enterChoice(coord, -1, "6212500 358000"), 0, "a coordinate");
  assert.equal(enterChoice([], -1, "x"), null);
});

test("flight range follows the radius within bounds", () => {
  assert.equal(flightRange(0), 120);
  assert.equal(flightRange(undefined), 120);
  assert.equal(flightRange(-5), 120);
  assert.equal(flightRange(100), 300);
  assert.equal(flightRange(1e9), 20000);
  assert.ok(flightRange(12) >= 3 * 12, "a building fits the view");
});

test("the search URL comes from the config's api, with the usual default", async () => {
  const { parseConfig } = await import("../../viewer/js/config.js");
  assert.equal(parseConfig({ api: { search: "/twin/api/search" } }).searchUrl, "/twin/api/search");
  assert.equal(parseConfig({}).searchUrl, "/api/search");
  assert.equal(parseConfig({ api: { search: 3 } }).searchUrl, "/api/search");
});
