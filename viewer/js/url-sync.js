// The URL and the viewer in step: the hash says camera, layers, selection, catalogue
// filter, sensor time, shadows, base map and attribute styles (url-state.js); loading or
// going back restores them. Selection, layers, base map, styles, filters, time and shadows
// on/off push a history entry; camera moves (and typing a search, moving a time) replace the
// current one. Also the "Kopiera länk" button and embed mode (?embed=1, docs/EMBED.md).
import { readProperty } from "./picking.js";
import { t } from "./strings.js";
import { changeKind, decodeState, encodeState, fullViewerUrl, isEmbed } from "./url-state.js";

const POLL_MS = 300; // how often the significant state is compared with the URL
const CAMERA_DELAY_MS = 400; // camera moves replace the entry this long after they stop
const FIND_TIMEOUT_MS = 30000; // how long a linked object may take to appear in its tiles
const CONFIRM_MS = 4000;

/** Embed mode: a class on <body> (CSS hides login, imports, the share bar), a folded layer
 * panel and the "Öppna i twin" link. Call once the layer panel exists. */
export function setupEmbed(doc, location) {
  const embed = isEmbed(location.search);
  doc.body.classList.toggle("embed", embed);
  const link = doc.getElementById("open-full");
  if (!embed) return false;
  link.hidden = false;
  link.textContent = t("share.openFull");
  link.href = fullViewerUrl(location.href);
  const toggle = doc.getElementById("layer-panel-toggle");
  if (toggle?.getAttribute("aria-expanded") === "true") toggle.click();
  return true;
}

function* contentFeatures(content) {
  if (!content) return;
  for (const inner of content.innerContents || []) yield* contentFeatures(inner);
  const n = content.featuresLength || 0;
  for (let i = 0; i < n; i++) yield content.getFeature(i);
}

/**
 * The loaded feature of `tileset` whose id is `id`, or null. Coarser tiles carry simplified
 * copies of an object: the copy in the most refined loaded tile is the one drawn close up,
 * so that one is selected (and highlighted).
 */
export function findLoadedFeature(tileset, id) {
  const stack = tileset?.root ? [[tileset.root, 0]] : [];
  let found = null;
  let foundDepth = -1;
  while (stack.length) {
    const [tile, depth] = stack.pop();
    for (const child of tile.children || []) stack.push([child, depth + 1]);
    if (!tile.contentReady || depth <= foundDepth) continue;
    for (const feature of contentFeatures(tile.content)) {
      if (String(readProperty(feature, "id")) === id) {
        found = feature;
        foundDepth = depth;
        break;
      }
    }
  }
  return found;
}

/**
 * The feature `id` of `layer` once a loaded tile of the shown layer has it (shared links,
 * the map search); null when every tile in view has loaded without it, the layer failed or
 * is gone, `isCurrent()` turned false, or after `timeoutMs`.
 * @param {{tilesetOf: (name) => object|undefined, twin, layer: string, id: string,
 *   win?: Window, timeoutMs?: number, isCurrent?: () => boolean}} options
 */
export async function waitForFeature(options) {
  const { tilesetOf, twin, layer, id, win = globalThis } = options;
  const { timeoutMs = FIND_TIMEOUT_MS, isCurrent = () => true } = options;
  const deadline = Date.now() + timeoutMs;
  let settled = 0;
  while (Date.now() < deadline && isCurrent()) {
    const tileset = tilesetOf(layer);
    const feature = tileset && tileset.show && findLoadedFeature(tileset, id);
    if (feature) return feature;
    // Every tile in view loaded and still not there: it is not in this view.
    if (tileset?.tilesLoaded || twin.layers[layer]?.error || !twin.layers[layer]) settled += 1;
    else settled = 0;
    if (settled >= 4) return null;
    await new Promise((r) => win.setTimeout(r, POLL_MS));
  }
  return null;
}

/**
 * @param {{viewer, twin, doc: Document, tilesetOf: (name) => object|undefined,
 *   setLayerVisible: (name, visible) => void, selectFeature: (feature) => void,
 *   clearSelection: () => void, catalogue, sensors, styling}} options
 *   catalogue: {openProject(id), close(), cardOpen}; sensors: {showTime(iso), live()};
 *   shadows: {state: {on, time}, set(on, time)} (tools.js)
 *   baseMaps: {select(name), current, defaultName}
 *   styling: {urlState(), restore(styles)} (styling.js)
 */
export function createUrlSync(options) {
  const { viewer, twin, doc, tilesetOf, setLayerVisible, selectFeature, clearSelection } = options;
  const maps = options.baseMaps; // {select(name), current, defaultName} (basemaps.js)
  const win = doc.defaultView;
  const C = globalThis.Cesium;
  const embed = isEmbed(win.location.search);
  let last = null; // the state the current history entry says
  let camera = null; // the camera when it last stopped
  let restoring = 0; // restores under way: no history changes meanwhile
  let replaceTimer = 0;
  const status = { restored: false, notFound: null, copied: null };
  twin.url = status;

  const toast = doc.getElementById("url-notice");
  let toastTimer = 0;
  function tell(text) {
    toast.textContent = text;
    toast.hidden = false;
    win.clearTimeout(toastTimer);
    toastTimer = win.setTimeout(() => (toast.hidden = true), 8000);
  }

  function readCamera() {
    const c = viewer.camera;
    const pos = c.positionCartographic;
    return {
      lon: C.Math.toDegrees(pos.longitude),
      lat: C.Math.toDegrees(pos.latitude),
      height: pos.height,
      heading: C.Math.toDegrees(c.heading),
      pitch: C.Math.toDegrees(c.pitch),
    };
  }

  function readFilter() {
    const v = (id) => doc.getElementById(id)?.value ?? "";
    return { q: v("filter-q"), municipality: v("filter-municipality"), category: v("filter-category"), status: v("filter-status") };
  }

  function current() {
    const sel = twin.selected;
    return decodeState(
      encodeState({
        camera,
        layers: Object.keys(twin.layers).filter((n) => twin.layers[n].shown),
        selected: sel && sel.id !== null ? { layer: sel.layer, id: String(sel.id) } : null,
        project: twin.selectedProject?.id ?? null,
        filter: readFilter(),
        time: twin.sensors?.mode === "history" ? twin.sensors.time : null,
        sun: options.shadows?.state.on ? options.shadows.state.time : null,
        baseMap: maps && maps.current !== maps.defaultName ? maps.current : null,
        styles: options.styling?.urlState() ?? [],
      }),
    );
  }

  const urlOf = (state) =>
    `${win.location.pathname}${win.location.search}${encodeState(state)}` || win.location.pathname;

  function write(state, kind) {
    if (kind === "push") {
      // The catalogue rewrites the hash itself (project=): put this entry back as it was.
      if (last) win.history.replaceState({ twin: 1 }, "", urlOf(last));
      win.history.pushState({ twin: 1 }, "", urlOf(state));
    } else {
      win.history.replaceState({ twin: 1 }, "", urlOf(state));
    }
    last = state;
    linkFull();
  }

  /** Embed mode's "Öppna i twin": the full viewer at the same state. */
  function linkFull() {
    if (embed) doc.getElementById("open-full").href = fullViewerUrl(win.location.href);
  }

  function check() {
    if (restoring || !status.restored) return;
    const now = current();
    const kind = changeKind(last, now);
    if (kind === "push") {
      win.clearTimeout(replaceTimer);
      replaceTimer = 0;
      write(now, "push");
    } else if (kind === "replace" && !replaceTimer) {
      replaceTimer = win.setTimeout(() => {
        replaceTimer = 0;
        if (!restoring) write(current(), "replace");
      }, CAMERA_DELAY_MS);
    }
  }

  async function until(done, ms) {
    const end = Date.now() + ms;
    while (!done() && Date.now() < end) await new Promise((r) => win.setTimeout(r, POLL_MS));
  }

  /** Put the camera where `cam` says, without a flight. */
  function setCamera(cam) {
    viewer.camera.cancelFlight();
    viewer.camera.setView({
      destination: C.Cartesian3.fromDegrees(cam.lon, cam.lat, cam.height),
      orientation: {
        heading: C.Math.toRadians(cam.heading),
        pitch: C.Math.toRadians(cam.pitch),
        roll: 0,
      },
    });
    camera = readCamera();
    viewer.scene.requestRender();
  }

  const findFeature = (layer, id) => waitForFeature({ tilesetOf, twin, layer, id, win });

  async function applyFilter(filter) {
    const now = readFilter();
    if (["q", "municipality", "category", "status"].every((k) => now[k] === filter[k])) return;
    const form = doc.getElementById("catalogue-filter");
    if (!form) return;
    doc.getElementById("filter-q").value = filter.q;
    doc.getElementById("filter-municipality").value = filter.municipality;
    doc.getElementById("filter-category").value = filter.category;
    doc.getElementById("filter-status").value = filter.status;
    form.requestSubmit();
  }

  /** Bring the viewer to `state` (from the URL). */
  async function restore(state) {
    restoring += 1;
    win.clearTimeout(replaceTimer);
    replaceTimer = 0;
    try {
      if (state.camera) setCamera(state.camera);
      if (maps && !maps.select(state.baseMap ?? maps.defaultName)) maps.select(maps.defaultName);
      if (state.layers) {
        for (const name of Object.keys(twin.layers)) {
          const want = state.layers.includes(name);
          if (tilesetOf(name) && twin.layers[name].shown !== want) setLayerVisible(name, want);
        }
      }
      if (twin.catalogue?.loaded) await applyFilter(state.filter);
      if (state.selected) {
        const { layer, id } = state.selected;
        if (twin.selected?.layer !== layer || String(twin.selected?.id) !== id) {
          const feature = await findFeature(layer, id);
          if (feature) {
            selectFeature(feature);
            status.notFound = null;
          } else {
            clearSelection();
            status.notFound = { layer, id };
            tell(t("share.notFound", { id }));
          }
        }
      } else {
        if (twin.selected) clearSelection();
        if (state.project !== null) {
          if (twin.selectedProject?.id !== state.project) await options.catalogue?.openProject(state.project);
        } else if (options.catalogue?.cardOpen) {
          options.catalogue.close();
        }
      }
      const shadows = options.shadows;
      if (state.sun) {
        if (!shadows?.state.on || shadows.state.time !== state.sun) shadows?.set(true, state.sun);
      } else if (shadows?.state.on) {
        shadows.set(false);
      }
      const ignored = options.styling?.restore(state.styles) ?? [];
      if (ignored.length) tell(t("styling.ignored", ignored[0]));
      if (state.time) await options.sensors?.showTime(state.time);
      else if (twin.sensors?.mode === "history") options.sensors?.live();
    } finally {
      restoring -= 1;
    }
  }

  // --- the copy-link button ----------------------------------------------------------

  const copyButton = doc.getElementById("copy-link");
  const copyField = doc.getElementById("copy-link-field");
  const copyStatus = doc.getElementById("copy-link-status");
  let confirmTimer = 0;
  function confirm(text) {
    copyStatus.textContent = text;
    win.clearTimeout(confirmTimer);
    confirmTimer = win.setTimeout(() => (copyStatus.textContent = ""), CONFIRM_MS);
  }
  copyButton.textContent = t("share.copy");
  copyField.setAttribute("aria-label", t("share.field"));
  copyButton.addEventListener("click", async () => {
    if (status.restored && !restoring) write(current(), "replace");
    const href = win.location.href;
    copyField.value = href;
    try {
      await win.navigator.clipboard.writeText(href);
      copyField.hidden = true;
      status.copied = "clipboard";
      confirm(t("share.copied"));
    } catch {
      // No clipboard (permission, insecure context): the link, selected, to copy by hand.
      copyField.hidden = false;
      copyField.focus();
      copyField.select();
      status.copied = "field";
      confirm(t("share.selectToCopy"));
    }
  });

  return {
    /** The camera the URL asks for at start, or null (then the usual first flight). */
    startCamera() {
      const state = decodeState(win.location.hash);
      if (!state.camera) return null;
      setCamera(state.camera);
      return state.camera;
    },
    /** Once the viewer is ready: restore what the URL says, then keep the URL in step. */
    async start() {
      viewer.camera.moveEnd.addEventListener(() => {
        camera = readCamera();
        check();
      });
      camera = readCamera();
      const wanted = decodeState(win.location.hash);
      const f = wanted.filter;
      // The filter's choices exist once the catalogue has answered; the time slider needs
      // the sensors' datastreams.
      const waitFor = (done) => until(done, 15000);
      if (f.q || f.municipality || f.category || f.status) {
        await waitFor(() => twin.catalogue?.loaded || twin.catalogue?.error);
      }
      if (wanted.time) await waitFor(() => twin.sensors?.loaded || twin.sensors?.error);
      await restore(wanted);
      last = current();
      write(last, "replace");
      status.restored = true;
      win.setInterval(check, POLL_MS);
      win.addEventListener("popstate", async () => {
        const state = decodeState(win.location.hash);
        await restore(state);
        // What is shown now (an object not found is left out), and this entry marked as
        // ours again (the catalogue's own hash update clears history.state).
        write(current(), "replace");
      });
    },
  };
}
