// The CesiumJS side: viewer, base map, tilesets, camera. Uses the CesiumJS global.
import { isValidExtent } from "./extent.js";

const Cesium = () => globalThis.Cesium;

/** Looking down at the city from the south, 35° below the horizon. */
const PITCH_DEGREES = -35;
/**
 * Camera distance as a share of the distance at which the whole bounding sphere fits the
 * view: a city's bounding sphere is mostly empty air above flat ground, so closer is better.
 */
const RANGE_FACTOR = 0.6;

function rangeToFit(camera, radius) {
  const f = camera.frustum;
  const tanPhi = Math.tan((f.fovy ?? Math.PI / 3) * 0.5);
  const tanTheta = (f.aspectRatio ?? 1) * tanPhi;
  return Math.max(radius / tanTheta, radius / tanPhi) * RANGE_FACTOR;
}

/** The imagery provider (a promise) for a base map of the config (config.js). */
function baseMapProvider(C, baseMap) {
  // On screen, not behind "Data attribution": licences such as CC BY ask for it to be seen.
  const credit = baseMap.credit ? new C.Credit(baseMap.credit, true) : undefined;
  const maximumLevel = baseMap.maximumLevel;
  switch (baseMap.type) {
    case "tms":
      return C.TileMapServiceImageryProvider.fromUrl(baseMap.url, { credit, maximumLevel });
    case "xyz":
      return Promise.resolve(
        new C.UrlTemplateImageryProvider({ url: baseMap.url, credit, maximumLevel }),
      );
    case "wmts":
      // KVP (GetTile) for a service URL, RESTful for a template with {TileMatrix}.
      return Promise.resolve(
        new C.WebMapTileServiceImageryProvider({
          url: baseMap.url,
          layer: baseMap.layer,
          style: baseMap.style,
          format: baseMap.format,
          tileMatrixSetID: baseMap.tileMatrixSet,
          tileMatrixLabels: baseMap.tileMatrixPrefix
            ? Array.from({ length: (maximumLevel ?? 24) + 1 }, (_, z) => baseMap.tileMatrixPrefix + z)
            : undefined,
          maximumLevel,
          credit,
        }),
      );
    default:
      return null;
  }
}

/**
 * An ImageryLayer for a base map; false (no imagery) for none or an unknown type.
 * @param {(err) => void} [onError] told when the map or one of its tiles fails
 */
export function baseMapLayer(baseMap, onError = () => {}) {
  const C = Cesium();
  const provider = baseMap ? baseMapProvider(C, baseMap) : null;
  if (!provider) {
    if (baseMap) console.warn(`twin: base map type "${baseMap.type}" is not supported`);
    return false;
  }
  const layer = C.ImageryLayer.fromProviderAsync(provider);
  layer.errorEvent.addEventListener((err) => {
    console.warn("twin: base map failed", err);
    onError(err);
  });
  layer.readyEvent.addEventListener((p) => p.errorEvent.addEventListener((e) => onError(e)));
  return layer;
}

/** Quantized-mesh terrain from the config's URL (vertex normals when the tileset has them). */
function terrainOf(C, terrain, status) {
  if (!terrain) return undefined;
  status.url = terrain.url;
  const t = new C.Terrain(
    C.CesiumTerrainProvider.fromUrl(terrain.url, { requestVertexNormals: true }),
  );
  t.readyEvent.addEventListener(() => {
    status.ready = true;
  });
  t.errorEvent.addEventListener((err) => {
    status.error = String(err?.message || err);
    console.warn("twin: terrain failed", err);
  });
  return t;
}

/** True when WebGL runs on a CPU rasteriser (SwiftShader, llvmpipe, ...). */
export function isSoftwareRenderer(canvas) {
  try {
    // The context CesiumJS created: getContext returns the existing one.
    const gl = canvas.getContext("webgl2") || canvas.getContext("webgl");
    const info = gl?.getExtension("WEBGL_debug_renderer_info");
    const renderer = String(gl?.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    return /swiftshader|llvmpipe|softpipe|software/i.test(renderer);
  } catch {
    return false;
  }
}

/**
 * A Viewer with no Cesium ion, no widgets beyond the home button, rendering on demand.
 * `terrainStatus` ({url, ready, error}) follows the terrain's loading, when there is one.
 */
export function createViewer(container, config, terrainStatus = {}) {
  const C = Cesium();
  const viewer = new C.Viewer(container, {
    baseLayer: baseMapLayer(config.baseMap),
    terrain: terrainOf(C, config.terrain, terrainStatus),
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
  viewer.scene.globe.baseColor = C.Color.fromCssColorString("#2b3a42");
  if (isSoftwareRenderer(viewer.canvas)) {
    // Virtual desktops without a GPU render WebGL on the CPU: spare it 4× multisampling,
    // and the star sky box, whose six 1024² images take more than a second of main thread
    // to upload as a mipmapped cube map (the sky atmosphere stays; space is black).
    viewer.scene.msaaSamples = 1;
    viewer.scene.skyBox = undefined;
  }
  // CesiumJS handles double click by tracking an entity; twin has none to track.
  viewer.screenSpaceEventHandler.removeInputAction(C.ScreenSpaceEventType.LEFT_DOUBLE_CLICK);
  return viewer;
}

/** Load one 3D Tiles layer and add it to the scene. */
export async function loadTileset(viewer, layer) {
  const C = Cesium();
  const tileset = await C.Cesium3DTileset.fromUrl(layer.tilesetUrl, {
    show: layer.visible,
    // Highlights mix with the vertex colours instead of multiplying them to near black.
    colorBlendMode: C.Cesium3DTileColorBlendMode.MIX,
    colorBlendAmount: 0.7,
  });
  if (viewer.isDestroyed()) {
    tileset.destroy();
    return null;
  }
  viewer.scene.primitives.add(tileset);
  return tileset;
}

/** Bounding sphere of an extent between two ellipsoidal heights (metres). */
function sphereOfExtent(extent, heightRange) {
  const C = Cesium();
  if (!isValidExtent(extent)) return null;
  const [low, high] = heightRange || [0, 0];
  const sphere = C.BoundingSphere.fromRectangle3D(
    C.Rectangle.fromDegrees(...extent),
    C.Ellipsoid.WGS84,
    (low + high) / 2,
  );
  sphere.radius = Math.max(Math.hypot(sphere.radius, (high - low) / 2), 10);
  return sphere;
}

function flyToSphere(viewer, sphere, duration, range = null) {
  const C = Cesium();
  return new Promise((resolve) => {
    const distance = range ?? Math.max(rangeToFit(viewer.camera, sphere.radius), 50);
    viewer.camera.flyToBoundingSphere(sphere, {
      offset: new C.HeadingPitchRange(0, C.Math.toRadians(PITCH_DEGREES), distance),
      duration,
      complete: () => resolve(true),
      cancel: () => resolve(false),
    });
  });
}

/**
 * Fly to look at a point (degrees, ellipsoidal metres) from the south at the same pitch as
 * every other flight, `range` metres away. Resolves true when the flight ended there, false
 * when it was interrupted.
 */
export function flyToPoint(viewer, { lon, lat, height = 0 }, range, { duration = 1.5 } = {}) {
  const C = Cesium();
  const sphere = new C.BoundingSphere(C.Cartesian3.fromDegrees(lon, lat, height), 1);
  return flyToSphere(viewer, sphere, duration, range);
}

/**
 * Fly to the given tilesets, or when none is loaded to the extent, looking at them from the
 * south at a fixed pitch. Resolves when the flight ends or is interrupted.
 * @param {Array} tilesets loaded Cesium3DTilesets (their bounding spheres are exact)
 * @param {number[]|null} extent [w, s, e, n] degrees, used when there is no tileset
 * @param {number[]|null} heightRange [low, high] ellipsoidal metres of the extent
 */
export function flyToData(viewer, tilesets, extent, heightRange = null, { duration = 1.5 } = {}) {
  const C = Cesium();
  const spheres = tilesets.filter(Boolean).map((t) => t.boundingSphere);
  const sphere = spheres.length
    ? C.BoundingSphere.fromBoundingSpheres(spheres)
    : sphereOfExtent(extent, heightRange);
  return sphere ? flyToSphere(viewer, sphere, duration) : Promise.resolve();
}

/** Resolves after the scene has rendered `count` more frames. */
export function afterFrames(scene, count = 1) {
  return new Promise((resolve) => {
    let left = count;
    const remove = scene.postRender.addEventListener(() => {
      if (--left <= 0) {
        remove();
        resolve();
      } else {
        scene.requestRender();
      }
    });
    scene.requestRender();
  });
}
