// The import panel for GIS staff and administrators: upload → follow the job → read the
// report → preview the new version in the scene → publish; layers, versions, roll back.
// The server decides who may do what; this only hides the panel from everyone else.
// Readiness for tests: window.twin.imports (see viewer/README.md).
import { createImportsApi, followJob } from "./imports-api.js";
import {
  canManageLayers,
  progressOf,
  reportView,
  suggestLayerName,
  uploadFields,
  versionRows,
} from "./imports-model.js";
import { createImportsPanel } from "./imports-panel.js";
import { flyToData, loadTileset } from "./map.js";
import { t } from "./strings.js";

/**
 * @param {{viewer, config, notice, twin, refreshLayers: () => Promise<void>}} options
 *   refreshLayers: bring the scene's layers in step with the published ones
 */
export function createImports({ viewer, config, notice, twin, refreshLayers }) {
  const doc = document;
  const api = createImportsApi(config.api);
  const status = { allowed: false, open: false, job: null, preview: null, layers: [], error: null };
  twin.imports = status;
  let follow = null; // stops following the current job
  let upload = null; // {abort} of the upload being sent
  let last = null; // {file, form} of the latest upload, for a retry
  let previewTileset = null;
  let token = 0; // counts user changes, so late answers for a former user are dropped

  const panel = createImportsPanel(doc, {
    open: () => show(),
    close: () => hide(),
    submit: (form) => send(form),
    fileChosen: (file) => {
      const form = panel.readForm();
      if (!form.layer) panel.fill({ layer: suggestLayerName(file.name) });
    },
    previewJob: () => status.job?.version && preview(status.job.layer, status.job.version),
    publishJob: () => act(() => publishJob()),
    cancelJob: () => act(async () => showJob(await api.cancelJob(status.job.id))),
    retryJob: () => last && send(last.form, last.file),
    endPreview: () => endPreview(),
    togglePublic: (layer, pub) => act(async () => {
      await api.patchLayer(layer, { public: pub });
      await loadLayers();
    }),
    showVersions: (layer) => loadVersions(layer),
    previewVersion: (layer, row) => preview(layer, row.id, row.tilesetUrl),
    publishVersion: (layer, row) => act(async () => {
      await api.publishVersion(layer, row.id);
      say(t(row.action === "rollback" ? "imports.rolledBack" : "imports.published", { layer, version: row.id }));
      await afterPublish(layer);
    }),
    deleteVersion: (layer, row) => {
      if (!globalThis.confirm(t("imports.confirmDelete", { layer, version: row.id }))) return;
      act(async () => {
        if (status.preview?.version === row.id) endPreview();
        await api.deleteVersion(layer, row.id);
        say(t("imports.deleted", { version: row.id }));
        await Promise.all([loadLayers(), loadVersions(layer)]);
      });
    },
  });

  function say(text, { error = false } = {}) {
    panel.message(text, { error });
    notice.announce(text);
  }

  /** Run an action; its failure is said in the panel, never thrown. */
  async function act(fn) {
    try {
      await fn();
    } catch (err) {
      say(t("imports.actionFailed", { message: err?.message || err }), { error: true });
    }
  }

  /** The logged-in user changed (the catalogue's login and logout). */
  async function setUser(user) {
    const ticket = ++token;
    status.allowed = canManageLayers(user);
    panel.setAllowed(status.allowed);
    if (!status.allowed) {
      follow?.();
      upload?.abort();
      endPreview();
      Object.assign(status, { open: false, job: null, layers: [] });
      return;
    }
    try {
      await api.me(); // the session's CSRF token for uploads and changes
    } catch (err) {
      console.warn(`twin: imports: ${err?.message || err}`);
    }
    if (ticket === token && status.open) await loadLayers();
  }

  function show() {
    panel.show();
    status.open = true;
    loadLayers();
  }

  function hide() {
    panel.hide();
    status.open = false;
  }

  async function loadLayers() {
    const ticket = token;
    try {
      const layers = await api.managedLayers();
      if (ticket !== token) return;
      status.layers = layers.map((l) => ({ name: l.name, current: l.current, public: l.public, versions: l.versions }));
      status.error = null;
      const open = layers.filter((l) => panel.isExpanded(l.name)).map((l) => l.name);
      panel.renderLayers(layers);
      for (const name of open) panel.expand(name);
    } catch (err) {
      status.error = err?.message || String(err);
      panel.renderLayers([], { error: status.error });
    }
  }

  async function loadVersions(layer) {
    try {
      panel.renderVersions(layer, versionRows(await api.versions(layer)));
    } catch (err) {
      say(t("imports.actionFailed", { message: err?.message || err }), { error: true });
    }
  }

  function actionsFor(job) {
    if (job.state === "queued") return ["cancel"];
    if (job.state === "succeeded") return ["preview", "publish"];
    if (job.state === "published") return ["preview"];
    if (job.state === "failed" && last) return ["retry"];
    return [];
  }

  function showJob(job) {
    status.job = {
      id: job.id,
      layer: job.layer,
      state: job.state,
      stage: job.stage,
      percent: job.percent,
      version: job.version,
      error: job.error,
      featureCount: job.report?.feature_count ?? null,
      types: job.report?.types ?? null,
    };
    panel.showJob({
      title: t("imports.job", { source: job.source, layer: job.layer }),
      progress: progressOf(job),
      view: reportView(job.report),
      actions: actionsFor(job),
    });
  }

  /** Upload (or upload again, for a retry) and follow the job to its end. */
  async function send(form, file = form.file) {
    const checked = uploadFields({ ...form, file, isNew: !status.layers.some((l) => l.name === form.layer.trim()) });
    panel.showErrors(checked.errors || {});
    if (checked.errors) return;
    follow?.();
    last = { file, form: { ...form, file } };
    panel.setBusy(true);
    panel.message("");
    const onProgress = (fraction) =>
      panel.showJob({
        title: file.name,
        progress: progressOf(null, { uploading: fraction }),
        view: null,
        actions: [],
      });
    onProgress(0);
    panel.revealJob();
    status.job = { state: "uploading" };
    let job;
    try {
      if (!api.csrfToken) await api.me();
      upload = api.upload(checked.layer, file, checked.fields, onProgress);
      job = await upload.promise;
    } catch (err) {
      const message = err?.message || String(err);
      status.job = { state: "upload_failed", error: { code: err?.body?.code || "upload_failed", message } };
      panel.showJob({
        title: file.name,
        progress: { value: 0, state: "failed", failed: true, text: t("imports.uploadFailed", { message }) },
        view: null,
        actions: ["retry"],
      });
      return;
    } finally {
      upload = null;
      panel.setBusy(false);
    }
    showJob(job);
    loadLayers();
    follow = followJob(api, job.id, (next) => {
      showJob(next);
      if (next.state === "succeeded" || next.state === "failed") loadLayers();
      if (next.state === "published") afterPublish(next.layer);
      if (next.state === "failed") notice.announce(progressOf(next).text);
    });
  }

  async function publishJob() {
    const job = await api.publishJob(status.job.id);
    showJob(job);
    say(t("imports.published", { layer: job.layer, version: job.version }));
    await afterPublish(job.layer);
  }

  async function afterPublish(layer) {
    if (status.preview?.layer === layer) endPreview();
    await Promise.all([refreshLayers(), loadLayers(), panel.isExpanded(layer) ? loadVersions(layer) : null]);
  }

  /** Show a version (published or not) as a temporary layer and fly to it. */
  async function preview(layer, version, url = null) {
    endPreview();
    const state = { layer, version, loaded: false, error: null };
    status.preview = state;
    panel.setPreview(t("imports.previewing", { layer, version }));
    try {
      const tilesetUrl = url || versionRows(await api.versions(layer)).find((v) => v.id === version)?.tilesetUrl;
      if (!tilesetUrl) throw new Error(`no version ${version}`);
      const tileset = await loadTileset(viewer, { tilesetUrl, visible: true });
      if (status.preview !== state || !tileset) {
        if (tileset) viewer.scene.primitives.remove(tileset);
        return;
      }
      previewTileset = tileset;
      state.loaded = true;
      Object.defineProperty(state, "tilesLoaded", { get: () => tileset.tilesLoaded, enumerable: true });
      notice.announce(t("imports.previewing", { layer, version }));
      await flyToData(viewer, [tileset], null);
    } catch (err) {
      state.error = err?.message || String(err);
      panel.setPreview(t("imports.previewFailed", { message: state.error }));
    }
  }

  function endPreview() {
    if (previewTileset && !viewer.isDestroyed()) viewer.scene.primitives.remove(previewTileset);
    previewTileset = null;
    status.preview = null;
    panel.setPreview(null);
    if (!viewer.isDestroyed()) viewer.scene.requestRender();
  }

  return { setUser };
}
