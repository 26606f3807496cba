// The catalogue in the viewer: filter -> /api/projects -> list, legend and map in step;
// the project card; deep links (#project=<id>). Editing is catalogue-editor.js.
// Readiness for tests: window.twin.catalogue, .user, .selectedProject.
import { createCatalogueApi } from "./catalogue-api.js";
import { createCatalogueLayer } from "./catalogue-layer.js";
import { createCataloguePanel } from "./catalogue-panel.js";
import { hashWithProject, projectFromLocation } from "./catalogue-query.js";
import { demoLabel, legendEntries, projectColor } from "./catalogue-style.js";
import { createCatalogueEditor } from "./catalogue-editor.js";
import { applyStrings } from "./dom.js";
import { flyToData } from "./map.js";
import { anchorOf, flightExtent, heightRange } from "./project-geometry.js";
import { createProjectCard } from "./project-card.js";
import { clientPosition } from "./placement.js";
import { localName, t } from "./strings.js";
import { hasCamera } from "./url-state.js";
import { canEdit, isStaff, mergeStale, monthsSince, stewardCodes } from "./user.js";

/**
 * @param {{viewer, config, notice, twin, whenReady: Promise, onOpen: () => void}} options
 *   onOpen: a project card opened (the object panel should close)
 */
export function createCatalogue({ viewer, config, notice, twin, whenReady, onOpen }) {
  const doc = document;
  applyStrings(doc.body);
  const api = createCatalogueApi(config.api);
  const state = {
    municipalities: [],
    categories: [],
    user: null,
    filter: {},
    projects: [],
    open: null,
  };
  const status = {
    loaded: false,
    count: 0,
    total: 0,
    shown: [],
    pins: [],
    error: null,
    flying: false,
    stale: null, // ids in the steward list ("Att granska"); null when not shown or loading
  };
  twin.catalogue = status;
  twin.user = null;
  twin.selectedProject = null;
  let query = null; // AbortController of the running list query
  let opening = 0; // counts card requests, so a late answer never replaces a newer card
  let stewardQuery = null; // AbortController of the running steward-list load

  const municipalityName = (code) => {
    const m = state.municipalities.find((x) => x.code === code);
    return m ? demoLabel(m) : code;
  };
  const categoryName = (key) => localName(state.categories.find((c) => c.key === key)) || key;
  const colorOf = (p) => projectColor(p, state.categories);
  const layer = createCatalogueLayer(viewer, { colorOf });

  const panel = createCataloguePanel(doc, {
    onFilter: (filter) => refresh(filter),
    onOpen: (id) => open(id, { fly: true }),
    onRetry: () => (state.categories.length ? refresh() : start()),
    onLogin: () => editor.login(),
    onLogout: () => editor.logout(),
    onAdd: () => editor.create(),
    onReview: (id) => review(id),
  });
  const card = createProjectCard(doc, {
    onClose: () => close(),
    onEdit: (p) => editor.edit(p),
    onZoom: (p) => fly(p),
    onReview: (p) => review(p.id),
  });
  const editor = createCatalogueEditor({
    viewer,
    api,
    layer,
    notice,
    state,
    setUser,
    afterAuthChange: async () => {
      await refresh();
      if (state.open) await open(state.open.id);
    },
    afterSave: async (project) => {
      await refresh();
      await open(project.id, { fly: false });
      loadStale();
    },
  });

  function setUser(user) {
    state.user = user;
    twin.user = user ? { email: user.email, name: user.name, isAdmin: user.isAdmin, editorOf: user.editorOf, gisOf: user.gisOf } : null;
    panel.setUser(user, { canAdd: editor.canCreate() });
    loadStale();
  }

  /** The steward list: every edited municipality's stale projects, once each. */
  async function loadStale() {
    stewardQuery?.abort();
    status.stale = null;
    const codes = stewardCodes(state.user, state.municipalities);
    if (!codes.length) {
      stewardQuery = null;
      panel.renderSteward(null);
      return;
    }
    const controller = new AbortController();
    stewardQuery = controller;
    panel.renderSteward({ loading: true });
    try {
      const answers = await Promise.all(codes.map((c) => api.staleProjects(c, controller.signal)));
      if (controller.signal.aborted) return;
      const projects = mergeStale(answers);
      panel.renderSteward({ projects, months: answers.find((a) => Number.isFinite(a?.months))?.months ?? null });
      status.stale = projects.map((p) => p.id);
    } catch (err) {
      if (controller.signal.aborted) return;
      panel.renderSteward({ error: err?.message || String(err) });
      console.warn(`twin: steward list: ${err?.message || err}`);
    }
  }

  /** "Fortfarande aktuellt": mark reviewed, then the card and the steward list in step. */
  async function review(id) {
    let project;
    try {
      project = await api.reviewProject(id);
    } catch (err) {
      const message = t("card.reviewError", { message: err?.message || err });
      if (state.open?.id === id) showCard(state.open, { text: message, error: true });
      else panel.stewardError(id, message);
      return;
    }
    if (state.open?.id === id && project && project.id === id) {
      const hadFocus = doc.getElementById("project-card").contains(doc.activeElement);
      showCard(project, { text: t("card.reviewed") });
      if (hadFocus) doc.getElementById("card-review")?.focus({ preventScroll: true });
    }
    notice.announce(t("card.reviewed"));
    await loadStale();
  }

  /** Show a loaded project in the card (and remember it as the open one). */
  function showCard(project, message = null) {
    card.show(project, {
      municipalityName,
      categoryName,
      colorOf,
      imageUrl: api.imageUrl,
      canEdit: canEdit(state.user, project),
      staff: isStaff(state.user, project),
      // Counted as the server does: since the last review, else since creation.
      staleMonths: monthsSince(project.last_reviewed_at || project.created_at),
      hasLocation: Boolean(anchorOf(project.geometry, project.bbox)),
      message,
    });
    state.open = project;
    twin.selectedProject = {
      id: project.id,
      version: project.version,
      title: project.title_sv,
      public: project.public,
    };
  }

  async function refresh(filter = state.filter) {
    state.filter = filter;
    query?.abort();
    const controller = new AbortController();
    query = controller;
    panel.loading();
    try {
      const page = await api.listProjects(filter, controller.signal);
      if (controller.signal.aborted) return;
      const projects = Array.isArray(page?.items) ? page.items : [];
      state.projects = projects;
      layer.setProjects(projects);
      layer.select(twin.selectedProject?.id ?? null);
      panel.render({
        projects,
        total: Number.isFinite(page?.total) ? page.total : projects.length,
        legendRows: legendEntries(projects, state.categories, { noCategoryName: t("catalogue.noCategory") }),
        colorOf,
        categoryName,
        municipalityName,
        user: state.user,
      });
      panel.markOpen(twin.selectedProject?.id ?? null);
      Object.assign(status, {
        loaded: true,
        error: null,
        count: projects.length,
        total: Number.isFinite(page?.total) ? page.total : projects.length,
        shown: projects.map((p) => p.id),
        pins: projects.filter((p) => layer.hasPin(p.id)).map((p) => p.id),
      });
    } catch (err) {
      if (controller.signal.aborted) return;
      status.error = err?.message || String(err);
      panel.showError(status.error);
      console.error(`twin: catalogue: ${status.error}`);
    }
  }

  async function fly(project) {
    const extent = flightExtent(project);
    if (!extent) return;
    status.flying = true;
    try {
      await flyToData(viewer, [], extent, heightRange(project), { duration: 1.2 });
    } finally {
      status.flying = false;
    }
  }

  function setHash(id) {
    const next = hashWithProject(location.hash, id);
    if (next !== location.hash && !(next === "" && location.hash === "")) {
      history.replaceState(null, "", `${location.pathname}${location.search}${next}`);
    }
  }

  /** Open a project's card (fetching the current version); fly to it when asked. */
  async function open(id, { fly: doFly = false } = {}) {
    const ticket = ++opening;
    let project;
    try {
      project = await api.getProject(id);
    } catch (err) {
      if (ticket !== opening) return;
      card.showError(err?.status === 404 ? t("card.notFound") : t("card.loadError", { message: err?.message || err }));
      twin.selectedProject = null;
      return;
    }
    if (ticket !== opening) return;
    onOpen?.();
    showCard(project);
    layer.select(project.id);
    panel.markOpen(project.id);
    setHash(project.id);
    notice.announce(project.title_sv);
    if (doFly) await fly(project);
  }

  function close() {
    opening++;
    const hadFocus = card.hide();
    layer.select(null);
    panel.markOpen(null);
    twin.selectedProject = null;
    state.open = null;
    setHash(null);
    if (hadFocus) doc.getElementById("map").focus();
  }

  async function start() {
    const sharedView = hasCamera(location.hash); // read before url-sync.js rewrites the hash
    panel.loading();
    let lists;
    try {
      lists = await Promise.all([api.municipalities(), api.categories()]);
    } catch (err) {
      status.error = err?.message || String(err);
      doc.getElementById("catalogue").hidden = false;
      panel.showError(status.error);
      return;
    }
    state.municipalities = Array.isArray(lists[0]) ? lists[0] : [];
    state.categories = Array.isArray(lists[1]) ? lists[1] : [];
    panel.setChoices(state);
    setUser(await editor.whoAmI());
    await refresh(panel.filter());
    const linked = projectFromLocation(location);
    if (linked !== null) {
      await open(linked);
      // Fly once the viewer's own first flight is over, so it does not cancel ours.
      await whenReady;
      if (sharedView) return; // a shared view: its camera, not a flight
      if (twin.selectedProject?.id === linked && state.open) await fly(state.open);
    }
  }

  addEventListener("hashchange", () => {
    if (history.state?.twin) return; // back or forward: url-sync.js restores the view
    const id = projectFromLocation(location);
    if (id !== null && id !== twin.selectedProject?.id) open(id, { fly: true });
  });
  doc.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    if (editor.placing) {
      e.preventDefault();
      editor.cancelPlacing();
    } else if (card.open && !editor.open && !doc.querySelector("dialog[open]")) {
      e.preventDefault();
      close();
    }
  });

  // Test and embedding helpers (not enumerable: JSON.stringify(twin.catalogue) stays small).
  Object.defineProperty(status, "screenPosition", {
    enumerable: false,
    value: (id) => {
      const p = clientPosition(viewer, layer.pinPosition(id));
      return p && { x: p.x, y: p.y - 18 }; // the middle of the pin, above its tip
    },
  });
  Object.defineProperty(status, "hitAt", {
    enumerable: false,
    value: (clientX, clientY) => {
      const rect = viewer.canvas.getBoundingClientRect();
      const at = new globalThis.Cesium.Cartesian2(clientX - rect.left, clientY - rect.top);
      const hit = layer.interpret(viewer.scene.pick(at));
      return hit && (hit.project !== undefined ? { project: hit.project } : { cluster: hit.cluster });
    },
  });
  Object.defineProperty(status, "open", { enumerable: false, value: (id) => open(id, { fly: true }) });
  Object.defineProperty(status, "refresh", { enumerable: false, value: () => refresh() });

  return {
    start,
    close,
    openProject: (id, options) => open(id, options),
    /** The listed projects (the map shows exactly these) and a municipality's name. */
    get projects() {
      return state.projects;
    },
    municipalityName,
    get placing() {
      return editor.placing;
    },
    get cardOpen() {
      return card.open;
    },
    /**
     * A click on the canvas: true when the catalogue took it (placing, a pin, a cluster).
     * A project's area does not take it: the object beneath comes first (clickArea).
     */
    click(position, picked) {
      if (editor.placing) {
        editor.placeAt(position, picked);
        return true;
      }
      const hit = layer.interpret(picked);
      if (!hit || hit.pin === false) return false;
      if (hit.project !== undefined) open(hit.project);
      else layer.flyToEntities(hit.entities);
      return true;
    },
    /** A click on a project's line or area with no object beneath: open the project. */
    clickArea(picked) {
      const hit = layer.interpret(picked);
      if (hit?.project === undefined) return false;
      open(hit.project);
      return true;
    },
    /** What the pointer is over: "pin" (pins, clusters), "area" or null. */
    hover(picked) {
      const hit = layer.interpret(picked);
      if (!hit) return null;
      return hit.pin === false ? "area" : "pin";
    },
  };
}
