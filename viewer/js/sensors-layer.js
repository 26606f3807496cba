// Sensor markers on the map (one per thing: a shape in its state's colour and a value
// label) and the colouring of buildings linked to a sensor. Uses the CesiumJS global.
import { markerSvg, stateColor } from "./sensors-style.js";

const Cesium = () => globalThis.Cesium;
const SIZE = 24;
const dataUrl = (svg) => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
const hasHeight = (p) => p.length > 2 && Number.isFinite(p[2]);

/**
 * @param {object} viewer the Cesium Viewer
 * @param {{tilesetOf: (layer: string) => object|undefined,
 *          paintFeature?: (feature: object, color: object) => void}} options the loaded
 *   tileset of a layer; how to give a feature its linked colour (main.js: through the
 *   picking highlight, so a highlighted building keeps its highlight and gets the colour
 *   back when it is let go)
 */
export function createSensorLayer(
  viewer,
  {
    tilesetOf,
    paintFeature = (feature, color) => {
      feature.color = color;
    },
  },
) {
  const C = Cesium();
  const scene = viewer.scene;
  const source = new C.CustomDataSource("sensors");
  viewer.dataSources.add(source);
  const entityOf = new Map(); // thing key -> Entity
  const keyOf = new Map(); // Entity -> thing key
  const images = new Map();
  let selected = null;
  // Linked buildings: layer -> Map(object id -> CSS colour).
  let linked = new Map();
  const onEllipsoid = viewer.terrainProvider instanceof C.EllipsoidTerrainProvider;

  // Render on demand: new label glyphs and marker images reach the GPU asynchronously,
  // frames after the change; keep asking for a frame every 100 ms for a second after the
  // last change (a handful of frames, then the scene is idle again).
  let settleUntil = 0;
  let settleTimer = 0;
  const settle = () => {
    settleUntil = performance.now() + 1000;
    scene.requestRender();
    if (settleTimer) return;
    const tick = () => {
      if (viewer.isDestroyed() || performance.now() > settleUntil) {
        settleTimer = 0;
        return;
      }
      scene.requestRender();
      settleTimer = setTimeout(tick, 100);
    };
    settleTimer = setTimeout(tick, 100);
  };

  const image = (state, isSelected) => {
    const key = `${state}|${isSelected}`;
    if (!images.has(key)) images.set(key, dataUrl(markerSvg(state, { selected: isSelected })));
    return images.get(key);
  };

  function paint(entity) {
    entity.billboard.image = image(entity.twinState, keyOf.get(entity) === selected);
  }

  // Linked buildings are coloured feature by feature, as their tiles load (a tileset
  // style would take over every feature's colour, and the picking highlight with it).
  // An attribute style (styling.js) repaints every feature of a tile when it is set or
  // removed, and when a tile comes into view after that: the tile's lastStyleTime changes,
  // which `tileVisible` shows; glTF content applies the style later in that frame, so the
  // linked colours go back on once the frame is drawn.
  const watched = new Map(); // layer -> {tileset, tiles: Map(loaded tile -> its lastStyleTime)}
  const restyled = new Map(); // layer -> Set of tiles the style just repainted
  let removePostRender = null;

  function* featuresOf(content) {
    if (!content) return;
    for (const inner of content.innerContents ?? []) yield* featuresOf(inner);
    const n = content.featuresLength ?? 0;
    for (let i = 0; i < n; i++) yield content.getFeature(i);
  }

  function idOf(feature) {
    try {
      const id = feature.getProperty("id");
      return id === undefined || id === null ? null : String(id);
    } catch {
      return null;
    }
  }

  /** Give a content's linked features their state colour. */
  function paintContent(layer, content) {
    const now = linked.get(layer);
    if (!now?.size) return;
    for (const feature of featuresOf(content)) {
      const css = now.get(idOf(feature));
      if (css) paintFeature(feature, C.Color.fromCssColorString(css));
    }
  }

  function repaintRestyled() {
    removePostRender?.();
    removePostRender = null;
    for (const [layer, tiles] of restyled) {
      for (const tile of tiles) {
        if (tile.content && !tile.content.isDestroyed?.()) paintContent(layer, tile.content);
      }
    }
    restyled.clear();
    scene.requestRender();
  }

  function watch(layer) {
    const tileset = tilesetOf(layer);
    if (!tileset || tileset.isDestroyed?.()) return null;
    let w = watched.get(layer);
    if (w?.tileset === tileset) return w;
    w = { tileset, tiles: new Map() };
    watched.set(layer, w);
    const add = (tile) => {
      if (!tile.contentReady || !tile.content) return;
      w.tiles.set(tile, tile.lastStyleTime);
      paintContent(layer, tile.content);
    };
    tileset.tileLoad.addEventListener(add);
    tileset.tileUnload.addEventListener((tile) => w.tiles.delete(tile));
    tileset.tileVisible.addEventListener((tile) => {
      if (!linked.get(layer)?.size || tile.lastStyleTime === w.tiles.get(tile)) return;
      w.tiles.set(tile, tile.lastStyleTime);
      if (!restyled.has(layer)) restyled.set(layer, new Set());
      restyled.get(layer).add(tile);
      removePostRender ??= scene.postRender.addEventListener(repaintRestyled);
    });
    // Tiles loaded before we started watching.
    const stack = tileset.root ? [tileset.root] : [];
    while (stack.length) {
      const tile = stack.pop();
      if (tile.contentReady && tile.content) w.tiles.set(tile, tile.lastStyleTime);
      stack.push(...(tile.children ?? []));
    }
    return w;
  }

  function applyBuildings(before) {
    for (const layer of new Set([...before.keys(), ...linked.keys()])) {
      const w = watch(layer);
      if (!w) continue;
      const now = linked.get(layer);
      const dropped = [...(before.get(layer)?.keys() ?? [])].some((id) => !now?.has(id));
      // A building no longer linked gets its own colour back, which is what the tileset's
      // style (or no style: white) gives it: restyle the tileset, and the linked colours
      // go back on after the frame that applies it (tileVisible above).
      if (dropped) w.tileset.makeStyleDirty();
      for (const tile of w.tiles.keys()) {
        if (tile.content && !tile.content.isDestroyed?.()) paintContent(layer, tile.content);
      }
    }
    scene.requestRender();
  }

  /** The linked colour of a feature (a Cesium.Color), or undefined. */
  function linkedColor(feature) {
    for (const [layer, w] of watched) {
      if (w.tileset !== feature?.tileset) continue;
      const css = linked.get(layer)?.get(idOf(feature));
      return css ? C.Color.fromCssColorString(css) : undefined;
    }
    return undefined;
  }

  return {
    /**
     * Show exactly these things, each {key, name, position: [lon, lat, h?]}; things
     * without a position get no marker.
     */
    setThings(things) {
      source.entities.suspendEvents();
      source.entities.removeAll();
      entityOf.clear();
      keyOf.clear();
      for (const thing of things) {
        if (!thing.position) continue;
        const [lon, lat, h] = thing.position;
        const withHeight = hasHeight(thing.position);
        const entity = source.entities.add({
          name: thing.name,
          position: C.Cartesian3.fromDegrees(lon, lat, withHeight ? h : 0),
          billboard: {
            image: image("none", false),
            width: SIZE,
            height: SIZE,
            heightReference:
              withHeight || onEllipsoid
                ? C.HeightReference.NONE
                : C.HeightReference.CLAMP_TO_GROUND,
            disableDepthTestDistance: Number.POSITIVE_INFINITY,
          },
          label: {
            text: "",
            font: "600 13px system-ui, sans-serif",
            fillColor: C.Color.WHITE,
            showBackground: true,
            backgroundColor: new C.Color(0.1, 0.12, 0.14, 0.78),
            backgroundPadding: new C.Cartesian2(5, 3),
            verticalOrigin: C.VerticalOrigin.TOP,
            pixelOffset: new C.Cartesian2(0, SIZE / 2 + 3),
            heightReference:
              withHeight || onEllipsoid
                ? C.HeightReference.NONE
                : C.HeightReference.CLAMP_TO_GROUND,
            disableDepthTestDistance: Number.POSITIVE_INFINITY,
          },
        });
        entity.twinState = "none";
        entity.twinColor = stateColor("none");
        entityOf.set(thing.key, entity);
        keyOf.set(entity, thing.key);
      }
      source.entities.resumeEvents();
      settle();
    },

    /** Show a thing's state and value text (no-op for things without a marker). */
    update(key, { state, label }) {
      const entity = entityOf.get(key);
      if (!entity) return;
      if (entity.twinState !== state) {
        entity.twinState = state;
        entity.twinColor = stateColor(state);
        paint(entity);
      }
      if (entity.label.text?.getValue?.() !== label) entity.label.text = label;
      settle();
    },

    /** Ring the selected thing's marker (null: none). */
    select(key) {
      const previous = selected;
      selected = key;
      for (const k of [previous, key]) {
        const e = entityOf.get(k);
        if (e) paint(e);
      }
      settle();
    },

    /** Colour linked buildings: [{layer, objectId, state}], or none. */
    setBuildings(links) {
      const before = linked;
      linked = new Map();
      for (const { layer, objectId, state } of links) {
        if (!layer || objectId === null) continue;
        if (!linked.has(layer)) linked.set(layer, new Map());
        linked.get(layer).set(objectId, stateColor(state));
      }
      applyBuildings(before);
    },

    linkedColor,

    /** The colour a linked building should have, for tests: CSS colour or null. */
    buildingColor(layer, objectId) {
      return linked.get(layer)?.get(String(objectId)) ?? null;
    },

    /** The thing key of a scene.pick result on a marker, else null. */
    interpret(picked) {
      const id = picked?.id;
      return id && keyOf.has(id) ? keyOf.get(id) : null;
    },

    /** {state, color, label} of a thing's marker, or null. */
    marker(key) {
      const e = entityOf.get(key);
      if (!e) return null;
      return { state: e.twinState, color: e.twinColor, label: e.label.text?.getValue?.() ?? "" };
    },

    /** A marker's world position (for screen positions and flights). */
    position(key) {
      return entityOf.get(key)?.position.getValue(viewer.clock.currentTime) ?? null;
    },

    flyTo(key) {
      const e = entityOf.get(key);
      if (!e) return Promise.resolve();
      return viewer.flyTo(e, {
        duration: 1.2,
        offset: new C.HeadingPitchRange(0, C.Math.toRadians(-40), 400),
      });
    },
  };
}
