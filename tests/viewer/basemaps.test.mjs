import assert from "node:assert/strict";
import { test } from "node:test";

import { baseMapTitle, chooseBaseMap } from "../../viewer/js/basemaps.js";
import { parseConfig } from "../../viewer/js/config.js";
import { changeKind, decodeState, emptyState, encodeState } from "../../viewer/js/url-state.js";

const NE = {
  name: "natural-earth",
  title: "Natural Earth II",
  type: "tms",
  url: "/cesium/Assets/Textures/NaturalEarthII",
  maximum_level: 2,
  credit: "Natural Earth II",
  offline: true,
};
const TOPO = {
  name: "topo",
  title: "Topografisk",
  type: "wmts",
  url: "https://maps.example.se/wmts",
  layer: "topowebb",
  tile_matrix_set: "3857",
  format: "image/png",
  credit: "© Lantmäteriet",
};
const XYZ = { name: "ortho", title: "Ortofoto", type: "xyz", url: "/t/{z}/{x}/{y}.png", credit: "" };

const config = parseConfig({
  base_map: TOPO,
  base_maps: [NE, TOPO, XYZ, { name: "odd", title: "?", type: "wms", url: "/x" }, { ...XYZ }],
  terrain: { url: "https://terrain.example.se/dem" },
});

test("the config's base maps: known types only, each name once, WMTS fields camelCase", () => {
  assert.deepEqual(
    config.baseMaps.map((m) => m.name),
    ["natural-earth", "topo", "ortho"],
  );
  const topo = config.baseMaps[1];
  assert.equal(topo.tileMatrixSet, "3857");
  assert.equal(topo.layer, "topowebb");
  assert.equal(topo.style, "default");
  assert.equal(topo.tileMatrixPrefix, "");
  const gs = parseConfig({ base_maps: [{ ...TOPO, tile_matrix_prefix: "EPSG:900913:" }] });
  assert.equal(gs.baseMaps[0].tileMatrixPrefix, "EPSG:900913:");
  assert.equal(config.baseMaps[0].maximumLevel, 2);
  assert.equal(config.baseMaps[0].offline, true);
  assert.deepEqual(config.terrain, { url: "https://terrain.example.se/dem" });
  assert.equal(parseConfig({ terrain: { url: 3 } }).terrain, null);
  assert.deepEqual(parseConfig({}).baseMaps, []);
});

test("the URL's choice wins when it exists, else the config's default", () => {
  assert.equal(chooseBaseMap(config, "ortho").name, "ortho");
  assert.equal(chooseBaseMap(config, "natural-earth").name, "natural-earth");
  assert.equal(chooseBaseMap(config, "nope").name, "topo");
  assert.equal(chooseBaseMap(config).name, "topo");
  assert.equal(chooseBaseMap({ baseMap: null, baseMaps: [] }), null);
  const noDefault = { ...config, baseMap: null };
  assert.equal(chooseBaseMap(noDefault, null).name, "natural-earth");
});

test("the offline map's title is the viewer's, the others keep theirs", () => {
  assert.equal(baseMapTitle(config.baseMaps[0]), "Världskarta (Natural Earth, offline)");
  assert.equal(baseMapTitle(config.baseMaps[2]), "Ortofoto");
});

test("the base map in the URL: map=name, checked, a history step of its own", () => {
  const state = { ...emptyState(), baseMap: "topo" };
  assert.equal(encodeState(state), "#map=topo");
  assert.equal(decodeState("#map=topo").baseMap, "topo");
  assert.equal(decodeState("#map=Bad%20Name").baseMap, null);
  assert.equal(decodeState("#map=").baseMap, null);
  assert.equal(decodeState("#cam=1,2,3,4,5").baseMap, null);
  assert.equal(changeKind(emptyState(), state), "push");
  assert.equal(changeKind(state, decodeState(encodeState(state))), null);
});
