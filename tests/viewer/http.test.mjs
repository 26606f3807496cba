import assert from "node:assert/strict";
import { test } from "node:test";

import { FetchError, fetchJson } from "../../viewer/js/http.js";

const respond = (status, body) => async () => new Response(body, { status });

test("returns the parsed JSON", async () => {
  const data = await fetchJson("/api/config", { fetchImpl: respond(200, '{"a": 1}') });
  assert.deepEqual(data, { a: 1 });
});

test("an HTTP error names the status", async () => {
  await assert.rejects(fetchJson("/api/config", { fetchImpl: respond(500, "{}") }), (err) => {
    assert.ok(err instanceof FetchError);
    assert.equal(err.status, 500);
    assert.match(err.message, /HTTP 500/);
    return true;
  });
});

test("invalid JSON is reported as such", async () => {
  await assert.rejects(fetchJson("/x", { fetchImpl: respond(200, "<html>") }), /valid JSON/);
});

test("a server that never answers times out", async () => {
  const hang = (_url, { signal }) =>
    new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
  const started = Date.now();
  await assert.rejects(fetchJson("/slow", { fetchImpl: hang, timeoutMs: 50 }), /within/);
  assert.ok(Date.now() - started < 2000);
});

test("a network failure says the server could not be reached", async () => {
  const down = async () => {
    throw new TypeError("fetch failed");
  };
  await assert.rejects(fetchJson("/x", { fetchImpl: down }), /could not be reached/);
});

test("the caller can abort", async () => {
  const controller = new AbortController();
  const hang = (_url, { signal }) =>
    new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
  const pending = fetchJson("/x", { fetchImpl: hang, signal: controller.signal });
  controller.abort(new Error("user left"));
  await assert.rejects(pending, /could not be reached/);
});
