// The measuring tools on the map: points from clicks (placement.js: the model's surface or
// the ground) and their lines, polygon and labels, drawn as entities of one data source.
// The numbers and texts come from measure-model.js. Uses the CesiumJS global.
import {
  describe,
  formatArea,
  formatHeight,
  formatLength,
  heightMeasure,
  polygonArea,
  polylineLengths,
} from "./measure-model.js";
import { positionAt } from "./placement.js";

const Cesium = () => globalThis.Cesium;

export const MODES = ["distance", "height", "area"];
/** A second click this close (CSS px) and soon after the last is the double click's. */
const SAME_CLICK_PX = 4;
const SAME_CLICK_MS = 700;

/**
 * @param {object} viewer
 * @param {{onChange: (state) => void}} options onChange after every point, finish, clear
 */
export function createMeasure(viewer, { onChange }) {
  const C = Cesium();
  const source = new C.CustomDataSource("twin-measure");
  viewer.dataSources.add(source);
  const colour = C.Color.fromCssColorString("#ffd400");
  const state = { mode: null, points: [], finished: false, result: null };
  let lastClick = null;

  const cartesian = (p) => C.Cartesian3.fromDegrees(p[0], p[1], p[2] ?? 0);

  function label(position, text, offsetY = -14) {
    source.entities.add({
      position,
      label: {
        text,
        font: "13px sans-serif",
        fillColor: C.Color.WHITE,
        showBackground: true,
        backgroundColor: C.Color.fromCssColorString("#1b2328").withAlpha(0.85),
        pixelOffset: new C.Cartesian2(0, offsetY),
        verticalOrigin: C.VerticalOrigin.BOTTOM,
        disableDepthTestDistance: Number.POSITIVE_INFINITY,
      },
    });
  }

  function line(positions, width = 3) {
    source.entities.add({
      polyline: {
        positions,
        width,
        material: colour,
        // Seen through buildings too, paler.
        depthFailMaterial: colour.withAlpha(0.45),
        arcType: C.ArcType.NONE,
      },
    });
  }

  function draw() {
    source.entities.removeAll();
    const pts = state.points;
    const positions = pts.map(cartesian);
    for (const position of positions) {
      source.entities.add({
        position,
        point: {
          pixelSize: 8,
          color: colour,
          outlineColor: C.Color.BLACK,
          outlineWidth: 1,
          disableDepthTestDistance: Number.POSITIVE_INFINITY,
        },
      });
    }
    if (state.mode === "distance" && pts.length >= 2) {
      line(positions);
      const m = polylineLengths(pts);
      if (pts.length > 2) {
        m.segments.forEach((s, i) => {
          const middle = C.Cartesian3.midpoint(positions[i], positions[i + 1], new C.Cartesian3());
          label(middle, formatLength(s.distance), 0);
        });
      }
      label(positions.at(-1), formatLength(m.distance));
    } else if (state.mode === "height" && pts.length === 2) {
      const [low, high] = (pts[0][2] ?? 0) <= (pts[1][2] ?? 0) ? pts : [pts[1], pts[0]];
      const foot = cartesian(low);
      const top = cartesian([low[0], low[1], high[2] ?? 0]);
      line([foot, top]);
      line([top, cartesian(high)], 1.5);
      const m = heightMeasure(pts[0], pts[1]);
      label(C.Cartesian3.midpoint(foot, top, new C.Cartesian3()), formatHeight(m.height), 0);
    } else if (state.mode === "area" && pts.length >= 2) {
      if (pts.length >= 3) {
        source.entities.add({
          polygon: {
            hierarchy: new C.PolygonHierarchy(positions),
            perPositionHeight: true,
            material: colour.withAlpha(0.3),
          },
        });
      }
      line(pts.length >= 3 ? [...positions, positions[0]] : positions);
      if (pts.length >= 3) {
        const m = polygonArea(pts);
        const centre = C.BoundingSphere.fromPoints(positions).center;
        label(centre, `${formatArea(m.area)}\n${formatLength(m.perimeter)}`, 0);
      }
    }
    viewer.scene.requestRender();
  }

  function update() {
    state.result = state.mode ? describe(state.mode, state.points) : null;
    draw();
    onChange(state);
  }

  return {
    state,
    source,
    /** True when `picked` (a scene.pick result) is one of the measurement's entities. */
    owns(picked) {
      return Boolean(picked?.id && source.entities.contains(picked.id));
    },
    /** Start measuring in `mode` (a new, empty measurement). */
    start(mode) {
      state.mode = mode;
      state.points = [];
      state.finished = false;
      lastClick = null;
      update();
    },
    /** A click at a canvas position: add a point. Returns false when no surface is there. */
    click(position) {
      if (!state.mode) return false;
      const now = performance.now();
      if (
        lastClick &&
        now - lastClick.time < SAME_CLICK_MS &&
        Math.hypot(position.x - lastClick.x, position.y - lastClick.y) < SAME_CLICK_PX
      ) {
        return true; // the second half of a double click: the double click finishes
      }
      const at = positionAt(viewer, position);
      if (!at) return false;
      lastClick = { x: position.x, y: position.y, time: now };
      const point = [at[0], at[1], at[2] ?? 0];
      const full = state.mode === "height" ? state.points.length >= 2 : state.finished;
      if (full) {
        state.points = [];
        state.finished = false;
      }
      state.points.push(point);
      if (state.mode === "height" && state.points.length === 2) state.finished = true;
      update();
      return true;
    },
    /** Finish the polyline or polygon (double click, Enter, the Finish button). */
    finish() {
      if (!state.mode || state.finished) return;
      const enough = state.mode === "area" ? 3 : 2;
      if (state.points.length < enough) return;
      state.finished = true;
      update();
    },
    clear() {
      state.points = [];
      state.finished = false;
      lastClick = null;
      update();
    },
    /** Leave measuring: the drawing goes too. */
    stop() {
      state.mode = null;
      state.points = [];
      state.finished = false;
      update();
    },
    /** The points as ECEF [x, y, z] (for tests: the picked world positions). */
    worldPoints() {
      return state.points.map((p) => {
        const c = cartesian(p);
        return [c.x, c.y, c.z];
      });
    },
  };
}
