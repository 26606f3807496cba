// The project form's values <-> the API's ProjectIn / ProjectOut, and server validation
// errors -> a message per form field. Pure: no DOM, no Cesium.
import { t } from "./strings.js";
import { geometriesOf } from "./project-geometry.js";

/** The form's fields, in the order they appear (also the order errors are focused in). */
export const FORM_FIELDS = [
  "title_sv",
  "title_en",
  "summary_sv",
  "description",
  "municipalities",
  "categories",
  "status",
  "start_date",
  "end_date",
  "contact",
  "contact_public",
  "partners",
  "links",
  "tags",
  "testbed",
  "location",
  "public",
];

const str = (v) => (typeof v === "string" ? v : "");
const list = (v) => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);

/** Form values for a new project: the editor's first municipality, status "idea", internal. */
export function emptyForm({ municipalities = [] } = {}) {
  return {
    title_sv: "",
    title_en: "",
    summary_sv: "",
    summary_en: "",
    description: "",
    municipalities: municipalities.slice(0, 1),
    categories: [],
    status: "idea",
    start_date: "",
    end_date: "",
    contact: "",
    contact_public: false,
    partners: "",
    links: "",
    tags: "",
    testbed: false,
    public: false,
    geometries: [],
  };
}

/** Form values from a ProjectOut (editing). */
export function projectToForm(p) {
  return {
    title_sv: str(p.title_sv),
    title_en: str(p.title_en),
    summary_sv: str(p.summary_sv),
    // Not in the form (the English texts get their own later); kept so a save keeps it.
    summary_en: str(p.summary_en),
    description: str(p.description),
    municipalities: list(p.municipalities),
    categories: list(p.categories),
    status: str(p.status) || "idea",
    start_date: str(p.start_date),
    end_date: str(p.end_date),
    contact: str(p.contact),
    contact_public: Boolean(p.contact_public),
    partners: list(p.partners).join("\n"),
    links: (Array.isArray(p.links) ? p.links : [])
      .map((l) => (l.title ? `${l.title} | ${l.url}` : str(l.url)))
      .join("\n"),
    tags: list(p.tags).join(", "),
    testbed: Boolean(p.testbed),
    public: Boolean(p.public),
    geometries: geometriesOf(p.geometry),
  };
}

function lines(text) {
  return str(text)
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** "Title | https://..." or a bare URL per line. */
export function parseLinks(text) {
  return lines(text).map((line) => {
    const bar = line.lastIndexOf("|");
    if (bar < 0) return { title: "", url: line };
    return { title: line.slice(0, bar).trim(), url: line.slice(bar + 1).trim() };
  });
}

const orNull = (v) => (str(v).trim() === "" ? null : str(v).trim());

/** The ProjectIn JSON for the form's values. */
export function formToProjectIn(v) {
  return {
    title_sv: str(v.title_sv).trim(),
    title_en: orNull(v.title_en),
    summary_sv: str(v.summary_sv).trim(),
    summary_en: orNull(v.summary_en),
    description: str(v.description),
    municipalities: list(v.municipalities),
    categories: list(v.categories),
    status: str(v.status) || "idea",
    start_date: orNull(v.start_date),
    end_date: orNull(v.end_date),
    contact: orNull(v.contact),
    contact_public: Boolean(v.contact_public),
    partners: lines(v.partners),
    links: parseLinks(v.links),
    testbed: Boolean(v.testbed),
    tags: str(v.tags)
      .split(/[,\n]/)
      .map((s) => s.trim())
      .filter(Boolean),
    geometries: geometriesOf(v.geometries),
    public: Boolean(v.public),
  };
}

/** The form field an API field name or error location belongs to. */
export function fieldOf(name) {
  if (typeof name !== "string" || name === "") return null;
  const head = name.split(/[.[]/)[0];
  if (head === "geometries" || head === "geometry") return "location";
  if (head === "summary_en") return "summary_sv";
  return FORM_FIELDS.includes(head) ? head : null;
}

/** A pydantic error as Swedish text a person understands. */
export function validationMessage(error) {
  const type = str(error?.type);
  const ctx = error?.ctx || {};
  const msg = str(error?.msg).replace(/^Value error, /, "");
  if (type === "missing") return t("validation.required");
  if (type === "string_too_short") return t("validation.required");
  if (type === "too_short") return t("validation.tooFew", { min: ctx.min_length ?? 1 });
  if (type === "string_too_long") return t("validation.tooLong", { max: ctx.max_length ?? "" });
  if (type === "too_long") return t("validation.tooMany", { max: ctx.max_length ?? "" });
  if (type.startsWith("date")) return t("validation.date");
  if (type === "literal_error" || type === "enum") return t("validation.choice");
  return msg || t("validation.choice");
}

/**
 * Errors of a failed save, by form field: {fields: {name: message}, message}.
 * Understands twin's `{code, message, field}` and FastAPI's `{detail: [{loc, msg, type}]}`;
 * an error without a known field becomes the form-level message.
 */
export function errorsFromResponse(body) {
  const fields = {};
  const general = [];
  const add = (field, message) => {
    if (field) {
      if (!fields[field]) fields[field] = message;
    } else {
      general.push(message);
    }
  };
  if (Array.isArray(body?.detail)) {
    for (const err of body.detail) {
      const loc = (Array.isArray(err?.loc) ? err.loc : []).filter((x) => x !== "body");
      let field = fieldOf(typeof loc[0] === "string" ? loc[0] : "");
      const message = validationMessage(err);
      // A model-level check ("end_date is before start_date") has no field in its loc.
      if (!field && /end_date/.test(str(err?.msg))) field = "end_date";
      add(field, message);
    }
  } else if (body && typeof body === "object") {
    const message = str(body.message) || str(body.detail) || str(body.code);
    let field = fieldOf(str(body.field));
    if (!field && /end_date/.test(message)) field = "end_date";
    add(field, message);
  }
  return { fields, message: general.join(" ") };
}
