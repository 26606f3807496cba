import assert from "node:assert/strict";
import { test } from "node:test";

import { ConfigError, parseConfig } from "../../viewer/js/config.js";

const layer = {
  name: "demo",
  title: "Delft",
  kind: "3dtiles",
  tileset_url: "/tiles/demo/tileset.json",
  extent: [4.35, 51.99, 4.37, 52.01],
  height_range: [-0.452, 16.846],
  feature_count: 570,
  properties: [
    { id: "id", name: "id", type: "STRING" },
    { id: "min_height_surface", name: "min-height-surface", type: "FLOAT64" },
  ],
};

test("the backend's config is normalised", () => {
  const config = parseConfig({
    title: "Delft twin",
    cesium_base_url: "/cesium/",
    base_map: { type: "tms", url: "/cesium/Assets/Textures/NaturalEarthII", credit: "NE" },
    layers: [layer],
    api: { layers: "/api/layers" },
  });
  assert.equal(config.title, "Delft twin");
  assert.equal(config.cesiumBaseUrl, "/cesium/");
  assert.deepEqual(config.baseMap, {
    name: "base-map",
    title: "base-map",
    type: "tms",
    url: "/cesium/Assets/Textures/NaturalEarthII",
    layer: null,
    style: "default",
    tileMatrixSet: null,
    format: "image/png",
    tileMatrixPrefix: "",
    maximumLevel: undefined,
    credit: "NE",
    offline: false,
  });
  assert.deepEqual(config.baseMaps, [config.baseMap]);
  assert.equal(config.terrain, null);
  const [l] = config.layers;
  assert.equal(l.tilesetUrl, "/tiles/demo/tileset.json");
  assert.equal(l.featureCount, 570);
  assert.deepEqual(l.heightRange, [-0.452, 16.846]);
  assert.equal(l.visible, true);
  assert.deepEqual(l.properties[1], {
    id: "min_height_surface",
    name: "min-height-surface",
    type: "FLOAT64",
  });
});

test("defaults for what may be missing", () => {
  const config = parseConfig({ layers: [{ name: "x", tileset_url: "/t.json", extent: "bad" }] });
  assert.equal(config.title, "twin");
  assert.equal(config.cesiumBaseUrl, "/cesium/");
  assert.equal(config.baseMap, null);
  const [l] = config.layers;
  assert.equal(l.title, "x");
  assert.equal(l.kind, "3dtiles");
  assert.equal(l.extent, null);
  assert.equal(l.heightRange, null);
  assert.equal(l.featureCount, null);
  assert.deepEqual(l.properties, []);
  assert.deepEqual(parseConfig({}).layers, []);
});

test("broken configs are refused with a reason", () => {
  assert.throws(() => parseConfig(null), ConfigError);
  assert.throws(() => parseConfig([]), ConfigError);
  assert.throws(() => parseConfig({ layers: {} }), /not a list/);
  assert.throws(() => parseConfig({ layers: [{ title: "no name" }] }), /no name/);
  assert.throws(() => parseConfig({ layers: [{ name: "a" }] }), /tileset_url/);
  assert.throws(() => parseConfig({ layers: [layer, layer] }), /used twice/);
});

test("property statistics pass through when the server has them", () => {
  const stats = { count: 3, missing: 1, min: 1, max: 2 };
  const config = parseConfig({
    layers: [{ ...layer, properties: [{ id: "h", name: "h", type: "FLOAT64", stats }, { id: "x", stats: [1] }] }],
  });
  assert.deepEqual(config.layers[0].properties[0].stats, stats);
  assert.equal("stats" in config.layers[0].properties[1], false);
});
