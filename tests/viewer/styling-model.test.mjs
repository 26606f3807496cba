// styling-model.js, with the styles it builds evaluated by CesiumJS's own Cesium3DTileStyle
// (the engine's source from node_modules: the same parser the browser runs).
import assert from "node:assert/strict";
import { test } from "node:test";

import Cesium3DTileStyle from "../../node_modules/@cesium/engine/Source/Scene/Cesium3DTileStyle.js";
import {
  BOOLEAN_COLORS,
  NO_VALUE_COLOR,
  OKABE_ITO,
  OTHER_COLOR,
  VIRIDIS,
  buildStyle,
  defaultChoice,
  encodeStyleParam,
  fitChoice,
  legendRows,
  parseStyleParam,
  propertyRef,
  rampColors,
  rowOfValue,
  stringLiteral,
  stylableProperties,
  viridis,
  withoutStats,
} from "../../viewer/js/styling-model.js";
import { decodeState, encodeState, emptyState, changeKind } from "../../viewer/js/url-state.js";

const HEIGHT = {
  id: "measuredHeight",
  name: "measuredHeight",
  type: "FLOAT64",
  stats: {
    count: 160,
    missing: 410,
    min: 0.75,
    max: 8.57,
    quantiles: [0.75, 2.76, 2.95, 3.164, 3.842, 8.57],
    classes: {
      quantile: { breaks: [0.75, 2.76, 2.95, 3.164, 3.842, 8.57], counts: [28, 33, 35, 32, 32] },
      equal: { breaks: [0.75, 2.314, 3.878, 5.442, 7.006, 8.57], counts: [8, 123, 17, 8, 4] },
    },
  },
};
const NASTY = [`it's`, `say "hi"`, `both ' and "`, `back\\slash\\`, `\\'`, `@#%`, "${id}", "a}b{c", "", "plain"];
const KIND = {
  id: "kind",
  name: "kind of thing",
  type: "STRING",
  stats: {
    count: 64,
    missing: 6,
    distinct: 11,
    values: [...NASTY, "x"].map((value, i) => ({ value, count: 11 - i })),
  },
};
const FLAG = { id: "flag", name: "flag", type: "BOOLEAN", stats: { count: 5, missing: 0, true: 3, false: 2 } };

const props = stylableProperties([
  HEIGHT,
  KIND,
  FLAG,
  { id: "id", name: "id", type: "STRING", stats: { count: 5, missing: 0, distinct: 5 } },
  { id: "old", name: "old", type: "FLOAT64" },
  { id: "bad-id", name: "bad", type: "BOOLEAN" },
]);
const byId = (id) => props.find((p) => p.id === id);

/** A feature as Cesium's expressions read it. */
const feature = (values) => ({
  getPropertyInherited: (id) => values[id],
  getProperty: (id) => values[id],
});

function evaluate(style, values) {
  const s = new Cesium3DTileStyle(style);
  const f = feature(values);
  return {
    color: s.color.evaluateColor(f).toCssHexString().toUpperCase(),
    show: s.show ? s.show.evaluate(f) : true,
  };
}

test("what can be styled: numbers with stats, categorical text, booleans", () => {
  assert.deepEqual(
    props.map((p) => [p.id, p.kind]),
    [
      ["measuredHeight", "number"],
      ["kind", "category"],
      ["flag", "boolean"],
    ],
  );
  // Without statistics only booleans: the viewer says how many attributes wait for them.
  assert.deepEqual(stylableProperties([{ ...HEIGHT, stats: null }, { ...FLAG, stats: null }]).map((p) => p.id), ["flag"]);
  assert.equal(withoutStats([{ ...HEIGHT, stats: null }, { ...KIND, stats: null }, FLAG, { id: "id", type: "STRING" }]), 2);
});

test("viridis ramp: its anchors, in order, interpolated between", () => {
  assert.deepEqual(rampColors(5), VIRIDIS);
  assert.equal(viridis(0), "#440154");
  assert.equal(viridis(1), "#fde725");
  assert.equal(viridis(0.125), "#402a70"); // half way between #440154 and #3b528b
  assert.equal(rampColors(1).length, 1);
  assert.deepEqual(rampColors(3), ["#440154", "#21918c", "#fde725"]);
});

test("quantile classes: legend rows from the stats, style colours by the same breaks", () => {
  const p = byId("measuredHeight");
  const choice = defaultChoice("demo", p);
  const rows = legendRows(p, choice);
  assert.deepEqual(
    rows.map((r) => [r.kind, r.lo, r.hi, r.count, r.color]),
    [
      ["class", 0.75, 2.76, 28, VIRIDIS[0]],
      ["class", 2.76, 2.95, 33, VIRIDIS[1]],
      ["class", 2.95, 3.164, 35, VIRIDIS[2]],
      ["class", 3.164, 3.842, 32, VIRIDIS[3]],
      ["class", 3.842, 8.57, 32, VIRIDIS[4]],
      ["none", undefined, undefined, 410, NO_VALUE_COLOR],
    ],
  );
  const style = buildStyle(p, choice);
  assert.equal(style.show, undefined, "nothing filtered: no show expression");
  for (const [value, want] of [
    [0.75, VIRIDIS[0]],
    [2.7599, VIRIDIS[0]],
    [2.76, VIRIDIS[1]],
    [3.0, VIRIDIS[2]],
    [3.842, VIRIDIS[4]],
    [8.57, VIRIDIS[4]],
    [100, VIRIDIS[4]],
    [undefined, NO_VALUE_COLOR],
  ]) {
    assert.equal(evaluate(style, { measuredHeight: value }).color, want.toUpperCase(), `value ${value}`);
    assert.equal(rowOfValue(p, choice, value).color, want, `legend row of ${value}`);
  }
  // Equal intervals: the other breaks and counts.
  const equal = { ...choice, mode: "equal" };
  assert.deepEqual(legendRows(p, equal).map((r) => r.count), [8, 123, 17, 8, 4, 410]);
  assert.equal(evaluate(buildStyle(p, equal), { measuredHeight: 5 }).color, VIRIDIS[2].toUpperCase());
});

test("numeric filter: a range and objects without a value hidden through show", () => {
  const p = byId("measuredHeight");
  const choice = { ...defaultChoice("demo", p), min: 3, max: 4, hideNoValue: true };
  const style = buildStyle(p, choice);
  const shown = (v) => evaluate(style, { measuredHeight: v }).show;
  assert.equal(shown(2.99), false);
  assert.equal(shown(3), true);
  assert.equal(shown(4), true);
  assert.equal(shown(4.01), false);
  assert.equal(shown(undefined), false);
  assert.equal(evaluate(buildStyle(p, { ...choice, hideNoValue: false }), {}).show, true);
  // Legend rows say which classes the range still shows.
  assert.deepEqual(legendRows(p, choice).map((r) => r.shown), [false, false, true, true, true, false]);
  // Only a minimum: no upper bound.
  const min = buildStyle(p, { ...defaultChoice("demo", p), min: -0.5 });
  assert.equal(evaluate(min, { measuredHeight: 1e9 }).show, true);
  assert.equal(evaluate(min, { measuredHeight: -1 }).show, false);
});

test("categories: Okabe–Ito colours for the eight most frequent, other grey, no value", () => {
  const p = byId("kind");
  const choice = defaultChoice("demo", p);
  const rows = legendRows(p, choice);
  assert.deepEqual(rows.slice(0, 8).map((r) => [r.value, r.color, r.count]), NASTY.slice(0, 8).map((v, i) => [v, OKABE_ITO[i], 11 - i]));
  assert.deepEqual(rows.slice(8).map((r) => [r.kind, r.count, r.color]), [
    ["other", 64 - (11 + 10 + 9 + 8 + 7 + 6 + 5 + 4), OTHER_COLOR],
    ["none", 6, NO_VALUE_COLOR],
  ]);
  const style = buildStyle(p, choice);
  NASTY.slice(0, 8).forEach((value, i) => {
    assert.equal(evaluate(style, { kind: value }).color, OKABE_ITO[i].toUpperCase(), JSON.stringify(value));
  });
  assert.equal(evaluate(style, { kind: "plain" }).color, OTHER_COLOR.toUpperCase());
  assert.equal(evaluate(style, { kind: "never seen" }).color, OTHER_COLOR.toUpperCase());
  assert.equal(evaluate(style, {}).color, NO_VALUE_COLOR.toUpperCase());
  assert.equal(rowOfValue(p, choice, "x").kind, "other");
  assert.equal(rowOfValue(p, choice, `both ' and "`).color, OKABE_ITO[2]);
});

test("quotes, backslashes, ${ and @#% in values never break or leak out of an expression", () => {
  for (const value of [...NASTY, `'"'"`, "$", "${", "@", "@#", "@#%@#%", "\\\\", "'; true || '", "a\nb"]) {
    const expr = `${propertyRef("k")} === ${stringLiteral(value)}`;
    const style = new Cesium3DTileStyle({ show: expr });
    assert.equal(style.show.evaluate(feature({ k: value })), true, `equal to itself: ${JSON.stringify(value)}`);
    assert.equal(style.show.evaluate(feature({ k: `${value}x` })), false, JSON.stringify(value));
    assert.equal(style.show.evaluate(feature({ k: "" })), value === "", JSON.stringify(value));
  }
  assert.equal(stringLiteral("plain"), "'plain'");
  assert.equal(stringLiteral("it's"), `"it's"`);
  assert.throws(() => propertyRef("a'] || true || feature['b"), /not a property id/);
  assert.throws(() => propertyRef("min-height"), /not a property id/);
});

test("category filter: unticked values, other values and no value hidden", () => {
  const p = byId("kind");
  const choice = fitChoice({ layer: "demo", property: "kind", mode: "category", hidden: [`it's`, "not listed"], hideOther: true }, p);
  assert.deepEqual(choice.hidden, [`it's`], "values not in the legend are dropped");
  const style = buildStyle(p, choice);
  assert.equal(evaluate(style, { kind: `it's` }).show, false);
  assert.equal(evaluate(style, { kind: `say "hi"` }).show, true);
  assert.equal(evaluate(style, { kind: "plain" }).show, false, "other");
  assert.equal(evaluate(style, {}).show, true);
  assert.equal(evaluate(buildStyle(p, { ...choice, hideNoValue: true }), {}).show, false);
  assert.deepEqual(legendRows(p, choice).map((r) => r.shown), [false, true, true, true, true, true, true, true, false, true]);
});

test("booleans: two colours, counts, filter", () => {
  const p = byId("flag");
  const choice = { ...defaultChoice("demo", p), hidden: ["false"] };
  assert.deepEqual(legendRows(p, choice).map((r) => [r.value, r.count, r.color, r.shown]), [
    ["true", 3, BOOLEAN_COLORS.true, true],
    ["false", 2, BOOLEAN_COLORS.false, false],
  ]);
  const style = buildStyle(p, choice);
  assert.deepEqual(evaluate(style, { flag: true }), { color: BOOLEAN_COLORS.true.toUpperCase(), show: true });
  assert.deepEqual(evaluate(style, { flag: false }), { color: BOOLEAN_COLORS.false.toUpperCase(), show: false });
  // Without stats: still styled, counts unknown.
  const bare = stylableProperties([{ id: "flag", name: "flag", type: "BOOLEAN" }])[0];
  assert.deepEqual(legendRows(bare, defaultChoice("demo", bare)).map((r) => r.count), [null, null, null]);
});

test("URL parameter: round trip, clamping, malformed links", () => {
  const choice = {
    layer: "demo",
    property: "kind",
    mode: "category",
    min: null,
    max: null,
    hidden: [`it's`, "a:b,c", "${id}", "back\\slash\\", "ö"],
    hideOther: true,
    hideNoValue: true,
  };
  const text = encodeStyleParam(choice);
  assert.match(text, /^demo:kind:c:::no:/);
  assert.deepEqual(parseStyleParam(text), choice);
  const num = { ...defaultChoice("demo", byId("measuredHeight")), mode: "equal", min: -1.5, max: 7 };
  assert.equal(encodeStyleParam(num), "demo:measuredHeight:e:-1.5:7");
  assert.deepEqual(parseStyleParam("demo:measuredHeight:e:-1.5:7"), num);
  assert.equal(encodeStyleParam(defaultChoice("demo", byId("measuredHeight"))), "demo:measuredHeight:q");
  // min above max: swapped; numbers that are not numbers: dropped.
  assert.deepEqual([parseStyleParam("demo:h:q:9:2").min, parseStyleParam("demo:h:q:9:2").max], [2, 9]);
  assert.equal(parseStyleParam("demo:h:q:Infinity:1e999").min, null);
  assert.equal(parseStyleParam("demo:h:q:1e999").min, null);
  for (const bad of ["", "demo", "demo:h", "demo:h:z", "de mo:h:q", "demo:h-x:q", "demo:h:c::::%E0%A4%A"]) {
    assert.equal(parseStyleParam(bad), null, bad);
  }
});

test("the URL state carries styles, one per layer, and a style change is a history step", () => {
  const styles = [
    { ...defaultChoice("demo", byId("kind")), hidden: [`say "hi"`] },
    { ...defaultChoice("b", byId("measuredHeight")), min: 2 },
  ];
  const hash = encodeState({ ...emptyState(), styles });
  assert.match(hash, /^#style=b:measuredHeight:q:2&style=demo:kind:c:::/);
  const back = decodeState(hash);
  assert.deepEqual(back.styles.map((s) => s.layer), ["b", "demo"]);
  assert.deepEqual(back.styles[1].hidden, [`say "hi"`]);
  assert.equal(encodeState(back), hash);
  // A second style for the same layer is ignored; a broken one is left out.
  const twice = decodeState(`${hash}&style=demo:flag:b&style=x:y`);
  assert.deepEqual(twice.styles.map((s) => `${s.layer}:${s.property}`), ["b:measuredHeight", "demo:kind"]);
  assert.equal(changeKind(emptyState(), back), "push");
  assert.deepEqual(decodeState("#cam=1,2,300,0,-30").styles, []);
});
