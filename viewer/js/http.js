// fetch with a timeout and errors a person can read. No DOM, no Cesium.

export class FetchError extends Error {
  constructor(message, { url, status } = {}) {
    super(message);
    this.name = "FetchError";
    this.url = url;
    this.status = status;
  }
}

/**
 * GET a JSON document, giving up after `timeoutMs`.
 * @param {string} url
 * @param {{timeoutMs?: number, signal?: AbortSignal, fetchImpl?: typeof fetch}} [options]
 */
export async function fetchJson(url, { timeoutMs = 15000, signal, fetchImpl } = {}) {
  const doFetch = fetchImpl || globalThis.fetch.bind(globalThis);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("timeout")), timeoutMs);
  const onAbort = () => controller.abort(signal.reason);
  if (signal) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener("abort", onAbort, { once: true });
  }
  try {
    let response;
    try {
      response = await doFetch(url, {
        signal: controller.signal,
        headers: { Accept: "application/json" },
      });
    } catch (err) {
      if (controller.signal.aborted && !signal?.aborted) {
        throw new FetchError(`${url} did not answer within ${Math.round(timeoutMs / 1000)} s`, {
          url,
        });
      }
      throw new FetchError(`${url} could not be reached (${err?.message || err})`, { url });
    }
    if (!response.ok) {
      throw new FetchError(`${url} answered HTTP ${response.status}`, {
        url,
        status: response.status,
      });
    }
    try {
      return await response.json();
    } catch {
      throw new FetchError(`${url} did not return valid JSON`, { url, status: response.status });
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
