// Entry point: reads /api/config, builds the viewer and wires the panels to the scene.
// The readiness signal for tests and embedding pages is window.twin (see viewer/README.md).
import { chooseBaseMap, createBaseMaps } from "./basemaps.js";
import { createCatalogue } from "./catalogue.js";
import { loadCesium } from "./cesium-loader.js";
import { parseConfig } from "./config.js";
import { focusExtent, unionRanges } from "./extent.js";
import { fetchJson, withTimeout } from "./http.js";
import { lazyImports } from "./imports-lazy.js";
import { createInfoPanel } from "./info-panel.js";
import { createLayerPanel } from "./layer-panel.js";
import { afterFrames, createViewer, flyToData, loadTileset } from "./map.js";
import { createNotice } from "./notice.js";
import { createSearch } from "./search.js";
import { createOnMap } from "./onmap.js";
import { createSensors } from "./sensors-view.js";
import { createStyling } from "./styling.js";
import { initLanguage } from "./language.js";
import { t } from "./strings.js";
import { createTools } from "./tools.js";
import { decodeState } from "./url-state.js";
import { createUrlSync, setupEmbed } from "./url-sync.js";
import {
  describeFeature,
  featureUnder,
  findFeatureScreenPosition,
  Highlighter,
  pickFeature,
  readProperty,
} from "./picking.js";

const CONFIG_URL = "/api/config";
const CONFIG_TIMEOUT_MS = 15000;
const TILESET_TIMEOUT_MS = 30000;

const twin = {
  ready: false,
  error: null,
  layers: {},
  selected: null,
  hovered: null,
  pickAt,
  findFeatureScreenPosition: findFeature,
};
window.twin = twin;
twin.language = initLanguage(document);
// The catalogue sets twin.user on login and logout; the import panel follows it.
let imports = null;
let signedIn = null;
Object.defineProperty(twin, "user", {
  enumerable: true,
  get: () => signedIn,
  set(user) {
    signedIn = user;
    imports?.setUser(user);
    sensors?.setUser(user);
  },
});

const notice = createNotice(document);
const infoPanel = createInfoPanel(document, { onClose: clearSelection });
const layerPanel = createLayerPanel(document, { onToggle: setLayerVisible, onZoom: zoomToLayer });
setupEmbed(document, location);

let viewer = null;
let highlighter = null;
let catalogue = null;
let sensors = null;
let onMap = null;
let tools = null;
let styling = null;
let markReady;
const whenReady = new Promise((resolve) => {
  markReady = resolve;
});
let config = null;
let dataExtent = null;
let dataHeights = null;
const tilesets = new Map(); // layer name -> Cesium3DTileset
const layerOfTileset = new Map(); // Cesium3DTileset -> parsed layer

function fail(title, detail) {
  twin.error = detail ? `${title}: ${detail}` : title;
  console.error(`twin: ${twin.error}`);
  notice.error(title, detail);
}

function visibleTilesets() {
  return [...tilesets.values()].filter((t) => t.show);
}

// --- selection -------------------------------------------------------------------------

function selectFeature(feature) {
  const layer = layerOfTileset.get(feature.tileset);
  if (!layer) return;
  const { rows, selected } = describeFeature(feature, layer);
  if (catalogue?.cardOpen) catalogue.close();
  sensors?.close();
  highlighter.select(feature);
  infoPanel.show({
    title: selected.type || t("info.object"),
    layerTitle: t("info.layer", { title: layer.title }),
    core: rows.core,
    attributes: rows.attributes,
    empty: rows.empty,
  });
  twin.selected = selected;
  const what = [selected.type || t("info.object"), selected.id].filter((x) => x != null);
  notice.announce(t("info.selected", { what: what.join(" ") }));
}

function clearSelection() {
  highlighter?.select(undefined);
  const hadFocus = infoPanel.hide();
  if (hadFocus) document.getElementById("map").focus();
  if (twin.selected) notice.announce(t("info.cleared"));
  twin.selected = null;
}

// --- layers ----------------------------------------------------------------------------

function setLayerVisible(name, visible) {
  const tileset = tilesets.get(name);
  if (!tileset) return;
  tileset.show = visible;
  if (!visible) {
    if (twin.selected?.layer === name) clearSelection();
    if (twin.hovered?.layer === name) twin.hovered = null;
    highlighter.dropTileset(tileset);
  }
  viewer.scene.requestRender();
  onMap?.refresh();
  const title = layerOfTileset.get(tileset).title;
  notice.announce(t(visible ? "layers.shown" : "layers.hidden", { title }));
}

function zoomToLayer(name) {
  const tileset = tilesets.get(name);
  const layer = config.layers.find((l) => l.name === name);
  if (tileset && !tileset.show) {
    tileset.show = true;
    layerPanel.setChecked(name, true);
    onMap?.refresh();
  }
  flyToData(viewer, tileset ? [tileset] : [], layer?.extent, layer?.heightRange);
}

function watchTileset(layer, tileset, status) {
  tilesets.set(layer.name, tileset);
  layerOfTileset.set(tileset, layer);
  Object.defineProperty(status, "tilesLoaded", { get: () => tileset.tilesLoaded });
  Object.defineProperty(status, "shown", { get: () => tileset.show });
  status.loaded = true;
  status.error = null;
  styling?.attach(layer.name);
  tileset.tileFailed.addEventListener((event) => {
    status.failedTiles += 1;
    console.warn(`twin: a tile of ${layer.name} failed`, event.url, event.message);
    const failed = t("layers.tilesFailed", { count: status.failedTiles });
    layerPanel.setState(layer.name, "ready", failed);
  });
  layerPanel.setState(layer.name, "ready");
}

async function addLayer(layer) {
  const status = { loaded: false, tilesLoaded: false, shown: layer.visible, error: null };
  status.failedTiles = 0;
  twin.layers[layer.name] = status;
  if (layer.kind !== "3dtiles") {
    status.error = t("layers.unsupported", { kind: layer.kind });
    layerPanel.setState(layer.name, "error", status.error);
    return null;
  }
  layerPanel.setState(layer.name, "loading");
  const loading = loadTileset(viewer, layer);
  try {
    const tileset = await withTimeout(
      loading,
      TILESET_TIMEOUT_MS,
      t("layers.timeout", { seconds: TILESET_TIMEOUT_MS / 1000 }),
    );
    if (tileset) watchTileset(layer, tileset, status);
    return tileset;
  } catch (err) {
    status.error = t("layers.couldNotLoad", { message: err?.message || err });
    console.error(`twin: layer ${layer.name} ${status.error}`);
    layerPanel.setState(layer.name, "error", status.error);
    notice.announce(t("layers.failed", { title: layer.title, error: status.error }));
    // A slow server may still answer: show the layer when it does.
    loading.then((tileset) => tileset && watchTileset(layer, tileset, status)).catch(() => {});
    return null;
  }
}

/** Bring the scene in step with the published layers (after a publish or roll back). */
async function refreshLayers() {
  const fresh = parseConfig(await fetchJson(CONFIG_URL, { timeoutMs: CONFIG_TIMEOUT_MS })).layers;
  for (const [name, tileset] of tilesets) {
    const now = fresh.find((l) => l.name === name);
    if (now && now.tilesetUrl === layerOfTileset.get(tileset).tilesetUrl) {
      now.visible = tileset.show;
      continue;
    }
    if (twin.selected?.layer === name) clearSelection();
    if (!now) delete twin.layers[name];
    highlighter.dropTileset(tileset);
    tilesets.delete(name);
    layerOfTileset.delete(tileset);
    viewer.scene.primitives.remove(tileset);
  }
  config.layers = fresh;
  layerPanel.render(fresh);
  styling?.render(fresh);
  await Promise.all(
    fresh.map((l) => (tilesets.has(l.name) ? layerPanel.setState(l.name, "ready") : addLayer(l))),
  );
  viewer.scene.requestRender();
}

// --- input -----------------------------------------------------------------------------

function wireInput() {
  const C = globalThis.Cesium;
  const scene = viewer.scene;
  const handler = viewer.screenSpaceEventHandler;
  let hoverAt = null;
  let frame = 0;
  let dragging = false;

  const hoverNow = () => {
    frame = 0;
    if (!hoverAt || dragging || tools?.active) return;
    const picked = scene.pick(hoverAt);
    const onCatalogue = catalogue?.hover(picked);
    const onSensor = sensors?.hover(picked);
    const feature =
      onCatalogue === "pin" || onSensor ? undefined : featureUnder(scene, hoverAt, picked);
    highlighter.hover(feature);
    twin.hovered = feature ? summary(feature) : null;
    const cursor = feature || onCatalogue || onSensor ? "pointer" : "";
    scene.canvas.style.cursor = catalogue?.placing ? "crosshair" : cursor;
  };
  handler.setInputAction((m) => {
    hoverAt = C.Cartesian2.clone(m.endPosition);
    if (!frame) frame = requestAnimationFrame(hoverNow);
  }, C.ScreenSpaceEventType.MOUSE_MOVE);
  handler.setInputAction(() => {
    dragging = true;
  }, C.ScreenSpaceEventType.LEFT_DOWN);
  handler.setInputAction(() => {
    dragging = false;
  }, C.ScreenSpaceEventType.LEFT_UP);
  scene.canvas.addEventListener("pointerleave", () => {
    hoverAt = null;
    highlighter.hover(undefined);
    twin.hovered = null;
    scene.canvas.style.cursor = "";
  });
  handler.setInputAction((click) => {
    // An active tool (measuring, pedestrian view) takes the click first.
    if (tools?.click(click.position)) return;
    let picked = scene.pick(click.position);
    // The measurement's own lines and labels are never objects: what lies beneath is.
    if (tools?.owns(picked)) {
      picked = scene.drillPick(click.position, 4).find((p) => !tools.owns(p));
    }
    if (catalogue?.click(click.position, picked)) return;
    if (sensors?.click(picked)) return;
    const feature = featureUnder(scene, click.position, picked);
    if (feature) selectFeature(feature);
    else if (!catalogue?.clickArea(picked)) clearSelection();
  }, C.ScreenSpaceEventType.LEFT_CLICK);

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && infoPanel.open) {
      event.preventDefault();
      clearSelection();
    }
  });

  viewer.homeButton.viewModel.command.beforeExecute.addEventListener((event) => {
    event.cancel = true;
    // Home is the first view: the data's extent, or the loaded tilesets when none is known.
    flyToData(viewer, dataExtent ? [] : visibleTilesets(), dataExtent, dataHeights);
  });
}

// --- test and embedding helpers --------------------------------------------------------

function summary(feature) {
  const layer = layerOfTileset.get(feature.tileset);
  return {
    layer: layer?.name ?? null,
    id: readProperty(feature, "id") ?? null,
    type: readProperty(feature, "type") ?? null,
  };
}

/** What is under a point given in client (page) CSS pixels: {layer, id, type} or null. */
function pickAt(clientX, clientY) {
  if (!viewer) return null;
  const rect = viewer.canvas.getBoundingClientRect();
  const feature = pickFeature(viewer.scene, clientX - rect.left, clientY - rect.top);
  return feature ? summary(feature) : null;
}

/** Client position {x, y, layer, id, type} of a visible object of `type` (any when null). */
function findFeature(type = null) {
  if (!viewer) return null;
  const accept = (f) => type === null || readProperty(f, "type") === type;
  const hit = findFeatureScreenPosition(viewer.scene, accept);
  return hit ? { x: hit.x, y: hit.y, ...summary(hit.feature) } : null;
}

// --- start -----------------------------------------------------------------------------

async function start() {
  notice.loading(t("notice.config"));
  try {
    config = parseConfig(await fetchJson(CONFIG_URL, { timeoutMs: CONFIG_TIMEOUT_MS }));
  } catch (err) {
    fail(t("notice.configFailed"), err?.message || String(err));
    return;
  }
  document.title = config.title;
  document.getElementById("app-title").textContent = config.title;
  layerPanel.render(config.layers);

  notice.loading(t("notice.engine"));
  try {
    await loadCesium(config.cesiumBaseUrl);
  } catch (err) {
    fail(t("notice.engineFailed"), err?.message || String(err));
    return;
  }
  const startMap = chooseBaseMap(config, decodeState(location.hash).baseMap);
  twin.terrain = { url: null, ready: false, error: null };
  try {
    viewer = createViewer("cesium", { ...config, baseMap: startMap }, twin.terrain);
  } catch (err) {
    fail(t("notice.webglFailed"), t("notice.webglDetail", { message: err?.message || err }));
    return;
  }
  const C = globalThis.Cesium;
  highlighter = new Highlighter(viewer.scene, {
    hoverColor: C.Color.fromCssColorString("#ffd400"),
    selectColor: C.Color.fromCssColorString("#00a8ff"),
  });
  // For debugging from the console; not enumerable so JSON.stringify(twin) stays small.
  Object.defineProperty(twin, "viewer", { value: viewer, enumerable: false });
  wireInput();
  tools = createTools({
    viewer,
    doc: document,
    twin,
    notice,
    config,
    onActivate: () => {
      clearSelection();
      highlighter.hover(undefined);
      twin.hovered = null;
    },
  });
  const baseMaps = createBaseMaps({
    viewer,
    config,
    doc: document,
    twin,
    notice,
    current: startMap?.name,
  });
  imports = lazyImports({ viewer, config, notice, twin, refreshLayers });
  styling = createStyling({
    doc: document,
    viewer,
    twin,
    notice,
    tilesetOf: (n) => tilesets.get(n),
    selected: () => highlighter.selected,
    onSelectedHidden: clearSelection,
  });
  styling.render(config.layers);
  const onOpen = () => {
    clearSelection();
    sensors?.close();
  };
  catalogue = createCatalogue({ viewer, config, notice, twin, whenReady, onOpen });
  catalogue.start().catch((err) => console.error("twin: catalogue", err));
  sensors = createSensors({
    viewer,
    notice,
    twin,
    whenReady,
    tilesetOf: (name) => tilesets.get(name),
    onOpen: () => {
      clearSelection();
      if (catalogue?.cardOpen) catalogue.close();
    },
    // A linked building's state colour goes under the highlight, not over it.
    paintFeature: (feature, color) => highlighter.setBase(feature, color),
  });
  highlighter.baseColor = (feature) => sensors.linkedColor(feature);
  sensors.start().catch((err) => console.error("twin: sensors", err));
  createSearch({
    doc: document,
    viewer,
    twin,
    notice,
    url: config.searchUrl,
    tilesetOf: (name) => tilesets.get(name),
    showLayer: (name) => {
      layerPanel.setChecked(name, true);
      setLayerVisible(name, true);
    },
    selectFeature,
    openProject: (id, options) => catalogue.openProject(id, options),
  });
  twin.onMap = {};
  onMap = createOnMap(document, {
    layers: () =>
      config.layers.map((l) => ({ ...l, shown: Boolean(tilesets.get(l.name)?.show), error: twin.layers[l.name]?.error })),
    projects: () => catalogue.projects,
    things: () => sensors.summaries(),
    municipalityName: catalogue.municipalityName,
    open: { layer: zoomToLayer, project: (id) => catalogue.openProject(id, { fly: true }), sensor: sensors.openThing },
    status: twin.onMap,
  });
  const urlSync = createUrlSync({
    viewer,
    twin,
    doc: document,
    tilesetOf: (name) => tilesets.get(name),
    setLayerVisible: (name, visible) => {
      layerPanel.setChecked(name, visible);
      setLayerVisible(name, visible);
    },
    selectFeature,
    clearSelection,
    catalogue,
    sensors,
    shadows: tools.shadows,
    baseMaps,
    styling,
  });
  // A shared link's camera replaces the first flight.
  const linkedCamera = urlSync.startCamera();

  // Fly to where the config says the data is while the tilesets load; layers without an
  // extent are flown to once loaded, from their bounding spheres.
  dataExtent = focusExtent(config.layers.map((l) => l.extent));
  dataHeights = unionRanges(config.layers.map((l) => l.heightRange));
  const flight = linkedCamera
    ? Promise.resolve()
    : dataExtent
    ? flyToData(viewer, [], dataExtent, dataHeights, { duration: 2 })
    : null;
  if (config.layers.length) notice.loading(t("notice.layers"));
  const loaded = await Promise.all(config.layers.map(addLayer));
  await (flight || flyToData(viewer, loaded.filter((t) => t?.show), null));
  await afterFrames(viewer.scene, 2);
  notice.loading(null);
  twin.ready = true;
  markReady();
  urlSync.start().catch((err) => console.error("twin: url state", err));
  const failed = config.layers.filter((l) => twin.layers[l.name].error);
  notice.announce(
    failed.length
      ? t("notice.readyFailed", { count: failed.length })
      : t("notice.ready", { count: config.layers.length }),
  );
}

start().catch((err) => fail(t("notice.stopped"), err?.message || String(err)));
