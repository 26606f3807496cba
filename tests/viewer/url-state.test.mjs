import assert from "node:assert/strict";
import { test } from "node:test";

import {
  changeKind,
  decodeState,
  emptyState,
  encodeState,
  fullViewerUrl,
  hasCamera,
  isEmbed,
  normaliseCamera,
} from "../../viewer/js/url-state.js";

const full = {
  camera: { lon: 4.3571234567, lat: 52.0123456789, height: 412.3456, heading: 12.345, pitch: -35.04 },
  layers: ["demo", "buildings"],
  selected: { layer: "demo", id: "b3d:NL.IMBAG.Pand.0503100000018960-0" },
  project: null,
  filter: { q: "  skola å  ", municipality: "DEMO", category: "energy", status: "ongoing" },
  time: "2026-11-27T10:15:00.000Z",
};

test("round trip keeps every part, rounded", () => {
  const hash = encodeState(full);
  assert.match(hash, /^#cam=4\.357123,52\.012346,412\.3,12\.3,-35(&|$)/);
  const back = decodeState(hash);
  assert.deepEqual(back.camera, { lon: 4.357123, lat: 52.012346, height: 412.3, heading: 12.3, pitch: -35 });
  assert.deepEqual(back.layers, ["buildings", "demo"]);
  assert.deepEqual(back.selected, full.selected);
  assert.deepEqual(back.filter, { q: "skola å", municipality: "DEMO", category: "energy", status: "ongoing" });
  assert.equal(back.time, "2026-11-27T10:15:00Z");
  assert.equal(encodeState(back), hash, "encoding is stable");
});

test("project and no layers", () => {
  const hash = encodeState({ ...emptyState(), project: 12, layers: [] });
  assert.equal(hash, "#layers=&project=12");
  const back = decodeState(hash);
  assert.deepEqual(back.layers, []);
  assert.equal(back.project, 12);
  assert.equal(back.selected, null);
  // The old deep link still works.
  assert.equal(decodeState("#project=7").project, 7);
  assert.equal(decodeState("#project=7").layers, null, "absent layers: the defaults");
});

test("the empty state is the empty hash", () => {
  assert.equal(encodeState(emptyState()), "");
  assert.deepEqual(decodeState(""), emptyState());
  assert.deepEqual(decodeState("#"), emptyState());
});

test("bad values are ignored, the rest kept", () => {
  const s = decodeState(
    "#cam=4.3,52,abc,0,0&layers=demo,../x,<b>&sel=nolayer&project=-3&m=a;b&cat=&status=x%20y&t=yesterday&q=ok",
  );
  assert.equal(s.camera, null);
  assert.deepEqual(s.layers, ["demo"]);
  assert.equal(s.selected, null);
  assert.equal(s.project, null);
  assert.deepEqual(s.filter, { q: "ok", municipality: "", category: "", status: "" });
  assert.equal(s.time, null);
  assert.equal(decodeState("#cam=1,2,3,4").camera, null, "too few numbers");
  assert.equal(decodeState("#cam=1,2,3,4,5,6").camera, null, "too many");
  assert.equal(decodeState("#cam=Infinity,2,3,4,5").camera, null);
  assert.equal(decodeState("#cam=1e3,2,3,4,5").camera, null, "no exponents");
  assert.equal(decodeState("#sel=demo:").selected, null);
  assert.equal(decodeState(`#sel=demo:${"x".repeat(201)}`).selected, null);
  assert.equal(decodeState("#project=1234567890123").project, null);
  assert.equal(decodeState("#t=2026-13-45T99:00:00Z").time, null);
  assert.equal(decodeState("#%E0%A4%A").camera, null, "broken escapes do not throw");
});

test("numbers are clamped and angles wrapped", () => {
  const c = decodeState("#cam=190,95,0,-30,-120").camera;
  assert.deepEqual(c, { lon: -170, lat: 90, height: 1, heading: 330, pitch: -90 });
  const far = decodeState("#cam=0,-100,999999999999,720.04,45").camera;
  assert.deepEqual(far, { lon: 0, lat: -90, height: 50_000_000, heading: 0, pitch: 45 });
  assert.equal(normaliseCamera({ lon: 1, lat: 2, height: 3, heading: 359.97, pitch: 0 }).heading, 0);
  assert.equal(normaliseCamera({ lon: 1, lat: 2, height: Number.NaN, heading: 0, pitch: 0 }), null);
  assert.equal(normaliseCamera(null), null);
});

test("the selected object wins over a project; ids may hold colons", () => {
  const hash = encodeState({ ...emptyState(), selected: { layer: "demo", id: "a:b:c" }, project: 5 });
  assert.equal(decodeState(hash).project, null);
  assert.deepEqual(decodeState(hash).selected, { layer: "demo", id: "a:b:c" });
});

test("what a change does to the history", () => {
  const a = decodeState(encodeState(full));
  assert.equal(changeKind(a, decodeState(encodeState(full))), null);
  assert.equal(changeKind(a, { ...a, camera: { ...a.camera, height: 900 } }), "replace");
  assert.equal(changeKind(a, { ...a, filter: { ...a.filter, q: "skolor" } }), "replace");
  assert.equal(changeKind(a, { ...a, selected: null }), "push");
  assert.equal(changeKind(a, { ...a, layers: ["demo"] }), "push");
  assert.equal(changeKind(a, { ...a, filter: { ...a.filter, status: "idea" } }), "push");
  assert.equal(changeKind(a, { ...a, time: null }), "push");
  assert.equal(changeKind({ ...a, time: null }, a), "push", "a replay starts");
  assert.equal(changeKind(a, { ...a, time: "2026-11-27T11:00:00Z" }), "replace", "the slider moves");
});

test("embed mode and the full viewer's URL", () => {
  assert.equal(isEmbed("?embed=1"), true);
  assert.equal(isEmbed("?x=2&embed=true"), true);
  assert.equal(isEmbed("?embed=0"), false);
  assert.equal(isEmbed(""), false);
  assert.equal(
    fullViewerUrl("https://twin.example/?embed=1#cam=1,2,3,4,5&sel=demo:x"),
    "https://twin.example/#cam=1,2,3,4,5&sel=demo:x",
  );
  assert.equal(hasCamera("#cam=1,2,3,4,5"), true);
  assert.equal(hasCamera("#project=2"), false);
});
