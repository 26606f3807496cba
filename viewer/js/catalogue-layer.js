// The catalogue on the map: a pin per project (clustered when zoomed out) and its shapes,
// coloured by category; the placement marker of the project form. Uses the CesiumJS global.
import { anchorOf, geometryParts, hasHeight } from "./project-geometry.js";

const Cesium = () => globalThis.Cesium;

const PIN_W = 26;
const PIN_H = 36;

function pinSvg(color, { ring = false } = {}) {
  const stroke = ring ? "#ffd400" : "#ffffff";
  const width = ring ? 3 : 2;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PIN_W}" height="${PIN_H}" viewBox="0 0 26 36">` +
    `<path d="M13 35C13 35 2 21 2 13a11 11 0 0 1 22 0c0 8-11 22-11 22z" fill="${color}" ` +
    `stroke="${stroke}" stroke-width="${width}"/><circle cx="13" cy="13" r="4.5" fill="#fff"/></svg>`
  );
}

function clusterSvg(size) {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">` +
    `<circle cx="${size / 2}" cy="${size / 2}" r="${size / 2 - 2}" fill="#005ea8" ` +
    `fill-opacity="0.88" stroke="#fff" stroke-width="2"/></svg>`
  );
}

const dataUrl = (svg) => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;

function cartesian(C, position, fallbackHeight = 0) {
  const [lon, lat, h] = position;
  return C.Cartesian3.fromDegrees(lon, lat, hasHeight(position) ? h : fallbackHeight);
}

/**
 * @param {object} viewer the Cesium Viewer
 * @param {{colorOf: (project) => string}} style CSS colour of a project
 */
export function createCatalogueLayer(viewer, { colorOf }) {
  const C = Cesium();
  const scene = viewer.scene;
  const pins = new C.CustomDataSource("catalogue-pins");
  const shapes = new C.CustomDataSource("catalogue-shapes");
  const marker = new C.CustomDataSource("catalogue-placement");
  const projectOf = new Map(); // Entity -> project id
  const pinOf = new Map(); // project id -> pin Entity
  const images = new Map();
  let selectedId = null;
  // Points without a height stand on the ground. On the plain ellipsoid (no terrain) that
  // is height 0 exactly: CLAMP_TO_GROUND would clamp to the loaded globe tiles, whose coarse
  // meshes sag below the ellipsoid (150 m was seen here), so pins would float off target.
  const onEllipsoid = viewer.terrainProvider instanceof C.EllipsoidTerrainProvider;
  const heightRef = (position) =>
    hasHeight(position) || onEllipsoid ? C.HeightReference.NONE : C.HeightReference.CLAMP_TO_GROUND;

  const pinImage = (color, ring) => {
    const key = `${color}|${ring}`;
    if (!images.has(key)) images.set(key, dataUrl(pinSvg(color, { ring })));
    return images.get(key);
  };

  const clustering = pins.clustering;
  clustering.enabled = true;
  clustering.pixelRange = 36;
  clustering.minimumClusterSize = 3;
  clustering.clusterEvent.addEventListener((entities, cluster) => {
    const n = entities.length;
    const size = n < 10 ? 34 : n < 100 ? 40 : 48;
    cluster.label.show = true;
    cluster.label.text = String(n);
    cluster.label.font = "bold 14px system-ui, sans-serif";
    cluster.label.fillColor = C.Color.WHITE;
    cluster.label.horizontalOrigin = C.HorizontalOrigin.CENTER;
    cluster.label.verticalOrigin = C.VerticalOrigin.CENTER;
    cluster.label.disableDepthTestDistance = Number.POSITIVE_INFINITY;
    cluster.label.eyeOffset = new C.Cartesian3(0, 0, -10);
    cluster.billboard.show = true;
    cluster.billboard.image = dataUrl(clusterSvg(size));
    cluster.billboard.width = size;
    cluster.billboard.height = size;
    cluster.billboard.verticalOrigin = C.VerticalOrigin.CENTER;
    cluster.billboard.disableDepthTestDistance = Number.POSITIVE_INFINITY;
    cluster.billboard.id = entities;
  });

  // CesiumJS reclusters when the camera has moved by `percentageChanged` (default 50 %):
  // recluster after every move instead, so a flight to one project shows its own pin.
  const recluster = () => {
    const range = clustering.pixelRange;
    clustering.pixelRange = range + 1; // marks the clusters dirty
    clustering.pixelRange = range;
    scene.requestRender();
  };
  viewer.camera.moveEnd.addEventListener(recluster);

  viewer.dataSources.add(shapes);
  viewer.dataSources.add(pins);
  viewer.dataSources.add(marker);

  function addShapes(project, color) {
    const parts = geometryParts(project.geometry);
    const line = C.Color.fromCssColorString(color);
    const fill = line.withAlpha(0.35);
    const add = (graphics) => projectOf.set(shapes.entities.add(graphics), project.id);
    for (const positions of parts.lines) {
      add({
        polyline: {
          positions: positions.map((p) => cartesian(C, p)),
          width: 4,
          material: line,
          clampToGround: !positions.every(hasHeight),
        },
      });
    }
    for (const { outer, holes } of parts.polygons) {
      const withHeight = outer.every(hasHeight);
      add({
        polygon: {
          hierarchy: new C.PolygonHierarchy(
            outer.map((p) => cartesian(C, p)),
            holes.map((h) => new C.PolygonHierarchy(h.map((p) => cartesian(C, p)))),
          ),
          material: fill,
          perPositionHeight: withHeight,
          classificationType: C.ClassificationType.BOTH,
        },
      });
      add({
        polyline: {
          positions: outer.map((p) => cartesian(C, p)),
          width: 2,
          material: line,
          clampToGround: !withHeight,
        },
      });
    }
    // Extra points of multi-point projects (the first is the pin).
    for (const p of parts.points.slice(1)) {
      add({
        position: cartesian(C, p),
        point: {
          pixelSize: 9,
          color: line,
          outlineColor: C.Color.WHITE,
          outlineWidth: 2,
          heightReference: heightRef(p),
          disableDepthTestDistance: Number.POSITIVE_INFINITY,
        },
      });
    }
  }

  function addPin(project, color) {
    const anchor = anchorOf(project.geometry, project.bbox);
    if (!anchor) return;
    // No fixed entity id: CesiumJS keys its visualisers by id, and removing and re-adding
    // an id in one batch (a new query answer) leaves the old pin's billboard behind.
    const entity = pins.entities.add({
      name: project.title_sv,
      position: cartesian(C, anchor),
      billboard: {
        image: pinImage(color, project.id === selectedId),
        width: PIN_W,
        height: PIN_H,
        verticalOrigin: C.VerticalOrigin.BOTTOM,
        heightReference: heightRef(anchor),
        disableDepthTestDistance: Number.POSITIVE_INFINITY,
      },
    });
    entity.twinColor = color;
    projectOf.set(entity, project.id);
    pinOf.set(project.id, entity);
  }

  return {
    /** Show exactly these projects (replacing the ones shown before). */
    setProjects(projects) {
      pins.entities.suspendEvents();
      shapes.entities.suspendEvents();
      pins.entities.removeAll();
      shapes.entities.removeAll();
      projectOf.clear();
      pinOf.clear();
      for (const p of projects) {
        const color = colorOf(p);
        addShapes(p, color);
        addPin(p, color);
      }
      pins.entities.resumeEvents();
      shapes.entities.resumeEvents();
      recluster();
    },

    /** Ring the selected project's pin (null: none). */
    select(id) {
      for (const pid of [selectedId, id]) {
        const e = pinOf.get(pid);
        if (e) e.billboard.image = pinImage(e.twinColor, pid === id);
      }
      selectedId = id;
      scene.requestRender();
    },

    /**
     * What a scene.pick result means for the catalogue: {project: id, pin: bool} (a pin or
     * one of the project's shapes), {cluster: [ids], entities} or null.
     */
    interpret(picked) {
      const id = picked?.id;
      if (Array.isArray(id)) {
        const ids = id.map((e) => projectOf.get(e)).filter((x) => x !== undefined);
        return ids.length ? { cluster: ids, entities: id } : null;
      }
      if (id && projectOf.has(id)) {
        return { project: projectOf.get(id), pin: pinOf.get(projectOf.get(id)) === id };
      }
      return null;
    },

    /** Fly to some pins (a cluster's): resolves when the flight ends. */
    flyToEntities(entities) {
      return viewer.flyTo(entities, {
        duration: 1.2,
        offset: new C.HeadingPitchRange(0, C.Math.toRadians(-50), 0),
      });
    },

    /** The pin's world position, for flights and screen positions. */
    pinPosition(id) {
      const e = pinOf.get(id);
      return e ? e.position.getValue(viewer.clock.currentTime) : null;
    },

    hasPin(id) {
      return pinOf.has(id);
    },

    /** Show (position [lon, lat, h?]) or hide (null) the form's placement marker. */
    setMarker(position) {
      marker.entities.removeAll();
      if (position) {
        marker.entities.add({
          position: cartesian(C, position),
          billboard: {
            image: pinImage("#ffd400", true),
            width: PIN_W,
            height: PIN_H,
            verticalOrigin: C.VerticalOrigin.BOTTOM,
            heightReference: heightRef(position),
            disableDepthTestDistance: Number.POSITIVE_INFINITY,
          },
        });
      }
      scene.requestRender();
    },
  };
}
