import assert from "node:assert/strict";
import { test } from "node:test";

import {
  filterToQuery,
  hashWithProject,
  imageUrl,
  projectFromLocation,
} from "../../viewer/js/catalogue-query.js";
import {
  CATEGORY_COLORS,
  categoryColor,
  legendEntries,
  NO_CATEGORY_COLOR,
  primaryCategory,
  projectColor,
} from "../../viewer/js/catalogue-style.js";
import { safeHref } from "../../viewer/js/dom.js";
import { setStrings, sv, t } from "../../viewer/js/strings.js";

const CATEGORIES = [
  { key: "mobility", name_sv: "Mobilitet" },
  { key: "energy", name_sv: "Energi" },
  { key: "water", name_sv: "Vatten" },
];

test("a filter becomes a query string with only what is set", () => {
  assert.equal(filterToQuery({}), "limit=500");
  const q = new URLSearchParams(
    filterToQuery({ q: "  buss & tåg ", municipality: "1283", category: "", status: "ongoing" }),
  );
  assert.equal(q.get("q"), "buss & tåg");
  assert.equal(q.get("municipality"), "1283");
  assert.equal(q.has("category"), false);
  assert.equal(q.get("status"), "ongoing");
  assert.equal(q.get("limit"), "500");
});

test("a bbox is rounded and only sent when it is four finite numbers", () => {
  const q = new URLSearchParams(filterToQuery({ bbox: [12.1234567891, 55.9, 12.8, 56.2] }));
  assert.equal(q.get("bbox"), "12.123457,55.9,12.8,56.2");
  assert.equal(new URLSearchParams(filterToQuery({ bbox: [1, 2, NaN, 4] })).has("bbox"), false);
  assert.equal(new URLSearchParams(filterToQuery({ offset: 500, limit: 50 })).get("offset"), "500");
});

test("deep links: #project= first, then ?project=, only positive integer ids", () => {
  assert.equal(projectFromLocation({ hash: "#project=12" }), 12);
  assert.equal(projectFromLocation({ hash: "#view=x&project=7" }), 7);
  assert.equal(projectFromLocation({ search: "?project=3" }), 3);
  assert.equal(projectFromLocation({ hash: "#project=4", search: "?project=3" }), 4);
  for (const bad of ["#project=", "#project=abc", "#project=-1", "#project=0", "#project=1e3",
    "#project=<script>"]) {
    assert.equal(projectFromLocation({ hash: bad }), null, bad);
  }
  assert.equal(projectFromLocation({}), null);
});

test("the hash is updated without losing other parameters", () => {
  assert.equal(hashWithProject("", 5), "#project=5");
  assert.equal(hashWithProject("#project=5", 6), "#project=6");
  assert.equal(hashWithProject("#a=1&project=5", null), "#a=1");
  assert.equal(hashWithProject("#project=5", null), "");
});

test("image URLs are built from the configured projects URL", () => {
  assert.equal(imageUrl("/api/projects/", 3, 9), "/api/projects/3/images/9");
});

test("every known category has its own colour; unknown ones get a stable one", () => {
  const colours = Object.values(CATEGORY_COLORS);
  assert.equal(new Set(colours).size, colours.length);
  for (const c of colours) assert.match(c, /^#[0-9a-f]{6}$/);
  assert.equal(categoryColor("mobility"), CATEGORY_COLORS.mobility);
  assert.equal(categoryColor("new-thing"), categoryColor("new-thing"));
  assert.match(categoryColor("new-thing"), /^#[0-9a-f]{6}$/);
  assert.equal(categoryColor(null), NO_CATEGORY_COLOR);
});

test("a project is coloured by its first category in the list's order", () => {
  const p = { categories: ["water", "mobility"] };
  assert.equal(primaryCategory(p, CATEGORIES), "mobility");
  assert.equal(projectColor(p, CATEGORIES), CATEGORY_COLORS.mobility);
  assert.equal(projectColor({ categories: [] }, CATEGORIES), NO_CATEGORY_COLOR);
  assert.equal(primaryCategory({}, CATEGORIES), null);
});

test("the legend lists the colours in use, with counts, uncategorised last", () => {
  const rows = legendEntries(
    [{ categories: ["energy"] }, { categories: [] }, { categories: ["mobility", "energy"] },
      { categories: ["energy"] }, { categories: ["odd"] }],
    CATEGORIES,
    { noCategoryName: "Utan kategori" },
  );
  assert.deepEqual(
    rows.map((r) => [r.key, r.name, r.count]),
    [["mobility", "Mobilitet", 1], ["energy", "Energi", 2], ["odd", "odd", 1],
      [null, "Utan kategori", 1]],
  );
});

test("only http(s) links are clickable", () => {
  assert.equal(safeHref("https://example.org/a?b=1"), "https://example.org/a?b=1");
  assert.equal(safeHref("http://example.org"), "http://example.org/");
  for (const bad of ["javascript:alert(1)", " javascript:alert(1)", "JaVaScRiPt:x", "data:text/html,x",
    "vbscript:x", "/relative", "//evil.example", "ftp://x", null, 3]) {
    assert.equal(safeHref(bad), null, String(bad));
  }
});

test("strings fill in variables and fall back to Swedish and then the key", () => {
  assert.equal(t("catalogue.error", { message: "boom" }), "Projekten kunde inte hämtas: boom");
  assert.equal(t("card.stale", { months: 7 }), "Inte granskat på 7 månader");
  assert.equal(t("catalogue.count", { shown: 3, total: 3 }), "3 projekt");
  assert.equal(t("no.such.key"), "no.such.key");
  setStrings({ "auth.login": "Log in" });
  try {
    assert.equal(t("auth.login"), "Log in");
    assert.equal(t("auth.logout"), sv["auth.logout"]);
  } finally {
    setStrings(sv);
  }
});
