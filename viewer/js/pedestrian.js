// Pedestrian view: stand 1.7 m above a clicked point (the ground or a roof), look straight
// ahead, walk with the arrow keys or WASD (the camera follows the surface below, sampled
// with scene.sampleHeight), look around by dragging; leaving flies back to the camera as
// it was. Uses the CesiumJS global.
import { positionAt } from "./placement.js";

const Cesium = () => globalThis.Cesium;

export const EYE_HEIGHT = 1.7; // metres above the surface
export const WALK_SPEED = 4; // m/s; Shift: RUN_SPEED
export const RUN_SPEED = 15;
/** A step up higher than this is a wall: the walker stops instead of climbing it. */
export const MAX_STEP = 1.2;
/** A key press moves at least this long a time's walk, however slow the frames are. */
const TAP_SECONDS = 0.1;
const LOOK_RATE = 0.004; // radians per CSS pixel of drag
const MAX_PITCH = (85 * Math.PI) / 180;
const EARTH_RADIUS = 6378137;

const KEYS = {
  ArrowUp: [1, 0],
  KeyW: [1, 0],
  ArrowDown: [-1, 0],
  KeyS: [-1, 0],
  ArrowLeft: [0, -1],
  KeyA: [0, -1],
  ArrowRight: [0, 1],
  KeyD: [0, 1],
};

/**
 * @param {object} viewer
 * @param {{exclude: () => object[], onChange: (state) => void}} options exclude: what
 *   sampleHeight must not stand on (overlays: project areas and pins, sensor markers, the
 *   measurement; tools.js)
 */
export function createPedestrian(viewer, { exclude, onChange }) {
  const C = Cesium();
  const scene = viewer.scene;
  const camera = viewer.camera;
  const state = { mode: "off", surface: null, returning: false }; // off | picking | walking
  let saved = null;
  const held = new Set();
  let frame = 0;
  let lastTime = 0;
  let drag = null;
  let heading = 0;
  let pitch = 0;
  let ground = 0;

  const handler = new C.ScreenSpaceEventHandler(scene.canvas);
  handler.setInputAction((e) => {
    if (state.mode === "walking") drag = C.Cartesian2.clone(e.position);
  }, C.ScreenSpaceEventType.LEFT_DOWN);
  handler.setInputAction(() => {
    drag = null;
  }, C.ScreenSpaceEventType.LEFT_UP);
  handler.setInputAction((m) => {
    if (state.mode !== "walking" || !drag) return;
    heading += (m.endPosition.x - drag.x) * LOOK_RATE;
    pitch -= (m.endPosition.y - drag.y) * LOOK_RATE;
    pitch = Math.max(-MAX_PITCH, Math.min(MAX_PITCH, pitch));
    drag = C.Cartesian2.clone(m.endPosition);
    place(camera.positionCartographic.longitude, camera.positionCartographic.latitude);
  }, C.ScreenSpaceEventType.MOUSE_MOVE);

  function changed() {
    onChange(state);
  }

  /** The highest surface at lon/lat (radians), or null when nothing is loaded there. */
  function surfaceAt(lon, lat) {
    if (!scene.sampleHeightSupported) return null;
    const h = scene.sampleHeight(new C.Cartographic(lon, lat), exclude());
    return Number.isFinite(h) ? h : null;
  }

  function place(lon, lat) {
    camera.setView({
      destination: C.Cartesian3.fromRadians(lon, lat, ground + EYE_HEIGHT),
      orientation: { heading, pitch, roll: 0 },
    });
    scene.requestRender();
  }

  function step(time) {
    frame = 0;
    if (state.mode !== "walking" || !held.size) return;
    const dt = Math.max(0, Math.min(0.1, (time - lastTime) / 1000 || 0));
    lastTime = time;
    move(dt);
    frame = requestAnimationFrame(step);
  }

  /** Walk for `dt` seconds in the direction the held keys say. */
  function move(dt) {
    let forward = 0;
    let right = 0;
    for (const code of held) {
      const [f, r] = KEYS[code] || [0, 0];
      forward += f;
      right += r;
    }
    const running = held.has("ShiftLeft") || held.has("ShiftRight");
    const distance = (running ? RUN_SPEED : WALK_SPEED) * dt;
    const east = (Math.sin(heading) * forward + Math.cos(heading) * right) * distance;
    const north = (Math.cos(heading) * forward - Math.sin(heading) * right) * distance;
    const here = camera.positionCartographic;
    const lat = here.latitude + north / EARTH_RADIUS;
    const lon = here.longitude + east / (EARTH_RADIUS * Math.cos(here.latitude));
    const below = surfaceAt(lon, lat);
    if (below === null || below - ground <= MAX_STEP) {
      if (below !== null) ground = below;
      place(lon, lat);
      if (state.surface !== ground) {
        state.surface = ground;
        changed();
      }
    }
  }

  function walk(at) {
    const lon = C.Math.toRadians(at[0]);
    const lat = C.Math.toRadians(at[1]);
    ground = at.length > 2 ? at[2] : (surfaceAt(lon, lat) ?? 0);
    heading = camera.heading;
    pitch = 0;
    state.mode = "walking";
    state.surface = ground;
    scene.screenSpaceCameraController.enableInputs = false;
    place(lon, lat);
    changed();
  }

  return {
    state,
    /** Wait for a click that says where to stand. */
    start() {
      if (state.mode !== "off") return;
      state.mode = "picking";
      changed();
    },
    /** A click while picking: stand there. True when the click was taken. */
    click(position) {
      if (state.mode === "walking") return true; // the click ends a look-around drag
      if (state.mode !== "picking") return false;
      const at = positionAt(viewer, position);
      if (!at) return true;
      saved = {
        position: C.Cartesian3.clone(camera.positionWC),
        heading: camera.heading,
        pitch: camera.pitch,
        roll: camera.roll,
      };
      walk(at);
      return true;
    },
    /** A key while walking; true when it moved (or will move) the walker. */
    key(event, down) {
      if (state.mode !== "walking") return false;
      const moves = event.code in KEYS;
      if (!moves && !event.code.startsWith("Shift")) return false;
      const fresh = down && moves && !held.has(event.code);
      if (down) held.add(event.code);
      else held.delete(event.code);
      // A press steps at once (a frame may take long on a slow GPU), then the walk goes on
      // frame by frame while the key is held.
      if (fresh) move(TAP_SECONDS);
      if (down && moves && !frame) {
        lastTime = performance.now();
        frame = requestAnimationFrame(step);
      }
      return moves;
    },
    /** Forget held keys (the window lost focus: their key-ups will not come). */
    release() {
      held.clear();
    },
    /** Back to the camera as it was before (a short flight); resolves when there. */
    stop() {
      const was = state.mode;
      held.clear();
      drag = null;
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      scene.screenSpaceCameraController.enableInputs = true;
      state.mode = "off";
      state.surface = null;
      if (was !== "walking" || !saved) {
        changed();
        return Promise.resolve();
      }
      const back = saved;
      saved = null;
      state.returning = true;
      changed();
      return new Promise((resolve) => {
        const done = () => {
          state.returning = false;
          scene.requestRender();
          changed();
          resolve();
        };
        camera.flyTo({
          destination: back.position,
          orientation: { heading: back.heading, pitch: back.pitch, roll: back.roll },
          duration: 1,
          complete: done,
          cancel: done,
        });
      });
    },
  };
}
