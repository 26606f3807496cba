// The import and layer-management API: URLs from /api/config, the session's CSRF token,
// the upload (XMLHttpRequest, for its upload progress) and the job's server-sent events.
// No DOM beyond XMLHttpRequest/EventSource, no Cesium (testable with fetchImpl).
import { FetchError, requestJson } from "./http.js";
import { fillUrl } from "./imports-model.js";
import { parseUser } from "./user.js";

const TIMEOUT_MS = 30000;
/** An upload is given up when no byte moved for this long, */
export const UPLOAD_STALL_MS = 120000;
/** or, once sent, when the server (unpacking and checking a large zip) has not answered. */
export const UPLOAD_ANSWER_MS = 600000;

const DEFAULT_URLS = {
  me: "/api/auth/me",
  manage_layers: "/api/manage/layers",
  layer: "/api/layers/{layer}",
  imports: "/api/layers/{layer}/imports",
  import: "/api/imports/{id}",
  import_events: "/api/imports/{id}/events",
  versions: "/api/layers/{layer}/versions",
};

/** The FetchError for an XMLHttpRequest answer (same message shape as http.js). */
export function xhrError(url, status, text) {
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const detail = typeof body?.message === "string" ? body.message : "";
  const message = status
    ? detail
      ? `${url} answered HTTP ${status}: ${detail}`
      : `${url} answered HTTP ${status}`
    : `${url} could not be reached`;
  return new FetchError(message, { url, status: status || undefined, body });
}

/**
 * @param {object} [urls] the `api` object of /api/config
 * @param {{fetchImpl?: typeof fetch}} [options]
 */
export function createImportsApi(urls = {}, { fetchImpl } = {}) {
  const u = {
    ...DEFAULT_URLS,
    ...Object.fromEntries(Object.entries(urls || {}).filter(([, v]) => typeof v === "string" && v)),
  };
  let csrfToken = null;
  const get = (url) => requestJson(url, { timeoutMs: TIMEOUT_MS, fetchImpl });
  const send = (method, url, json) =>
    requestJson(url, {
      method,
      json,
      timeoutMs: TIMEOUT_MS,
      fetchImpl,
      headers: csrfToken ? { "X-CSRF-Token": csrfToken } : {},
    });
  const job = (id, suffix = "") => `${fillUrl(u.import, { id })}${suffix}`;
  const version = (layer, id, suffix = "") =>
    `${fillUrl(u.versions, { layer })}/${encodeURIComponent(id)}${suffix}`;

  return {
    urls: u,
    get csrfToken() {
      return csrfToken;
    },
    /** The current user (null when anonymous); remembers the session's CSRF token. */
    async me() {
      const user = parseUser(await get(u.me));
      csrfToken = user?.csrfToken ?? null;
      return user;
    },
    managedLayers: () => get(u.manage_layers),
    versions: (layer) => get(fillUrl(u.versions, { layer })),
    publishVersion: (layer, id) => send("POST", version(layer, id, "/publish")),
    deleteVersion: (layer, id) => send("DELETE", version(layer, id)),
    patchLayer: (layer, patch) => send("PATCH", fillUrl(u.layer, { layer }), patch),
    getJob: (id) => get(job(id)),
    publishJob: (id) => send("POST", job(id, "/publish")),
    cancelJob: (id) => send("POST", job(id, "/cancel")),
    eventsUrl: (id) => fillUrl(u.import_events, { id }),

    /**
     * POST the file as a new import of `layer`; resolves with the queued job.
     * @param {string} layer
     * @param {Blob & {name: string}} file
     * @param {Array<[string, string]>} fields
     * @param {(fraction: number) => void} [onProgress]
     * @returns {{promise: Promise<object>, abort: () => void}}
     */
    upload(layer, file, fields, onProgress) {
      const url = fillUrl(u.imports, { layer });
      const form = new FormData();
      for (const [name, value] of fields) form.append(name, value);
      form.append("file", file, file.name);
      const xhr = new XMLHttpRequest();
      let stalled = null;
      let timer = null;
      const watch = (ms = UPLOAD_STALL_MS) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          stalled = `${url} made no progress for ${ms / 1000} s`;
          xhr.abort();
        }, ms);
      };
      const promise = new Promise((resolve, reject) => {
        xhr.open("POST", url);
        xhr.withCredentials = true;
        xhr.setRequestHeader("Accept", "application/json");
        if (csrfToken) xhr.setRequestHeader("X-CSRF-Token", csrfToken);
        xhr.upload.onprogress = (e) => {
          watch();
          if (e.lengthComputable && e.total) onProgress?.(e.loaded / e.total);
        };
        xhr.upload.onload = () => watch(UPLOAD_ANSWER_MS);
        xhr.onloadend = () => clearTimeout(timer);
        xhr.onload = () => {
          if (xhr.status >= 200 && xhr.status < 300) {
            try {
              resolve(JSON.parse(xhr.responseText));
            } catch (err) {
              reject(new FetchError(`${url} did not return valid JSON (${err.message})`, { url }));
            }
          } else reject(xhrError(url, xhr.status, xhr.responseText));
        };
        xhr.onerror = () => reject(xhrError(url, 0, ""));
        xhr.onabort = () =>
          reject(new FetchError(stalled || `${url}: the upload was stopped`, { url }));
        xhr.send(form);
        watch();
      });
      return { promise, abort: () => xhr.abort() };
    },
  };
}

/**
 * Follow a job through its server-sent events until it ends: `onJob(job)` for every
 * change. If the stream cannot be opened (or keeps failing), the job is polled instead.
 * Returns a function that stops following.
 */
export function followJob(api, id, onJob, { pollMs = 1000 } = {}) {
  let stopped = false;
  let source = null;
  let timer = null;
  const stop = () => {
    stopped = true;
    source?.close();
    clearTimeout(timer);
  };
  const deliver = (job) => {
    if (stopped || !job) return;
    onJob(job);
    if (["succeeded", "published", "failed"].includes(job.state)) stop();
  };
  const poll = async () => {
    if (stopped) return;
    try {
      deliver(await api.getJob(id));
    } catch (err) {
      console.warn(`twin: import ${id}: ${err?.message || err}`);
    }
    if (!stopped) timer = setTimeout(poll, pollMs);
  };
  if (typeof EventSource === "function") {
    source = new EventSource(api.eventsUrl(id), { withCredentials: true });
    source.addEventListener("job", (e) => {
      try {
        deliver(JSON.parse(e.data));
      } catch (err) {
        console.warn(`twin: import ${id}: bad event ${err?.message || err}`);
      }
    });
    source.onerror = () => {
      // The server ends the stream after the final state; the browser then reconnects and
      // gets that state again. A stream that closed for good (404, 401) falls back to polling.
      if (!stopped && source.readyState === EventSource.CLOSED) {
        source = null;
        poll();
      }
    };
  } else poll();
  return stop;
}
