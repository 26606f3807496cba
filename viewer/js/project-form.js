// The project form (a side panel; a sheet on phones): fill, read, inline errors, place.
// DOM only; the mapping to the API is project-form-model.js.
import { STATUSES } from "./catalogue-query.js";
import { el, setOptions } from "./dom.js";
import { FORM_FIELDS } from "./project-form-model.js";
import { pointOf } from "./project-geometry.js";
import { t } from "./strings.js";

const TEXT_FIELDS = ["title_sv", "title_en", "summary_sv", "description", "status", "start_date",
  "end_date", "contact", "partners", "links", "tags"];
const CHECK_FIELDS = ["contact_public", "testbed", "public"];

/**
 * @param {Document} doc
 * @param {{onSubmit: (values) => void, onClose: () => void, onPlace: () => void,
 *          onReload: () => void, onLocationChange: (geometries) => void}} handlers
 */
export function createProjectForm(doc, handlers) {
  const panel = doc.getElementById("form-panel");
  const form = doc.getElementById("project-form");
  const title = doc.getElementById("form-title");
  const message = doc.getElementById("form-message");
  const messageText = doc.getElementById("form-message-text");
  const reload = doc.getElementById("form-reload");
  const save = doc.getElementById("form-save");
  const place = doc.getElementById("f-place");
  const clear = doc.getElementById("f-clear-location");
  const locationText = doc.getElementById("f-location-text");
  const municipalities = doc.getElementById("f-municipalities");
  const categories = doc.getElementById("f-categories");
  const input = (name) => doc.getElementById(`f-${name}`);
  let geometries = [];
  let kept = {}; // values the form has no field for (summary_en), sent back unchanged

  setOptions(doc, input("status"), STATUSES.map((s) => ({ value: s, text: t(`status.${s}`) })));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    handlers.onSubmit(read());
  });
  doc.getElementById("form-close").addEventListener("click", () => handlers.onClose());
  doc.getElementById("form-cancel").addEventListener("click", () => handlers.onClose());
  reload.addEventListener("click", () => handlers.onReload());
  place.addEventListener("click", () => handlers.onPlace());
  clear.addEventListener("click", () => setGeometries(geometries.filter((g) => g.type !== "Point")));

  function checkboxes(container, name, options, checked) {
    container.replaceChildren(
      ...options.map((o) => {
        const id = `f-${name}-${o.value}`;
        const box = el(doc, "input", { attrs: { type: "checkbox", id, name, value: o.value } });
        box.checked = checked.includes(o.value);
        return el(doc, "div", { className: "choice" }, [
          box,
          el(doc, "label", { text: o.text, attrs: { for: id } }),
        ]);
      }),
    );
  }

  function setGeometries(list) {
    geometries = list;
    const point = pointOf(list);
    const others = list.filter((g) => g.type !== "Point").length;
    const parts = [];
    if (point) {
      const [lon, lat, h] = point;
      parts.push(t("form.point", {
        lon: lon.toFixed(5),
        lat: lat.toFixed(5),
        height: point.length === 3 ? h.toFixed(1) : null,
      }));
    } else if (!others) {
      parts.push(t("form.noLocation"));
    }
    if (others) parts.push(t("form.otherShapes", { count: others }));
    locationText.textContent = parts.join(" ");
    place.textContent = point ? t("form.move") : t("form.place");
    clear.hidden = !point;
    handlers.onLocationChange(list);
  }

  function read() {
    const values = { ...kept, geometries };
    for (const name of TEXT_FIELDS) values[name] = input(name).value;
    for (const name of CHECK_FIELDS) values[name] = input(name).checked;
    const picked = (c) => [...c.querySelectorAll("input:checked")].map((b) => b.value);
    values.municipalities = picked(municipalities);
    values.categories = picked(categories);
    return values;
  }

  function clearErrors() {
    message.hidden = true;
    reload.hidden = true;
    for (const node of form.querySelectorAll(".field-error")) node.remove();
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    for (const node of form.querySelectorAll(".field.invalid")) node.classList.remove("invalid");
  }

  return {
    /**
     * @param {object} values form values (project-form-model.js)
     * @param {{editing: boolean, municipalities: {value, text}[], categories: {value, text}[]}} ctx
     */
    open(values, ctx) {
      clearErrors();
      kept = { summary_en: values.summary_en ?? "" };
      title.textContent = ctx.editing ? t("form.titleEdit") : t("form.titleNew");
      for (const name of TEXT_FIELDS) input(name).value = values[name] ?? "";
      for (const name of CHECK_FIELDS) input(name).checked = Boolean(values[name]);
      checkboxes(municipalities, "municipalities", ctx.municipalities, values.municipalities);
      checkboxes(categories, "categories", ctx.categories, values.categories);
      setGeometries(values.geometries || []);
      save.disabled = false;
      save.textContent = t("form.save");
      panel.hidden = false;
      panel.scrollTop = 0;
      input("title_sv").focus({ preventScroll: true });
    },
    read,
    setGeometries,
    get geometries() {
      return geometries;
    },
    busy(isBusy) {
      save.disabled = isBusy;
      save.textContent = isBusy ? t("form.saving") : t("form.save");
    },
    /** Inline errors {field: message} plus a form-level message; focuses the first. */
    showErrors(fields, text, { conflict = false } = {}) {
      clearErrors();
      let first = null;
      for (const name of FORM_FIELDS) {
        if (!fields[name]) continue;
        const wrap = form.querySelector(`.field[data-field="${name}"]`);
        if (!wrap) continue;
        const id = `err-${name}`;
        wrap.classList.add("invalid");
        wrap.append(el(doc, "p", { className: "field-error", text: fields[name], attrs: { id } }));
        const control = wrap.querySelector("input, textarea, select, button");
        if (control) {
          control.setAttribute("aria-invalid", "true");
          control.setAttribute("aria-describedby", id);
          first = first || control;
        }
      }
      messageText.textContent = text || t("form.invalid");
      message.hidden = false;
      reload.hidden = !conflict;
      (conflict ? reload : first || message).focus?.({ preventScroll: false });
      if (!first) panel.scrollTop = 0;
    },
    clearErrors,
    /** Hidden while the user places the project on the map, shown again afterwards. */
    setPlacing(placing) {
      panel.classList.toggle("placing", placing);
    },
    close() {
      clearErrors();
      panel.hidden = true;
      panel.classList.remove("placing");
    },
    get isOpen() {
      return !panel.hidden;
    },
  };
}
