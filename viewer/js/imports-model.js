// The import panel's logic: who sees it, the upload form's fields, a job's progress and
// its report as rows of text, the version list. Pure: no DOM, no Cesium.
import { locale as currentLocale, t } from "./strings.js";

/** The server's rule for layer names (twin/store.py NAME). */
export const LAYER_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Job states after which nothing changes any more. */
export const TERMINAL = new Set(["succeeded", "published", "failed"]);
/** The stages a running job goes through, in order (twin/jobs/convert_job.py). */
export const STAGES = ["queued", "starting", "converting", "validating", "publishing", "done"];
const NUMBER = new Intl.NumberFormat(currentLocale);

export { canManageLayers } from "./user.js";

/** A URL template of /api/config (`/api/imports/{id}`) with its `{names}` filled in. */
export function fillUrl(template, vars) {
  return String(template).replace(/\{(\w+)\}/g, (m, name) =>
    name in vars ? encodeURIComponent(String(vars[name])) : m,
  );
}

/** A layer name from a file name: `Delft City.json` → `delft-city`; "" when none fits. */
export function suggestLayerName(fileName) {
  const base = String(fileName || "")
    .replace(/^.*[\\/]/, "")
    .replace(/(\.city)?\.(json|jsonl|gml|xml|zip|gpkg|geojson|obj|ifc)$/i, "")
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "")
    .slice(0, 63);
  return LAYER_NAME.test(base) ? base : "";
}

/**
 * Check the upload form and build its multipart fields (without the file). Returns
 * {errors: {field: message}} or {layer, fields: [[name, value], ...]}; fields the API
 * would take as defaults are left out.
 * @param {{file?: {name: string, size: number}|null, layer?: string, title?: string,
 *   isNew?: boolean, public?: boolean, crs?: string, axisOrder?: string, lod?: string,
 *   autoPublish?: boolean}} form
 * @param {{maxBytes?: number}} [limits]
 */
export function uploadFields(form, { maxBytes } = {}) {
  const errors = {};
  const layer = String(form.layer ?? "").trim();
  if (!form.file) errors.file = t("imports.noFile");
  else if (!form.file.size) errors.file = t("imports.emptyFile");
  else if (maxBytes && form.file.size > maxBytes) {
    errors.file = t("imports.tooLarge", { max: formatBytes(maxBytes) });
  }
  if (!layer) errors.layer = t("imports.noLayer");
  else if (!LAYER_NAME.test(layer)) errors.layer = t("imports.badLayer");
  const crs = String(form.crs ?? "").trim();
  if (/\s/.test(crs)) errors.crs = t("imports.badCrs");
  const lod = String(form.lod ?? "").trim();
  if (lod && !/^\d(\.\d)?$/.test(lod)) errors.lod = t("imports.badLod");
  const axis = String(form.axisOrder ?? "").trim();
  if (axis && axis !== "xy" && axis !== "yx") errors.axisOrder = t("imports.badAxis");
  if (Object.keys(errors).length) return { errors };
  const fields = [];
  const title = String(form.title ?? "").trim();
  if (title) fields.push(["title", title.slice(0, 200)]);
  if (form.isNew && form.public === false) fields.push(["public", "false"]);
  if (crs) fields.push(["crs", /^\d+$/.test(crs) ? `EPSG:${crs}` : crs]);
  if (lod) fields.push(["lod", lod]);
  if (axis) fields.push(["axis_order", axis]);
  if (form.autoPublish) fields.push(["auto_publish", "true"]);
  return { layer, fields };
}

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["kB", "MB", "GB"];
  let value = bytes;
  let unit = "B";
  for (const u of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  return `${value.toLocaleString(currentLocale, { maximumFractionDigits: 1 })} ${unit}`;
}

/**
 * What the progress line says about a job: {value (0-100), text, state, done, failed}.
 * An upload still sending has `{uploading: fraction}` instead of a job.
 */
export function progressOf(job, { uploading = null } = {}) {
  if (uploading !== null) {
    const value = Math.round(Math.max(0, Math.min(1, uploading)) * 100);
    return { value, text: t("imports.uploading", { percent: value }), state: "uploading", done: false, failed: false };
  }
  if (!job) return { value: 0, text: "", state: "", done: false, failed: false };
  const percent = Number.isFinite(job.percent) ? Math.max(0, Math.min(100, job.percent)) : 0;
  const state = String(job.state || "");
  const stage = t(`imports.stage.${job.stage}`);
  let text;
  if (state === "failed") {
    const code = job.error?.code || "error";
    text = t("imports.failed", { code, message: job.error?.message || "" });
  } else if (state === "running") text = t("imports.running", { stage, percent });
  else text = t(`imports.state.${state}`);
  return {
    value: state === "failed" ? percent : TERMINAL.has(state) ? 100 : percent,
    text,
    state,
    done: TERMINAL.has(state),
    failed: state === "failed",
  };
}

const count = (n) => (Number.isFinite(n) ? NUMBER.format(n) : "–");

/**
 * A conversion report (tiles/convert.py) as what the panel shows:
 * {rows: [[label, text]], types: [[type, count]], skipped: [{id, reason}], warnings: [text]}.
 * Unknown or missing members are left out, never shown as "undefined".
 */
export function reportView(report) {
  if (!report || typeof report !== "object") return null;
  const rows = [];
  const add = (key, value) => {
    if (value !== undefined && value !== null && value !== "") rows.push([t(`report.${key}`), String(value)]);
  };
  add("source", report.source);
  add("format", report.format);
  add("objects", Number.isFinite(report.feature_count) ? count(report.feature_count) : null);
  if (report.crs) {
    add("crs", report.crs_from ? `${report.crs} (${t(`report.from.${report.crs_from}`)})` : report.crs);
  }
  add("axis", report.axis_note || report.axis_order);
  add("height", report.height_note || report.height_method);
  if (Number.isFinite(report.height_shift) && report.height_shift !== 0) {
    add("heightShift", `${report.height_shift} m`);
  }
  if (Array.isArray(report.height_range) && report.height_range.length === 2) {
    add("heightRange", `${report.height_range[0]} … ${report.height_range[1]} m`);
  }
  if (report.lods && typeof report.lods === "object") {
    add("lods", Object.entries(report.lods).map(([lod, n]) => `LoD ${lod}: ${count(n)}`).join(", "));
  }
  add("triangles", Number.isFinite(report.triangle_count) ? count(report.triangle_count) : null);
  add("tiles", Number.isFinite(report.tile_count) ? count(report.tile_count) : null);
  add("size", Number.isFinite(report.bytes_total) ? formatBytes(report.bytes_total) : null);
  const types = Object.entries(report.types && typeof report.types === "object" ? report.types : {})
    .filter(([, n]) => Number.isFinite(n))
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([type, n]) => [type, count(n)]);
  const skipped = (Array.isArray(report.skipped) ? report.skipped : [])
    .filter((s) => s && typeof s === "object")
    .map((s) => ({ id: String(s.object_id ?? s.id ?? "–"), reason: String(s.reason ?? "") }));
  const warnings = (Array.isArray(report.warnings) ? report.warnings : []).map(String);
  return { rows, types, skipped, warnings };
}

/**
 * The versions of a layer (GET /api/layers/{layer}/versions, newest first) with what
 * each may do: the current one is only previewed; an older one may be published (a
 * roll back when it is older than the current one, else a publish) or deleted.
 */
export function versionRows(versions) {
  const list = Array.isArray(versions) ? versions.filter((v) => v && typeof v.id === "string") : [];
  const currentIndex = list.findIndex((v) => v.current);
  return list.map((v, i) => ({
    id: v.id,
    created: typeof v.created === "string" ? v.created.replace("T", " ").replace(/\+00:00$/, " UTC") : "",
    source: v.source || "",
    objects: Number.isFinite(v.report?.feature_count) ? v.report.feature_count : null,
    current: Boolean(v.current),
    tilesetUrl: v.tileset_url,
    report: v.report || null,
    job: v.job || null,
    action: v.current ? null : currentIndex !== -1 && i > currentIndex ? "rollback" : "publish",
    deletable: !v.current,
  }));
}
