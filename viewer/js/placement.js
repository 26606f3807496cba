// Where a click lands: on the 3D model (scene.pickPosition, with its height) or on the
// globe (camera.pickEllipsoid, no height: the project is then clamped to the ground).
// Uses the CesiumJS global.

const Cesium = () => globalThis.Cesium;

/**
 * @param {object} viewer
 * @param {{x: number, y: number}} position canvas CSS pixels
 * @param {object} [picked] the scene.pick result at that position, when already known
 * @returns {number[]|null} [lon, lat, height] on the model, [lon, lat] on the globe
 */
export function positionAt(viewer, position, picked) {
  const C = Cesium();
  const scene = viewer.scene;
  const at = new C.Cartesian2(position.x, position.y);
  const hit = picked === undefined ? scene.pick(at) : picked;
  const onModel =
    hit instanceof C.Cesium3DTileFeature ||
    hit?.primitive instanceof C.Cesium3DTileset ||
    (hit && scene.drillPick(at, 4).some((h) => h instanceof C.Cesium3DTileFeature));
  if (onModel && scene.pickPositionSupported) {
    // A pick (this one, or the hover's on the way here) culls the scene to the pixel and
    // leaves the near and far planes of its own frustums, which pickPosition then applies
    // to the last frame's depth: heights came out tens or hundreds of metres off. A frame
    // drawn now makes the depth and the frustums agree again.
    scene.requestRender();
    viewer.render();
    const world = scene.pickPosition(at);
    if (world) {
      const c = C.Cartographic.fromCartesian(world);
      if (c && Number.isFinite(c.height)) {
        return [C.Math.toDegrees(c.longitude), C.Math.toDegrees(c.latitude), c.height];
      }
    }
  }
  const ground = viewer.camera.pickEllipsoid(at, scene.globe.ellipsoid);
  if (!ground) return null;
  const c = C.Cartographic.fromCartesian(ground);
  return [C.Math.toDegrees(c.longitude), C.Math.toDegrees(c.latitude)];
}

/** Client (page) CSS pixel position of a world position, or null when off screen. */
export function clientPosition(viewer, world) {
  const C = Cesium();
  if (!world) return null;
  const p = C.SceneTransforms.worldToWindowCoordinates(viewer.scene, world);
  if (!p) return null;
  const rect = viewer.canvas.getBoundingClientRect();
  return { x: rect.left + p.x, y: rect.top + p.y };
}
