// fetch with a timeout and errors a person can read. No DOM, no Cesium.

export class FetchError extends Error {
  constructor(message, { url, status, body } = {}) {
    super(message);
    this.name = "FetchError";
    this.url = url;
    this.status = status;
    /** The parsed JSON error body (`{code, message}`, `{detail}`), when there was one. */
    this.body = body;
  }
}

/**
 * GET a JSON document, giving up after `timeoutMs`.
 * @param {string} url
 * @param {{timeoutMs?: number, signal?: AbortSignal, fetchImpl?: typeof fetch}} [options]
 */
export function fetchJson(url, options = {}) {
  return requestJson(url, options);
}

function errorMessage(url, status, body) {
  const detail = typeof body?.message === "string" ? body.message : "";
  return detail ? `${url} answered HTTP ${status}: ${detail}` : `${url} answered HTTP ${status}`;
}

/**
 * Any request with a JSON answer (or none: 204 gives null), giving up after `timeoutMs`.
 * Cookies go to the same origin only. A non-2xx answer throws a FetchError carrying the
 * status and the parsed error body.
 * @param {string} url
 * @param {{method?: string, json?: unknown, headers?: object, timeoutMs?: number,
 *          signal?: AbortSignal, fetchImpl?: typeof fetch}} [options]
 */
export async function requestJson(
  url,
  { method = "GET", json, headers = {}, timeoutMs = 15000, signal, fetchImpl } = {},
) {
  const doFetch = fetchImpl || globalThis.fetch.bind(globalThis);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("timeout")), timeoutMs);
  const onAbort = () => controller.abort(signal.reason);
  if (signal) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener("abort", onAbort, { once: true });
  }
  const init = {
    method,
    signal: controller.signal,
    credentials: "same-origin",
    headers: { Accept: "application/json", ...headers },
  };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  try {
    let response;
    try {
      response = await doFetch(url, init);
    } catch (err) {
      if (controller.signal.aborted && !signal?.aborted) {
        throw new FetchError(`${url} did not answer within ${Math.round(timeoutMs / 1000)} s`, {
          url,
        });
      }
      throw new FetchError(`${url} could not be reached (${err?.message || err})`, { url });
    }
    if (!response.ok) {
      let body;
      try {
        body = await response.json();
      } catch {
        body = undefined;
      }
      throw new FetchError(errorMessage(url, response.status, body), {
        url,
        status: response.status,
        body,
      });
    }
    if (response.status === 204) return null;
    try {
      return await response.json();
    } catch (err) {
      if (controller.signal.aborted) {
        const why = signal?.aborted
          ? "was cancelled"
          : `did not answer within ${Math.round(timeoutMs / 1000)} s`;
        throw new FetchError(`${url} ${why}`, { url, status: response.status });
      }
      throw new FetchError(`${url} did not return valid JSON (${err?.message || err})`, {
        url,
        status: response.status,
      });
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** `promise`, or a rejection with `message` when it takes longer than `ms`. */
export function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
