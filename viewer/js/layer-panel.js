// The layer list: a checkbox per layer, its title, object count and load state. DOM only.
import { formatNumber, t } from "./strings.js";

const ZOOM_ICON =
  '<svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 24 24" ' +
  'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">' +
  '<circle cx="12" cy="12" r="7"/><circle cx="12" cy="12" r="2"/>' +
  '<path d="M12 2v3M12 19v3M2 12h3M19 12h3"/></svg>';

/** "570 objekt" / "1,234 objects"; "" when the count is unknown. */
function countText(count) {
  if (count === null || !Number.isFinite(count) || count < 0) return "";
  return t("layers.count", { count, n: formatNumber(count) });
}

/**
 * @param {Document} doc
 * @param {{onToggle: (name: string, visible: boolean) => void,
 *          onZoom: (name: string) => void}} handlers
 */
export function createLayerPanel(doc, { onToggle, onZoom }) {
  const panel = doc.getElementById("layer-panel");
  const list = doc.getElementById("layer-list");
  const empty = doc.getElementById("layer-empty");
  const toggle = doc.getElementById("layer-panel-toggle");
  const items = new Map();

  function setExpanded(expanded) {
    toggle.setAttribute("aria-expanded", String(expanded));
    const label = t(expanded ? "layers.hide" : "layers.show");
    toggle.setAttribute("aria-label", label);
    toggle.title = label;
    panel.classList.toggle("collapsed", !expanded);
  }
  setExpanded(toggle.getAttribute("aria-expanded") !== "false"); // its label in the language
  let foldedForSheet = false; // folded by followSheets (below), to unfold after
  toggle.addEventListener("click", () => {
    foldedForSheet = false; // the reader's own choice stands
    setExpanded(toggle.getAttribute("aria-expanded") !== "true");
  });

  // On a phone a bottom sheet (the object panel, a project or sensor card, a tool's panel)
  // under the unfolded panel leaves a strip of map: the panel folds while a sheet is open
  // and unfolds when the last one closes, unless the reader folded or unfolded it
  // meanwhile. Not while the focus is in the panel (a keyboard or screen reader user
  // opened the sheet from its lists, and goes back there when it closes).
  const SHEETS = ".info-panel, .side-panel, .tools-panel";
  const narrow = () => doc.defaultView?.matchMedia?.("(max-width: 600px)").matches ?? false;
  function followSheets() {
    const open = [...doc.querySelectorAll(SHEETS)].some((sheet) => !sheet.hidden);
    if (open && narrow() && !panel.classList.contains("collapsed")) {
      if (panel.contains(doc.activeElement)) return;
      foldedForSheet = true;
      setExpanded(false);
    } else if (!open && foldedForSheet) {
      foldedForSheet = false;
      setExpanded(true);
    }
  }
  const Observer = doc.defaultView?.MutationObserver;
  if (Observer) {
    new Observer(followSheets).observe(doc.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["hidden"],
    });
  }

  function item(layer) {
    const li = doc.createElement("li");
    li.className = "layer";
    li.dataset.layer = layer.name;

    const label = doc.createElement("label");
    label.className = "layer-label";
    const box = doc.createElement("input");
    box.type = "checkbox";
    box.checked = layer.visible;
    box.name = `layer-${layer.name}`;
    box.addEventListener("change", () => onToggle(layer.name, box.checked));
    const text = doc.createElement("span");
    text.className = "layer-text";
    const title = doc.createElement("span");
    title.className = "layer-title";
    title.textContent = layer.title;
    const meta = doc.createElement("span");
    meta.className = "layer-meta";
    meta.textContent = countText(layer.featureCount);
    text.append(title, meta);
    label.append(box, text);

    const zoom = doc.createElement("button");
    zoom.type = "button";
    zoom.className = "icon-button zoom";
    zoom.setAttribute("aria-label", t("layers.zoomTo", { title: layer.title }));
    zoom.title = t("layers.zoom");
    zoom.innerHTML = ZOOM_ICON;
    zoom.addEventListener("click", () => onZoom(layer.name));

    const state = doc.createElement("span");
    state.className = "layer-state";
    li.append(label, zoom, state);
    items.set(layer.name, { li, box, zoom, state, meta });
    return li;
  }

  return {
    /** Draw the list once the config is known. */
    render(layers) {
      list.replaceChildren(...layers.map(item));
      panel.hidden = false;
      empty.hidden = layers.length > 0;
      // On a phone the list starts folded away when it would take much of the screen.
      if (narrow() && layers.length > 3) setExpanded(false);
    },
    /** status: "loading" | "ready" | "error"; message shown for errors. */
    setState(name, status, message = "") {
      const it = items.get(name);
      if (!it) return;
      it.li.dataset.state = status;
      it.state.textContent = status === "loading" ? t("layers.loading") : message;
      it.state.title = message;
      it.zoom.disabled = status !== "ready";
      it.box.disabled = status === "error";
    },
    setChecked(name, checked) {
      const it = items.get(name);
      if (it) it.box.checked = checked;
    },
  };
}
