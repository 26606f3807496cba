// The map search at the top of the layer panel ("Sök i kartan"): a WAI-ARIA combobox over
// GET /api/search, results grouped by kind, and what choosing one does (fly to an object
// and select it, open a project, or mark a coordinate). The logic is in search-model.js.
// DOM, fetch and CesiumJS.
import { requestJson } from "./http.js";
import { flyToPoint } from "./map.js";
import {
  countText,
  DEBOUNCE_MS,
  debounce,
  enterChoice,
  flightRange,
  groupResults,
  moveActive,
  normaliseQuery,
  orderedResults,
  parseAnswer,
  resultLabel,
  resultSpeech,
  searchUrl,
} from "./search-model.js";
import { t } from "./strings.js";
import { waitForFeature } from "./url-sync.js";

const TIMEOUT_MS = 15000;
const MARKER_COLOR = "#d81b60";

/**
 * @param {{doc: Document, viewer, twin, notice, url: string,
 *   tilesetOf: (name) => object|undefined, showLayer: (name) => void,
 *   selectFeature: (feature) => void, openProject: (id, options) => Promise<void>}} options
 */
export function createSearch(options) {
  const { doc, viewer, twin, notice, url, tilesetOf, showLayer, selectFeature } = options;
  const win = doc.defaultView;
  const C = globalThis.Cesium;
  const form = doc.getElementById("map-search");
  const input = doc.getElementById("map-search-input");
  const list = doc.getElementById("map-search-results");
  const statusLine = doc.getElementById("map-search-status");
  const note = doc.getElementById("map-search-note");
  const clear = doc.getElementById("map-search-clear");

  const status = {
    query: "", // the query of the shown answer
    busy: false, // a request is under way
    count: 0, // results shown
    results: [], // [{kind, title, layer, id, projectId}] in list order
    open: false, // the list is shown
    active: -1, // the highlighted option, -1: none
    error: null, // the last request's error message
    unindexed: [], // layers the server could not search
    going: false, // a chosen result is being flown to / selected
    chosen: null, // the last chosen result {kind, layer, id, projectId, lon, lat, height}
    notFound: null, // {layer, id} when a chosen object was not found in its loaded tiles
    marker: null, // {lon, lat, height, label} of the coordinate marker
  };
  twin.search = status;

  let results = []; // normalised, in list order
  let controller = null;
  let pending = null; // the request for the text now in the box
  let choosing = 0; // ticket of the latest choice: a newer one stops an older
  let marker = null;

  // --- the list ------------------------------------------------------------------------

  const optionId = (i) => `map-search-opt-${i}`;

  function setOpen(open) {
    status.open = open && results.length > 0;
    list.hidden = !status.open;
    input.setAttribute("aria-expanded", String(status.open));
    if (!status.open) setActive(-1);
  }

  function setActive(index) {
    const old = list.querySelector('[aria-selected="true"]');
    old?.setAttribute("aria-selected", "false");
    old?.classList.remove("active");
    status.active = index;
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    const option = doc.getElementById(optionId(index));
    option.setAttribute("aria-selected", "true");
    option.classList.add("active");
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView?.({ block: "nearest" });
  }

  function render(answer, query) {
    results = orderedResults(answer.results);
    const groups = groupResults(answer.results);
    const nodes = groups.map((group) => {
      const box = doc.createElement("div");
      box.setAttribute("role", "group");
      box.className = "map-search-group";
      const head = doc.createElement("div");
      head.id = `map-search-group-${group.kind}`;
      head.className = "map-search-group-label";
      head.setAttribute("role", "presentation");
      head.textContent = group.label;
      box.setAttribute("aria-labelledby", head.id);
      box.append(head);
      for (const { result, index } of group.items) box.append(option(result, index));
      return box;
    });
    list.replaceChildren(...nodes);
    Object.assign(status, {
      query,
      count: results.length,
      results: results.map(({ kind, title, layer, id, projectId }) => ({
        kind,
        title,
        layer,
        id,
        projectId,
      })),
      error: null,
      unindexed: answer.unindexed,
    });
    statusLine.classList.remove("error");
    statusLine.textContent = countText(results.length, query);
    note.hidden = answer.unindexed.length === 0;
    note.textContent = note.hidden ? "" : t("search.unindexed", { layers: answer.unindexed.join(", ") });
    setOpen(doc.activeElement === input);
  }

  function option(result, index) {
    const node = doc.createElement("div");
    node.id = optionId(index);
    node.className = `map-search-option kind-${result.kind}`;
    node.setAttribute("role", "option");
    node.setAttribute("aria-selected", "false");
    node.setAttribute("aria-label", resultSpeech(result));
    const { title, detail } = resultLabel(result);
    const main = doc.createElement("span");
    main.className = "map-search-title";
    main.textContent = title;
    node.append(main);
    if (detail) {
      const sub = doc.createElement("span");
      sub.className = "map-search-detail";
      sub.textContent = detail;
      node.append(sub);
    }
    // Keep the focus in the box (the combobox pattern); a click chooses.
    node.addEventListener("pointerdown", (e) => e.preventDefault());
    node.addEventListener("click", () => choose(index));
    return node;
  }

  function showError(message) {
    results = [];
    list.replaceChildren();
    setOpen(false);
    Object.assign(status, { count: 0, results: [], error: message });
    statusLine.classList.add("error");
    statusLine.textContent = t("search.error", { message });
  }

  function reset() {
    controller?.abort();
    controller = null;
    pending = null;
    ask.cancel();
    results = [];
    list.replaceChildren();
    setOpen(false);
    Object.assign(status, { query: "", busy: false, count: 0, results: [], error: null });
    statusLine.classList.remove("error");
    statusLine.textContent = "";
    note.hidden = true;
  }

  // --- asking --------------------------------------------------------------------------

  /** Ask the server for `query`; stale answers (the text changed meanwhile) are dropped. */
  function request(query) {
    controller?.abort();
    const mine = new AbortController();
    controller = mine;
    status.busy = true;
    statusLine.classList.remove("error");
    statusLine.textContent = t("search.searching");
    const done = requestJson(searchUrl(url, query), { timeoutMs: TIMEOUT_MS, signal: mine.signal })
      .then((json) => {
        if (controller !== mine) return;
        render(parseAnswer(json), query);
      })
      .catch((err) => {
        if (controller !== mine || mine.signal.aborted) return;
        console.warn("twin: search failed", err);
        showError(err?.body?.message || err?.message || String(err));
      })
      .finally(() => {
        if (controller === mine) {
          controller = null;
          status.busy = false;
        }
      });
    pending = { query, done };
    return done;
  }

  const ask = debounce((query) => request(query), DEBOUNCE_MS, win);

  /** The answer for the box's text: asked now when the debounce is still waiting. */
  async function answerNow() {
    const query = normaliseQuery(input.value);
    if (!query) return false;
    if (pending?.query !== query) {
      ask.cancel();
      request(query);
    }
    await pending?.done;
    return status.query === query && !status.error;
  }

  function onInput() {
    removeMarker();
    const query = normaliseQuery(input.value);
    clear.hidden = input.value === "";
    if (!query) {
      reset();
      return;
    }
    if (query === status.query && !status.error && !controller) {
      setOpen(true); // back to the text of the shown answer
      return;
    }
    setOpen(false);
    if (controller && pending?.query !== query) {
      controller.abort(); // its answer would be for older text
      controller = null;
      status.busy = false;
    }
    ask(query);
  }

  // --- choosing ------------------------------------------------------------------------

  async function choose(index) {
    const result = results[index];
    if (!result) return;
    const ticket = ++choosing;
    setOpen(false);
    input.value = result.title;
    removeMarker();
    status.chosen = {
      kind: result.kind,
      layer: result.layer,
      id: result.id,
      projectId: result.projectId,
      lon: result.lon,
      lat: result.lat,
      height: result.height,
    };
    status.notFound = null;
    status.going = true;
    notice.announce(t("search.going", { what: resultSpeech(result) }));
    try {
      if (result.kind === "object") await goToObject(result, ticket);
      else if (result.kind === "project") await options.openProject(result.projectId, { fly: true });
      else await goToCoordinate(result, ticket);
    } catch (err) {
      console.error("twin: search result", err);
    } finally {
      if (ticket === choosing) status.going = false;
    }
  }

  async function goToObject(result, ticket) {
    const { layer, id } = result;
    if (twin.layers[layer] && !twin.layers[layer].shown) showLayer(layer);
    await flyToPoint(viewer, result, flightRange(result.radius));
    if (ticket !== choosing) return;
    const feature = await waitForFeature({
      tilesetOf,
      twin,
      layer,
      id,
      win,
      isCurrent: () => ticket === choosing,
    });
    if (ticket !== choosing) return;
    if (feature) {
      selectFeature(feature); // opens the info panel, announces, and the URL records `sel`
    } else {
      status.notFound = { layer, id };
      statusLine.textContent = t("search.notFound", { id, layer });
    }
  }

  async function goToCoordinate(result, ticket) {
    showMarker(result);
    await flyToPoint(viewer, result, flightRange(result.radius));
    if (ticket === choosing) viewer.scene.requestRender();
  }

  // --- the coordinate marker -----------------------------------------------------------

  function showMarker(result) {
    const position = C.Cartesian3.fromDegrees(result.lon, result.lat, result.height);
    marker = viewer.entities.add({
      position,
      point: {
        pixelSize: 12,
        color: C.Color.fromCssColorString(MARKER_COLOR),
        outlineColor: C.Color.WHITE,
        outlineWidth: 2,
        disableDepthTestDistance: Number.POSITIVE_INFINITY,
      },
      label: {
        text: result.title,
        font: "14px system-ui, sans-serif",
        fillColor: C.Color.WHITE,
        outlineColor: C.Color.BLACK,
        outlineWidth: 3,
        style: C.LabelStyle.FILL_AND_OUTLINE,
        showBackground: true,
        backgroundColor: C.Color.fromCssColorString("rgba(27,35,40,0.8)"),
        verticalOrigin: C.VerticalOrigin.BOTTOM,
        pixelOffset: new C.Cartesian2(0, -12),
        disableDepthTestDistance: Number.POSITIVE_INFINITY,
      },
    });
    status.marker = { lon: result.lon, lat: result.lat, height: result.height, label: result.title };
    viewer.scene.requestRender();
  }

  function removeMarker({ announce = false } = {}) {
    if (!marker) return false;
    viewer.entities.remove(marker);
    marker = null;
    status.marker = null;
    viewer.scene.requestRender();
    if (announce) notice.announce(t("search.markerRemoved"));
    return true;
  }

  // --- keyboard and focus --------------------------------------------------------------

  input.disabled = false; // disabled in the page until the map can fly
  input.addEventListener("input", onInput);
  input.addEventListener("keydown", async (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key;
    if (key === "Escape") {
      // The list first, then the text and the marker; only then may others use Escape.
      if (status.open) setOpen(false);
      else if (input.value) {
        input.value = "";
        clear.hidden = true;
        reset();
        removeMarker({ announce: true });
      } else if (!removeMarker({ announce: true })) return;
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    if (key === "Enter") {
      event.preventDefault();
      if (status.open && status.active >= 0) {
        choose(status.active);
        return;
      }
      const query = normaliseQuery(input.value);
      if (!query || !(await answerNow())) return;
      if (normaliseQuery(input.value) !== query) return; // typed on meanwhile
      const index = enterChoice(results, -1, query);
      if (index !== null) choose(index);
      else setOpen(true);
      return;
    }
    if (key === "ArrowDown" || key === "ArrowUp") {
      if (!status.open) {
        if (!results.length || status.query !== normaliseQuery(input.value)) return;
        setOpen(true);
      }
    } else if (!status.open) {
      return;
    }
    const next = moveActive(status.active, results.length, key);
    if (next === null) return;
    event.preventDefault();
    setActive(next);
  });
  input.addEventListener("focus", () => {
    if (results.length && status.query === normaliseQuery(input.value)) setOpen(true);
  });
  form.addEventListener("focusout", (event) => {
    if (!form.contains(event.relatedTarget)) setOpen(false);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  clear.addEventListener("click", () => {
    input.value = "";
    clear.hidden = true;
    reset();
    removeMarker({ announce: true });
    input.focus();
  });
  // Escape elsewhere also takes the coordinate marker away (others still get the key).
  doc.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && event.target !== input) removeMarker();
  });

  return {
    /** Start a search for `text` as if typed (tests and embedding pages). */
    search(text) {
      input.value = text;
      onInput();
    },
    removeMarker,
  };
}
