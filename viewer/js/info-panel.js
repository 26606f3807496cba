// The side panel (a bottom sheet on phones) showing one object's rows. DOM only.
import { t } from "./strings.js";

/**
 * @param {Document} doc
 * @param {{onClose: () => void}} handlers
 */
export function createInfoPanel(doc, { onClose }) {
  const panel = doc.getElementById("info-panel");
  const title = doc.getElementById("info-title");
  const layerLine = doc.getElementById("info-layer");
  const core = doc.getElementById("info-core");
  const attributes = doc.getElementById("info-attributes");
  const noAttributes = doc.getElementById("info-no-attributes");
  const empty = doc.getElementById("info-empty");
  const emptySummary = doc.getElementById("info-empty-summary");
  const emptyRows = doc.getElementById("info-empty-rows");
  const close = doc.getElementById("info-close");
  close.addEventListener("click", () => onClose());

  function fill(dl, rows) {
    const nodes = [];
    for (const row of rows) {
      const div = doc.createElement("div");
      div.className = "row";
      div.dataset.property = row.id;
      const dt = doc.createElement("dt");
      dt.textContent = row.label;
      const dd = doc.createElement("dd");
      dd.textContent = row.text;
      if (row.missing) dd.classList.add("missing");
      div.append(dt, dd);
      nodes.push(div);
    }
    dl.replaceChildren(...nodes);
  }

  return {
    /**
   * @param {{title: string, layerTitle: string, core: Array, attributes: Array,
   *          empty: Array}} view rows as built by rows.js
   */
    show(view) {
      title.textContent = view.title;
      layerLine.textContent = view.layerTitle;
      fill(core, view.core);
      fill(attributes, view.attributes);
      noAttributes.hidden = view.attributes.length > 0 || view.empty.length > 0;
      fill(emptyRows, view.empty);
      const n = view.empty.length;
      emptySummary.textContent = t("info.empty", { count: n });
      empty.hidden = n === 0;
      panel.hidden = false;
      panel.scrollTop = 0;
    },
    hide() {
      const hadFocus = panel.contains(doc.activeElement);
      panel.hidden = true;
      return hadFocus;
    },
    get open() {
      return !panel.hidden;
    },
  };
}
