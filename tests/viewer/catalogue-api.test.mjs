import assert from "node:assert/strict";
import { test } from "node:test";

import { createCatalogueApi } from "../../viewer/js/catalogue-api.js";
import { FetchError, requestJson } from "../../viewer/js/http.js";

function recorder(answers) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, ...init });
    const [status, body] = answers.shift() ?? [200, {}];
    return new Response(body === null ? null : JSON.stringify(body), { status });
  };
  return { calls, fetchImpl };
}

test("an error answer carries its status and parsed body", async () => {
  const { fetchImpl } = recorder([[409, { code: "conflict", current_version: 5 }]]);
  await assert.rejects(requestJson("/x", { method: "PUT", json: {}, fetchImpl }), (err) => {
    assert.ok(err instanceof FetchError);
    assert.equal(err.status, 409);
    assert.equal(err.body.current_version, 5);
    return true;
  });
});

test("204 gives null; JSON bodies are sent with their content type", async () => {
  const { calls, fetchImpl } = recorder([[204, null]]);
  assert.equal(await requestJson("/x", { method: "POST", json: { a: 1 }, fetchImpl }), null);
  assert.equal(calls[0].body, '{"a":1}');
  assert.equal(calls[0].headers["Content-Type"], "application/json");
  assert.equal(calls[0].credentials, "same-origin");
});

test("the API sends the session's CSRF token on every change once logged in", async () => {
  const { calls, fetchImpl } = recorder([
    [200, { authenticated: true, user: { id: 1, email: "e@x", roles: {} }, csrf_token: "c1" }],
    [201, { id: 9, version: 1 }],
    [200, { id: 9, version: 2 }],
    [200, { authenticated: false }],
    [201, {}],
  ]);
  const api = createCatalogueApi({ projects: "/api/projects" }, { fetchImpl });
  const user = await api.login("e@x", "pw");
  assert.equal(user.csrfToken, "c1");
  await api.createProject({ title_sv: "x" });
  await api.updateProject(9, 1, { title_sv: "y" });
  await api.logout();
  await api.createProject({ title_sv: "z" });
  assert.equal(calls[0].headers["X-CSRF-Token"], undefined);
  assert.equal(calls[1].method, "POST");
  assert.equal(calls[1].headers["X-CSRF-Token"], "c1");
  assert.equal(calls[2].url, "/api/projects/9");
  assert.equal(calls[2].method, "PUT");
  assert.equal(calls[2].headers["X-CSRF-Token"], "c1");
  assert.equal(calls[3].headers["X-CSRF-Token"], "c1");
  assert.equal(calls[4].headers["X-CSRF-Token"], undefined);
});

test("list queries go to the configured URL with the filter", async () => {
  const { calls, fetchImpl } = recorder([[200, { items: [], total: 0 }]]);
  const api = createCatalogueApi({ projects: "/p" }, { fetchImpl });
  await api.listProjects({ q: "x", status: "idea" });
  assert.equal(calls[0].url, "/p?q=x&status=idea&limit=500");
  assert.equal(api.imageUrl(3, 4), "/p/3/images/4");
});
