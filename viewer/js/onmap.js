// "På kartan": a text list of what the 3D map shows, the canvas's accessible alternative.
// A disclosure button under the layer list; the list is built only when opened, then
// follows the layers, the catalogue's list (filters) and the sensors' values. Each row is
// a button that flies to the layer, or opens the project's or sensor's card. Only the
// counts line is a live region. Rows come from onmap-model.js. DOM only.
import { el } from "./dom.js";
import { onMapModel } from "./onmap-model.js";
import { t } from "./strings.js";

/**
 * @param {Document} doc
 * @param {{layers: () => object[], projects: () => object[], things: () => object[],
 *          municipalityName?: (code: string) => string,
 *          open: {layer: (name) => void, project: (id) => void, sensor: (key) => void},
 *          status?: object}} options status: an object to keep {open, counts, rows} in
 *          (window.twin.onMap, for tests)
 */
export function createOnMap(doc, { layers, projects, things, municipalityName, open, status = {} }) {
  const toggle = el(doc, "button", {
    className: "button secondary onmap-toggle",
    text: t("onmap.open"),
    attrs: { type: "button", id: "onmap-toggle", "aria-expanded": "false", "aria-controls": "onmap" },
  });
  const counts = el(doc, "p", {
    className: "muted onmap-counts",
    attrs: { id: "onmap-counts", "aria-live": "polite" },
  });
  const body = el(doc, "div", { className: "onmap-body" });
  const section = el(
    doc,
    "section",
    { className: "onmap", attrs: { id: "onmap", "aria-labelledby": "onmap-heading", hidden: true } },
    [
      el(doc, "h2", { className: "panel-subtitle", text: t("onmap.heading"), attrs: { id: "onmap-heading" } }),
      el(doc, "p", { className: "muted onmap-intro", text: t("onmap.intro") }),
      counts,
      body,
    ],
  );
  // Under the layer list, before the import button and the catalogue.
  const after = doc.getElementById("layer-empty") || doc.getElementById("layer-list");
  after.after(toggle, section);

  Object.assign(status, { open: false, counts: null, rows: null });
  let pending = 0;

  function row(r) {
    const button = el(
      doc,
      "button",
      {
        className: "onmap-item",
        attrs: { type: "button", "data-kind": r.kind, "data-key": r.key, "data-state": r.state },
      },
      [
        el(doc, "span", { className: "onmap-title", text: r.title }),
        el(doc, "span", { className: "onmap-detail", text: r.detail }),
      ],
    );
    button.addEventListener("click", () => open[r.kind]?.(r.kind === "project" ? Number(r.key) : r.key));
    return el(doc, "li", {}, [button]);
  }

  function render() {
    pending = 0;
    if (!status.open) return;
    const model = onMapModel({
      layers: layers(),
      projects: projects(),
      things: things(),
      municipalityName,
    });
    // Keep the keyboard where it was: the same row after the list is rebuilt.
    const focused = doc.activeElement?.closest?.(".onmap-item");
    const focusKey = focused && body.contains(focused) ? [focused.dataset.kind, focused.dataset.key] : null;
    body.replaceChildren(
      ...model.sections.map((s) =>
        el(doc, "div", { className: "onmap-section", attrs: { "data-kind": s.kind } }, [
          el(doc, "h3", { className: "onmap-heading", text: `${s.heading} (${s.rows.length})` }),
          s.rows.length
            ? el(doc, "ul", { className: "onmap-list" }, s.rows.map(row))
            : el(doc, "p", { className: "muted", text: t("onmap.none") }),
        ]),
      ),
    );
    if (focusKey) {
      const again = [...body.querySelectorAll(".onmap-item")].find(
        (b) => b.dataset.kind === focusKey[0] && b.dataset.key === focusKey[1],
      );
      (again || toggle).focus({ preventScroll: true });
    }
    // Only a change of the counts is announced, not every new sensor value.
    if (counts.textContent !== model.counts) counts.textContent = model.counts;
    status.counts = model.counts;
    status.rows = Object.fromEntries(model.sections.map((s) => [s.kind, s.rows.map((r) => r.key)]));
  }

  /** Something on the map changed: redraw once, soon, if the list is open. */
  function refresh() {
    if (!status.open || pending) return;
    pending = requestAnimationFrame(render);
  }

  function setOpen(opened) {
    status.open = opened;
    toggle.setAttribute("aria-expanded", String(opened));
    section.hidden = !opened;
    if (opened) render();
    else {
      body.replaceChildren();
      status.rows = null;
    }
  }
  toggle.addEventListener("click", () => setOpen(!status.open));

  // The panels' own lists change with the filter, a reload or a new value: follow them.
  const watched = ["project-list", "sensor-list", "layer-list"];
  const observer = new MutationObserver(refresh);
  for (const id of watched) {
    const node = doc.getElementById(id);
    if (node) observer.observe(node, { childList: true, subtree: true, characterData: true });
  }

  return { refresh, setOpen };
}
