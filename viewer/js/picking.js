// Picking and highlighting 3D Tiles features. Uses the CesiumJS global.
import { buildRows, valuesByName } from "./rows.js";

const Cesium = () => globalThis.Cesium;

/** The Cesium3DTileFeature under a window position (CSS pixels on the canvas), if any. */
export function pickFeature(scene, x, y) {
  const position = new (Cesium().Cartesian2)(x, y);
  return featureUnder(scene, position, scene.pick(position));
}

/**
 * The feature at a position given what scene.pick found there: that, or when an overlay
 * (a catalogue area draped over the model) is on top, the first feature beneath it.
 */
export function featureUnder(scene, position, picked) {
  if (!picked) return undefined;
  const feature = featureOf(picked);
  if (feature) return feature;
  for (const below of scene.drillPick(position, 4)) {
    const f = featureOf(below);
    if (f) return f;
  }
  return undefined;
}

/** A scene.pick result when it is a Cesium3DTileFeature, else undefined. */
export function featureOf(picked) {
  return picked instanceof Cesium().Cesium3DTileFeature ? picked : undefined;
}

/** A feature's property, or undefined when it is absent or the tile has gone. */
export function readProperty(feature, id) {
  try {
    return feature.getProperty(id);
  } catch {
    return undefined;
  }
}

function alive(feature) {
  try {
    return !feature.content.isDestroyed();
  } catch {
    return false;
  }
}

/**
 * Colours the hovered and the selected feature and restores their own colour afterwards.
 * Features are compared by identity: CesiumJS keeps one object per feature per tile.
 * A tileset style (styling.js) recolours every feature of a tile when it is set and when a
 * tile comes into view. The tileset's `tileVisible` event notices it (the tile's
 * lastStyleTime changed); glTF content applies the style later in that frame, so once the
 * frame is drawn the highlight goes back on, with the style's colour as the one to restore.
 * Colours others give features on top of the style (buildings linked to a sensor) go
 * through `setBase`, and `baseColor` says what they are: a highlighted feature then keeps
 * its highlight and gets that colour back when it is let go, whatever the order of the
 * repaints after a restyle.
 */
export class Highlighter {
  constructor(scene, { hoverColor, selectColor, baseColor = () => undefined }) {
    this.scene = scene;
    this.baseColor = baseColor; // feature -> Cesium.Color others gave it, or undefined
    this.hoverColor = hoverColor;
    this.selectColor = selectColor;
    this.hovered = undefined;
    this.selected = undefined;
    this.original = new Map();
    this.styledAt = new Map(); // feature -> its tile's lastStyleTime when highlighted
    this.watched = new WeakSet();
    this.restyled = new Set(); // highlighted features whose tile the style just repainted
    this.removePostRender = null;
  }

  #watch(tileset) {
    if (!tileset || this.watched.has(tileset)) return;
    this.watched.add(tileset);
    tileset.tileVisible.addEventListener((tile) => this.#restyled(tile));
  }

  #restyled(tile) {
    for (const feature of [this.hovered, this.selected]) {
      if (!feature || !this.styledAt.has(feature) || !alive(feature)) continue;
      if (feature.content.tile !== tile) continue;
      if (tile.lastStyleTime === this.styledAt.get(feature)) continue;
      this.styledAt.set(feature, tile.lastStyleTime);
      this.restyled.add(feature);
    }
    if (this.restyled.size && !this.removePostRender) {
      this.removePostRender = this.scene.postRender.addEventListener(() => this.#repaint());
    }
  }

  #repaint() {
    this.removePostRender();
    this.removePostRender = null;
    for (const feature of this.restyled) {
      if (!alive(feature) || !this.original.has(feature)) continue;
      let color;
      if (feature === this.selected) color = this.selectColor;
      else if (feature === this.hovered) color = this.hoverColor;
      if (!color) continue;
      this.original.set(feature, this.#own(feature));
      feature.color = color;
    }
    this.restyled.clear();
    this.scene.requestRender();
  }

  /** The colour a feature has under the highlight: given by others, else its current one. */
  #own(feature) {
    return Cesium().Color.clone(this.baseColor(feature) ?? feature.color);
  }

  /**
   * Give a feature a colour of its own (over the tileset's style): shown at once, or kept
   * to restore when the feature is highlighted.
   */
  setBase(feature, color) {
    if (!alive(feature)) return;
    if (this.original.has(feature)) this.original.set(feature, Cesium().Color.clone(color));
    else feature.color = color;
    this.scene.requestRender();
  }

  hover(feature) {
    if (feature === this.hovered) return;
    const previous = this.hovered;
    this.hovered = feature;
    this.#paint(previous);
    this.#paint(feature);
  }

  select(feature) {
    if (feature === this.selected) return;
    const previous = this.selected;
    this.selected = feature;
    this.#paint(previous);
    this.#paint(feature);
  }

  /** Forget features of a tileset (hidden or removed). */
  dropTileset(tileset) {
    if (this.hovered?.tileset === tileset) this.hover(undefined);
    if (this.selected?.tileset === tileset) this.select(undefined);
  }

  #paint(feature) {
    if (!feature) return;
    if (!alive(feature)) {
      this.original.delete(feature);
      this.styledAt.delete(feature);
      return;
    }
    let color;
    if (feature === this.selected) color = this.selectColor;
    else if (feature === this.hovered) color = this.hoverColor;
    if (color) {
      if (!this.original.has(feature)) this.original.set(feature, this.#own(feature));
      this.styledAt.set(feature, feature.content?.tile?.lastStyleTime);
      this.#watch(feature.tileset);
      feature.color = color;
    } else if (this.original.has(feature)) {
      feature.color = this.original.get(feature);
      this.original.delete(feature);
      this.styledAt.delete(feature);
    }
    this.scene.requestRender();
  }
}

/**
 * What the panel and window.twin.selected need to know about a feature.
 * @param {object} feature a Cesium3DTileFeature
 * @param {{name: string, title: string, properties: Array}} layer from the parsed config
 */
export function describeFeature(feature, layer) {
  const get = (id) => readProperty(feature, id);
  let properties = layer.properties;
  if (!properties.length) {
    // A config without a property list: show what the tile has, under its ids.
    properties = (feature.getPropertyIds?.() || []).map((id) => ({ id, name: id }));
  }
  const rows = buildRows(get, properties);
  const text = (v) => (v === undefined || v === null ? null : String(v));
  return {
    rows,
    selected: {
      layer: layer.name,
      id: text(get("id")),
      type: text(get("type")),
      parent: text(get("parent")),
      lod: text(get("lod")),
      attributes: valuesByName(get, properties),
    },
  };
}

/**
 * Screen position (client CSS pixels) of a visible feature for which `accept(feature)` holds.
 * Scans the canvas coarse to fine (grids of `steps` pixels, each from the centre outwards),
 * so big objects are found after a few picks and small ones still are; points covered by
 * panels are skipped. For tests and "show me something" affordances; null when nothing is
 * found within `maxMillis`.
 */
export function findFeatureScreenPosition(
  scene,
  accept,
  { steps = [64, 32, 16], maxMillis = 20000 } = {},
) {
  const canvas = scene.canvas;
  const rect = canvas.getBoundingClientRect();
  const deadline = performance.now() + maxMillis;
  const seen = new Set();
  for (const step of steps) {
    const points = [];
    for (let y = step / 2; y < rect.height; y += step) {
      for (let x = step / 2; x < rect.width; x += step) {
        const key = `${x},${y}`;
        if (seen.has(key)) continue;
        seen.add(key);
        points.push([x, y, (x - rect.width / 2) ** 2 + (y - rect.height / 2) ** 2]);
      }
    }
    points.sort((a, b) => a[2] - b[2]);
    for (const [x, y] of points) {
      if (performance.now() > deadline) return null;
      const clientX = rect.left + x;
      const clientY = rect.top + y;
      if (canvas.ownerDocument.elementFromPoint(clientX, clientY) !== canvas) continue;
      const feature = pickFeature(scene, x, y);
      if (feature && accept(feature)) {
        return { x: Math.round(clientX), y: Math.round(clientY), feature };
      }
    }
  }
  return null;
}
