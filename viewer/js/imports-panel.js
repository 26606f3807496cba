// The import panel's DOM: the upload form with its drop zone, the job's progress and
// report, the layers with their versions. DOM only; the logic is imports-model.js and the
// calls are imports.js. Text is always textContent.
import { el } from "./dom.js";
import { formatBytes } from "./imports-model.js";
import { t } from "./strings.js";

/**
 * @param {Document} doc
 * @param {object} on handlers: open, close, submit(form), fileChosen(file), previewJob,
 *   publishJob, cancelJob, retryJob, endPreview, togglePublic(layer, public),
 *   showVersions(layer), previewVersion(layer, row), publishVersion(layer, row),
 *   deleteVersion(layer, row)
 */
export function createImportsPanel(doc, on) {
  const $ = (id) => doc.getElementById(id);
  const panel = $("imports-panel");
  const opener = $("imports-open");
  const form = $("imports-form");
  const drop = $("imports-drop");
  const fileInput = $("imports-file");
  const chosen = $("imports-chosen");
  const submit = $("imports-submit");
  const job = $("imports-job");
  const progress = $("imports-progress");
  const progressText = $("imports-progress-text");
  const report = $("imports-report");
  const buttons = {
    preview: $("imports-job-preview"),
    publish: $("imports-job-publish"),
    cancel: $("imports-job-cancel"),
    retry: $("imports-job-retry"),
  };
  const message = $("imports-message");
  const previewBar = $("imports-preview");
  const layerList = $("imports-layers");
  const layerStatus = $("imports-layers-status");
  const names = $("imports-layer-names");
  let file = null;
  const details = new Map(); // layer name -> <details>

  opener.addEventListener("click", () => on.open());
  $("imports-close").addEventListener("click", () => on.close());
  $("imports-preview-end").addEventListener("click", () => on.endPreview());
  buttons.preview.addEventListener("click", () => on.previewJob());
  buttons.publish.addEventListener("click", () => on.publishJob());
  buttons.cancel.addEventListener("click", () => on.cancelJob());
  buttons.retry.addEventListener("click", () => on.retryJob());
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !doc.querySelector("dialog[open]")) {
      e.preventDefault();
      e.stopPropagation();
      on.close();
    }
  });

  function choose(f) {
    file = f || null;
    chosen.textContent = file ? t("imports.chosen", { name: file.name, size: formatBytes(file.size) }) : "";
    fieldError("file", null);
    if (file) on.fileChosen(file);
  }
  fileInput.addEventListener("change", () => choose(fileInput.files?.[0]));
  // The whole panel takes a dropped file (a near miss must not make the browser open it).
  for (const type of ["dragenter", "dragover"]) {
    panel.addEventListener(type, (e) => {
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
      drop.classList.add("dragging");
    });
  }
  panel.addEventListener("dragleave", (e) => {
    if (!panel.contains(e.relatedTarget)) drop.classList.remove("dragging");
  });
  panel.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("dragging");
    const f = e.dataTransfer?.files?.[0];
    if (f) choose(f);
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    on.submit(readForm());
  });

  function readForm() {
    const value = (name) => form.elements.namedItem(name)?.value ?? "";
    const checked = (name) => Boolean(form.elements.namedItem(name)?.checked);
    return {
      file,
      layer: value("layer"),
      title: value("title"),
      public: checked("public"),
      crs: value("crs"),
      axisOrder: value("axis_order"),
      lod: value("lod"),
      autoPublish: checked("auto_publish"),
    };
  }

  function fieldError(name, text) {
    const node = $(`imports-${name}-error`);
    const input = name === "file" ? fileInput : form.elements.namedItem(name === "axisOrder" ? "axis_order" : name);
    if (node) {
      node.textContent = text || "";
      node.hidden = !text;
    }
    if (input?.setAttribute) {
      if (text) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  function section(title, rows) {
    return el(doc, "section", { className: "imports-report-part" }, [el(doc, "h4", { text: title }), ...rows]);
  }

  function renderReport(view) {
    if (!view) {
      report.replaceChildren();
      return;
    }
    const dl = el(doc, "dl", { className: "rows" });
    for (const [label, text] of view.rows) {
      dl.append(el(doc, "div", { className: "row" }, [el(doc, "dt", { text: label }), el(doc, "dd", { text })]));
    }
    const types = el(doc, "dl", { className: "rows imports-types" });
    for (const [type, n] of view.types) {
      types.append(
        el(doc, "div", { className: "row", attrs: { "data-type": type } }, [
          el(doc, "dt", { text: type }),
          el(doc, "dd", { text: n }),
        ]),
      );
    }
    const skipped = view.skipped.length
      ? el(doc, "ul", { className: "imports-skipped" }, view.skipped.map((s) =>
          el(doc, "li", {}, [el(doc, "code", { text: s.id }), doc.createTextNode(` – ${s.reason}`)]),
        ))
      : el(doc, "p", { className: "muted", text: t("imports.noSkipped") });
    const parts = [
      el(doc, "h3", { className: "panel-subtitle", text: t("imports.report") }),
      dl,
      section(t("imports.types"), [types]),
      section(t("imports.skipped", { count: view.skipped.length }), [skipped]),
    ];
    if (view.warnings.length) {
      parts.push(
        section(t("imports.warnings", { count: view.warnings.length }), [
          el(doc, "ul", { className: "imports-warnings" }, view.warnings.map((w) => el(doc, "li", { text: w }))),
        ]),
      );
    }
    report.replaceChildren(...parts);
  }

  function versionItem(layer, row) {
    const text = [row.created, row.source, row.objects === null ? "" : t("imports.objects", { count: row.objects })]
      .filter(Boolean)
      .join(" · ");
    const button = (key, handler, extra = {}) => {
      const b = el(doc, "button", {
        className: "link-button",
        text: t(key),
        attrs: { type: "button", "aria-label": `${t(key)}: ${row.id}`, ...extra },
      });
      b.addEventListener("click", () => handler(layer, row));
      return b;
    };
    const actions = [button("imports.preview", on.previewVersion, { "data-action": "preview" })];
    if (row.action) {
      const key = row.action === "rollback" ? "imports.rollback" : "imports.publish";
      actions.push(button(key, on.publishVersion, { "data-action": row.action }));
    }
    if (row.deletable) actions.push(button("imports.delete", on.deleteVersion, { "data-action": "delete" }));
    return el(doc, "li", { className: "imports-version", attrs: { "data-version": row.id, "data-current": row.current } }, [
      el(doc, "span", { className: "imports-version-id" }, [
        el(doc, "code", { text: row.id }),
        row.current ? el(doc, "span", { className: "badge", text: t("imports.current") }) : null,
      ]),
      el(doc, "span", { className: "muted imports-version-meta", text }),
      el(doc, "span", { className: "imports-version-actions" }, actions),
    ]);
  }

  function layerItem(layer) {
    const box = el(doc, "input", { attrs: { type: "checkbox", name: `public-${layer.name}` } });
    box.checked = layer.public;
    box.addEventListener("change", () => on.togglePublic(layer.name, box.checked));
    const list = el(doc, "ul", { className: "imports-versions" });
    const summary = el(doc, "summary", { text: t("imports.versions", { count: layer.versions }) });
    const more = el(doc, "details", { className: "imports-layer-versions" }, [summary, list]);
    more.addEventListener("toggle", () => {
      if (more.open) on.showVersions(layer.name);
    });
    details.set(layer.name, more);
    const state = layer.current ? layer.current : t("imports.unpublished");
    return el(doc, "li", { className: "imports-layer", attrs: { "data-layer": layer.name } }, [
      el(doc, "div", { className: "imports-layer-head" }, [
        el(doc, "span", { className: "imports-layer-title", text: layer.title }),
        el(doc, "span", { className: "muted imports-layer-meta", text: `${layer.name} · ${state}` }),
      ]),
      el(doc, "label", { className: "choice" }, [box, el(doc, "span", { text: t("imports.publicToggle") })]),
      more,
    ]);
  }

  return {
    /** Show the opener (and allow the panel) only to those who manage layers. */
    setAllowed(allowed) {
      opener.hidden = !allowed;
      if (!allowed) panel.hidden = true;
    },
    get open() {
      return !panel.hidden;
    },
    show() {
      panel.hidden = false;
      opener.setAttribute("aria-expanded", "true");
      fileInput.focus({ preventScroll: true });
    },
    hide() {
      const hadFocus = panel.contains(doc.activeElement);
      panel.hidden = true;
      opener.setAttribute("aria-expanded", "false");
      if (hadFocus && !opener.hidden) opener.focus();
    },
    readForm,
    /** Prefill the form (a retry, a suggested name): only the fields given. */
    fill(values) {
      for (const [name, value] of Object.entries(values)) {
        const input = form.elements.namedItem(name);
        if (!input) continue;
        if (input.type === "checkbox") input.checked = Boolean(value);
        else input.value = value;
      }
    },
    setFile: choose,
    showErrors(errors) {
      for (const name of ["file", "layer", "crs", "lod", "axisOrder"]) fieldError(name, errors[name]);
      const first = Object.keys(errors)[0];
      if (first) (first === "file" ? fileInput : form.elements.namedItem(first === "axisOrder" ? "axis_order" : first))?.focus();
    },
    setBusy(busy) {
      submit.disabled = busy;
    },
    /** The job section: title, progress {value, text, failed}, report view, buttons shown. */
    showJob({ title, progress: p, view, actions }) {
      job.hidden = false;
      $("imports-job-title").textContent = title;
      progress.value = p.value;
      progress.dataset.state = p.state;
      progressText.textContent = p.text;
      progressText.classList.toggle("error", p.failed);
      renderReport(view);
      for (const [name, b] of Object.entries(buttons)) b.hidden = !actions.includes(name);
    },
    /** Bring the job section into view (on a phone it is below the form). */
    revealJob() {
      job.scrollIntoView?.({ block: "nearest" });
    },
    message(text, { error = false } = {}) {
      message.textContent = text || "";
      message.classList.toggle("error", error);
    },
    setPreview(text) {
      previewBar.hidden = !text;
      $("imports-preview-text").textContent = text || "";
    },
    renderLayers(layers, { error = null } = {}) {
      details.clear();
      if (error) {
        layerStatus.textContent = t("imports.loadError", { message: error });
        return;
      }
      layerStatus.textContent = layers.length ? "" : t("imports.noLayers");
      layerList.replaceChildren(...layers.map(layerItem));
      names.replaceChildren(...layers.map((l) => el(doc, "option", { attrs: { value: l.name } })));
    },
    isExpanded: (layer) => Boolean(details.get(layer)?.open),
    expand(layer) {
      const d = details.get(layer);
      if (d && !d.open) d.open = true; // its toggle event loads the versions
    },
    renderVersions(layer, rows) {
      const list = details.get(layer)?.querySelector(".imports-versions");
      list?.replaceChildren(...rows.map((row) => versionItem(layer, row)));
    },
  };
}
