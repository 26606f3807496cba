// Checks and normalises the document from /api/config. Pure: no DOM, no Cesium.
import { isValidExtent } from "./extent.js";

export class ConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = "ConfigError";
  }
}

function isValidRange(r) {
  return Array.isArray(r) && r.length === 2 && r.every(Number.isFinite) && r[0] <= r[1];
}

function normaliseProperty(p) {
  if (!p || typeof p.id !== "string" || p.id === "") return null;
  return {
    id: p.id,
    name: typeof p.name === "string" && p.name !== "" ? p.name : p.id,
    type: typeof p.type === "string" ? p.type : "STRING",
    // Statistics for styling (styling-model.js); absent for layers converted before them.
    ...(p.stats && typeof p.stats === "object" && !Array.isArray(p.stats) ? { stats: p.stats } : {}),
  };
}

function normaliseLayer(layer, index) {
  if (!layer || typeof layer !== "object") {
    throw new ConfigError(`layer ${index} is not an object`);
  }
  if (typeof layer.name !== "string" || layer.name === "") {
    throw new ConfigError(`layer ${index} has no name`);
  }
  const kind = layer.kind || "3dtiles";
  if (kind === "3dtiles" && typeof layer.tileset_url !== "string") {
    throw new ConfigError(`layer "${layer.name}" has no tileset_url`);
  }
  return {
    name: layer.name,
    title: typeof layer.title === "string" && layer.title !== "" ? layer.title : layer.name,
    kind,
    tilesetUrl: layer.tileset_url,
    extent: isValidExtent(layer.extent) ? layer.extent : null,
    heightRange: isValidRange(layer.height_range) ? layer.height_range : null,
    featureCount: Number.isFinite(layer.feature_count) ? layer.feature_count : null,
    properties: (Array.isArray(layer.properties) ? layer.properties : [])
      .map(normaliseProperty)
      .filter(Boolean),
    visible: layer.visible !== false,
  };
}

const BASE_MAP_TYPES = new Set(["tms", "xyz", "wmts"]);
const BASE_MAP_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const str = (v, fallback = "") => (typeof v === "string" ? v : fallback);

/** One base map of the config, or null when it cannot be shown (unknown type, no url). */
export function normaliseBaseMap(baseMap) {
  if (!baseMap || typeof baseMap !== "object" || typeof baseMap.url !== "string") return null;
  const type = baseMap.type || "tms";
  if (!BASE_MAP_TYPES.has(type)) return null;
  const name =
    typeof baseMap.name === "string" && BASE_MAP_NAME.test(baseMap.name) ? baseMap.name : "base-map";
  const level = baseMap.maximum_level;
  return {
    name,
    title: str(baseMap.title) || name,
    type,
    url: baseMap.url,
    layer: str(baseMap.layer) || null,
    style: str(baseMap.style, "default") || "default",
    tileMatrixSet: str(baseMap.tile_matrix_set) || null,
    format: str(baseMap.format, "image/png") || "image/png",
    tileMatrixPrefix: str(baseMap.tile_matrix_prefix),
    maximumLevel: Number.isInteger(level) && level >= 0 ? level : undefined,
    credit: str(baseMap.credit),
    offline: baseMap.offline === true,
  };
}

/** The base maps to offer: the list, else the single base_map; names made unique. */
function normaliseBaseMaps(json) {
  const list = Array.isArray(json.base_maps) ? json.base_maps : [json.base_map];
  const seen = new Set();
  return list.map(normaliseBaseMap).filter((m) => {
    if (!m || seen.has(m.name)) return false;
    seen.add(m.name);
    return true;
  });
}

function normaliseTerrain(terrain) {
  if (!terrain || typeof terrain !== "object" || typeof terrain.url !== "string") return null;
  return terrain.url ? { url: terrain.url } : null;
}

/**
 * The viewer's view of /api/config: camelCase, defaults filled in, unknown layer kinds kept
 * (the viewer lists them but cannot draw them).
 */
export function parseConfig(json) {
  if (!json || typeof json !== "object" || Array.isArray(json)) {
    throw new ConfigError("the configuration is not a JSON object");
  }
  const layers = json.layers === undefined ? [] : json.layers;
  if (!Array.isArray(layers)) throw new ConfigError("`layers` is not a list");
  const parsed = layers.map(normaliseLayer);
  const names = new Set();
  for (const l of parsed) {
    if (names.has(l.name)) throw new ConfigError(`layer name "${l.name}" is used twice`);
    names.add(l.name);
  }
  const baseMaps = normaliseBaseMaps(json);
  return {
    title: typeof json.title === "string" && json.title !== "" ? json.title : "twin",
    cesiumBaseUrl:
      typeof json.cesium_base_url === "string" && json.cesium_base_url !== ""
        ? json.cesium_base_url
        : "/cesium/",
    baseMap: normaliseBaseMap(json.base_map),
    baseMaps,
    terrain: normaliseTerrain(json.terrain),
    layers: parsed,
    // The map search (`api.search`); the server's usual URL when an older one names none.
    searchUrl:
      typeof json.api?.search === "string" && json.api.search !== "" ? json.api.search : "/api/search",
  };
}
