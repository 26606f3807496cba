// The benchmark's baseline (bench/bench_viewer_load.py): the same CesiumJS module build,
// tileset and camera as the twin viewer, with the same viewer options (offline Natural
// Earth II base map, no ion, render on demand), and nothing else.
//   /bench/bare/?tileset=<url>#cam=lon,lat,height,heading,pitch
const base = new URL("/cesium/", location.href);
window.CESIUM_BASE_URL = base.href;
const C = await import(new URL("index.js", base).href);
window.Cesium = C;

const tilesetUrl = new URLSearchParams(location.search).get("tileset");
const [lon, lat, height, heading, pitch] = new URLSearchParams(location.hash.slice(1))
  .get("cam")
  .split(",")
  .map(Number);

const viewer = new C.Viewer("cesium", {
  baseLayer: C.ImageryLayer.fromProviderAsync(
    C.TileMapServiceImageryProvider.fromUrl(new URL("Assets/Textures/NaturalEarthII", base).href),
  ),
  geocoder: false,
  baseLayerPicker: false,
  timeline: false,
  animation: false,
  homeButton: true,
  sceneModePicker: false,
  navigationHelpButton: false,
  fullscreenButton: false,
  infoBox: false,
  selectionIndicator: false,
  requestRenderMode: true,
  maximumRenderTimeChange: Infinity,
});
// As twin does on a software renderer (the benchmark's case): no MSAA, no star sky box.
viewer.scene.msaaSamples = 1;
viewer.scene.skyBox = undefined;
viewer.camera.setView({
  destination: C.Cartesian3.fromDegrees(lon, lat, height),
  orientation: { heading: C.Math.toRadians(heading), pitch: C.Math.toRadians(pitch), roll: 0 },
});
const tileset = await C.Cesium3DTileset.fromUrl(tilesetUrl);
viewer.scene.primitives.add(tileset);
window.bare = { viewer, tileset };
