// Filters to /api/projects queries, and deep links to a project. Pure: no DOM, no Cesium.

export const STATUSES = ["idea", "planned", "ongoing", "completed", "paused", "stopped"];
/** How many projects one query asks for; the list says when there are more. */
export const PAGE_SIZE = 500;

/**
 * The query string (without "?") for a filter.
 * @param {{q?: string, municipality?: string, category?: string, status?: string,
 *          bbox?: number[]|null, limit?: number, offset?: number, sort?: string}} filter
 */
export function filterToQuery(filter = {}) {
  const params = new URLSearchParams();
  const q = typeof filter.q === "string" ? filter.q.trim() : "";
  if (q) params.set("q", q);
  for (const key of ["municipality", "category", "status", "sort"]) {
    const v = filter[key];
    if (typeof v === "string" && v !== "") params.set(key, v);
  }
  if (Array.isArray(filter.bbox) && filter.bbox.length === 4 && filter.bbox.every(Number.isFinite)) {
    params.set("bbox", filter.bbox.map((v) => Number(v.toFixed(6))).join(","));
  }
  params.set("limit", String(filter.limit ?? PAGE_SIZE));
  if (filter.offset) params.set("offset", String(filter.offset));
  return params.toString();
}

/** True when two filters ask the same query. */
export function sameFilter(a, b) {
  return filterToQuery(a) === filterToQuery(b);
}

function parseId(value) {
  if (typeof value !== "string" || !/^\d{1,12}$/.test(value.trim())) return null;
  const id = Number(value.trim());
  return id > 0 ? id : null;
}

/**
 * The project a URL points at: `#project=12` (preferred) or `?project=12`; null otherwise.
 * @param {{hash?: string, search?: string}} location
 */
export function projectFromLocation({ hash = "", search = "" } = {}) {
  const fromHash = new URLSearchParams(hash.replace(/^#/, "")).get("project");
  const id = parseId(fromHash ?? "");
  if (id !== null) return id;
  return parseId(new URLSearchParams(search.replace(/^\?/, "")).get("project") ?? "");
}

/**
 * The hash to show for an open project (or none), keeping other hash parameters.
 * @returns {string} "#project=12", "" when nothing is left
 */
export function hashWithProject(hash, id) {
  const params = new URLSearchParams((hash || "").replace(/^#/, ""));
  if (id === null || id === undefined) params.delete("project");
  else params.set("project", String(id));
  const text = params.toString();
  return text ? `#${text}` : "";
}

/** The URL of a project's image. */
export function imageUrl(projectsUrl, projectId, imageId) {
  const base = projectsUrl.replace(/\/+$/, "");
  return `${base}/${encodeURIComponent(projectId)}/images/${encodeURIComponent(imageId)}`;
}
