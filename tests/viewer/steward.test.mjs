// The steward list ("Att granska"): which municipalities, merged answers, the API calls.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createCatalogueApi } from "../../viewer/js/catalogue-api.js";
import { t } from "../../viewer/js/strings.js";
import { mergeStale, parseUser, stewardCodes } from "../../viewer/js/user.js";

const municipalities = [{ code: "DEMO" }, { code: "1283" }, { code: "0180" }];

test("stewardCodes: the municipalities an editor edits; all of them for an admin", () => {
  assert.deepEqual(stewardCodes(null, municipalities), []);
  const editor = parseUser({ email: "e@x", roles: { DEMO: ["editor"], "1283": ["gis"] } });
  assert.deepEqual(stewardCodes(editor, municipalities), ["DEMO"]);
  const gis = parseUser({ email: "g@x", roles: { DEMO: ["gis"] } });
  assert.deepEqual(stewardCodes(gis, municipalities), []);
  const admin = parseUser({ email: "a@x", is_admin: true, roles: {} });
  assert.deepEqual(stewardCodes(admin, municipalities), ["0180", "1283", "DEMO"]);
});

test("mergeStale: each project once, least recently reviewed first", () => {
  const a = { id: 1, title_sv: "A", last_reviewed_at: "2024-03-01T00:00:00Z", created_at: "2020-01-01T00:00:00Z" };
  const b = { id: 2, title_sv: "B", last_reviewed_at: null, created_at: "2023-01-01T00:00:00" };
  const c = { id: 3, title_sv: "C", last_reviewed_at: "2022-06-01T00:00:00+00:00", created_at: "2020-01-01T00:00:00Z" };
  const merged = mergeStale([{ items: [a, b] }, { items: [b, c] }, null, { items: "nope" }]);
  assert.deepEqual(merged.map((p) => p.id), [3, 2, 1]);
  assert.deepEqual(mergeStale([]), []);
});

test("reviewProject posts with the CSRF token; staleProjects asks per municipality", async () => {
  const calls = [];
  const answers = [
    [200, { email: "e@x", roles: { DEMO: ["editor"] }, csrf_token: "tok" }],
    [200, { id: 7, stale: false }],
    [200, { municipality: "DEMO", months: 12, total: 0, items: [] }],
  ];
  const fetchImpl = async (url, init) => {
    calls.push({ url, ...init });
    const [status, body] = answers.shift();
    return new Response(JSON.stringify(body), { status });
  };
  const api = createCatalogueApi({ projects: "/api/projects", municipalities: "/api/municipalities" }, { fetchImpl });
  await api.me();
  assert.deepEqual(await api.reviewProject(7), { id: 7, stale: false });
  assert.equal(calls[1].url, "/api/projects/7/review");
  assert.equal(calls[1].method, "POST");
  assert.equal(calls[1].headers["X-CSRF-Token"], "tok");
  assert.equal(calls[1].credentials, "same-origin");
  const list = await api.staleProjects("DE MO");
  assert.equal(calls[2].url, "/api/municipalities/DE%20MO/stale");
  assert.equal(list.months, 12);
});

test("the steward strings", () => {
  assert.equal(t("card.review"), "Fortfarande aktuellt");
  assert.equal(t("steward.heading"), "Att granska");
  assert.equal(t("steward.intro", { months: 12 }), "Inte granskade på 12 månader:");
  assert.match(t("card.reviewError", { message: "x" }), /x$/);
});
