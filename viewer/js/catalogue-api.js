// The catalogue and account API: URLs from /api/config, the CSRF token of the session,
// timeouts. No DOM, no Cesium (testable with a fetchImpl).
import { filterToQuery, imageUrl } from "./catalogue-query.js";
import { requestJson } from "./http.js";
import { parseUser } from "./user.js";

/** Generous: a phone (or a test machine rendering WebGL in software) may be slow to read. */
const TIMEOUT_MS = 30000;

const DEFAULT_URLS = {
  projects: "/api/projects",
  municipalities: "/api/municipalities",
  categories: "/api/categories",
  me: "/api/auth/me",
  login: "/api/auth/login",
  logout: "/api/auth/logout",
};

/**
 * @param {object} [urls] the `api` object of /api/config
 * @param {{fetchImpl?: typeof fetch}} [options]
 */
export function createCatalogueApi(urls = {}, { fetchImpl } = {}) {
  const u = { ...DEFAULT_URLS, ...Object.fromEntries(
    Object.entries(urls || {}).filter(([, v]) => typeof v === "string" && v),
  ) };
  let csrfToken = null;

  const get = (url, signal) => requestJson(url, { timeoutMs: TIMEOUT_MS, signal, fetchImpl });
  const send = (method, url, json, headers = {}) =>
    requestJson(url, {
      method,
      json,
      timeoutMs: TIMEOUT_MS,
      fetchImpl,
      headers: csrfToken ? { "X-CSRF-Token": csrfToken, ...headers } : headers,
    });
  const projectUrl = (id) => `${u.projects.replace(/\/+$/, "")}/${encodeURIComponent(id)}`;
  const remember = (json) => {
    const user = parseUser(json);
    csrfToken = user?.csrfToken ?? null;
    return user;
  };

  return {
    urls: u,
    /** {items, total, limit, offset} for a filter (see catalogue-query.js). */
    listProjects(filter, signal) {
      return get(`${u.projects}?${filterToQuery(filter)}`, signal);
    },
    getProject(id, signal) {
      return get(projectUrl(id), signal);
    },
    createProject(projectIn) {
      return send("POST", u.projects, projectIn);
    },
    /** Saves over `version`; a 409 means someone else saved first. */
    updateProject(id, version, projectIn) {
      return send("PUT", projectUrl(id), projectIn, { "If-Match": `"${version}"` });
    },
    /** Marks a project reviewed ("still current"); answers the updated ProjectOut. */
    reviewProject(id) {
      return send("POST", `${projectUrl(id)}/review`);
    },
    /** {municipality, months, total, items}: its projects not reviewed for `months`. */
    staleProjects(code, signal) {
      return get(`${u.municipalities.replace(/\/+$/, "")}/${encodeURIComponent(code)}/stale`, signal);
    },
    municipalities() {
      return get(u.municipalities);
    },
    categories() {
      return get(u.categories);
    },
    imageUrl(projectId, imageId) {
      return imageUrl(u.projects, projectId, imageId);
    },
    /** The current user (null when anonymous); remembers the session's CSRF token. */
    async me() {
      return remember(await get(u.me));
    },
    async login(email, password) {
      return remember(await send("POST", u.login, { email, password }));
    },
    async logout() {
      try {
        await send("POST", u.logout, {});
      } finally {
        csrfToken = null;
      }
    },
  };
}
