// Base maps: which one is shown (the URL's `map=`, else the config's default), the picker
// (a radio group in the layer panel when there is more than one) and the switch of the
// globe's imagery. The choice logic is pure; the picker and the switch need the DOM and
// CesiumJS (through map.js).
import { baseMapLayer } from "./map.js";
import { t } from "./strings.js";

/**
 * The base map to show: the one named `wanted` if the config has it, else the config's
 * default (`baseMap`), else the first; null when there is none.
 * @param {{baseMap: object|null, baseMaps: object[]}} config parsed (config.js)
 * @param {string|null} wanted a name, e.g. from the URL
 */
export function chooseBaseMap(config, wanted = null) {
  const maps = config.baseMaps || [];
  return (
    maps.find((m) => m.name === wanted) ||
    maps.find((m) => m.name === config.baseMap?.name) ||
    maps[0] ||
    config.baseMap ||
    null
  );
}

/** The picker's label for a base map: the offline map's in the viewer's language. */
export function baseMapTitle(baseMap) {
  return baseMap.offline ? t("basemaps.offline") : baseMap.title;
}

function picker(doc, maps, onChoose) {
  const fieldset = doc.createElement("fieldset");
  fieldset.id = "basemap-picker";
  fieldset.className = "basemaps";
  const legend = doc.createElement("legend");
  legend.textContent = t("basemaps.heading");
  fieldset.append(legend);
  const radios = new Map();
  for (const m of maps) {
    const label = doc.createElement("label");
    label.className = "basemap";
    const radio = doc.createElement("input");
    radio.type = "radio";
    radio.name = "basemap";
    radio.value = m.name;
    radio.addEventListener("change", () => radio.checked && onChoose(m.name));
    const text = doc.createElement("span");
    text.textContent = baseMapTitle(m);
    label.append(radio, text);
    fieldset.append(label);
    radios.set(m.name, radio);
  }
  const credit = doc.createElement("p");
  credit.className = "basemap-credit muted";
  credit.setAttribute("aria-live", "polite");
  fieldset.append(credit);
  return { fieldset, radios, credit };
}

/**
 * The viewer's base maps. `viewer` was created showing the base map named `current`
 * (chooseBaseMap): its imagery layer 0.
 * @param {{viewer, config, doc: Document, twin, notice, current: string|null}} options
 * @returns {{select(name: string): boolean, current: string|null, defaultName: string|null}}
 */
export function createBaseMaps({ viewer, config, doc, twin, notice, current }) {
  const maps = config.baseMaps || [];
  const defaultName = chooseBaseMap(config)?.name ?? null;
  // ready: the shown map's imagery provider is ready (its tiles can load)
  const status = { name: current ?? null, ready: false, error: null, names: maps.map((m) => m.name) };
  twin.baseMap = status;
  let layer = viewer.imageryLayers.length ? viewer.imageryLayers.get(0) : null;
  let ui = null;

  const onError = (name) => (err) => {
    if (status.name !== name) return;
    status.error = String(err?.message || err || "error");
    if (ui) ui.credit.textContent = t("basemaps.failed", { title: baseMapTitle(byName(name)) });
  };
  const byName = (name) => maps.find((m) => m.name === name);
  function watch(imagery, name) {
    if (!imagery) return;
    if (imagery.ready) status.ready = true;
    else imagery.readyEvent.addEventListener(() => status.name === name && (status.ready = true));
  }
  if (layer && status.name) {
    layer.errorEvent.addEventListener(onError(status.name));
    watch(layer, status.name);
  }

  if (maps.length > 1) {
    ui = picker(doc, maps, (name) => select(name, { announce: true }));
    // Right below the layer list.
    const list = doc.getElementById("layer-empty") || doc.getElementById("layer-list");
    if (list) list.after(ui.fieldset);
    else doc.getElementById("layer-panel-body")?.append(ui.fieldset);
  }

  function show() {
    const m = byName(status.name);
    if (!ui) return;
    for (const [name, radio] of ui.radios) radio.checked = name === status.name;
    ui.credit.textContent = m?.credit ? t("basemaps.credit", { credit: m.credit }) : "";
  }
  show();

  /** Show the base map `name`; false when there is no such map. */
  function select(name, { announce = false } = {}) {
    const m = byName(name);
    if (!m) return false;
    if (name === status.name) return true;
    const next = baseMapLayer(m, onError(name));
    if (layer) viewer.imageryLayers.remove(layer, true);
    layer = next || null;
    if (layer) viewer.imageryLayers.add(layer, 0);
    status.name = name;
    status.error = null;
    status.ready = false;
    watch(layer, name);
    show();
    viewer.scene.requestRender();
    if (announce) notice?.announce(t("basemaps.shown", { title: baseMapTitle(m) }));
    return true;
  }

  return {
    select,
    defaultName,
    get current() {
      return status.name;
    },
  };
}
