import assert from "node:assert/strict";
import { test } from "node:test";

import { en } from "../../viewer/js/i18n/en.js";
import { sv } from "../../viewer/js/i18n/sv.js";
import {
  chooseLanguage,
  detectLanguage,
  formatDate,
  formatDay,
  formatNumber,
  language,
  languageOf,
  localName,
  locale,
  setLanguage,
  STORAGE_KEY,
  t,
} from "../../viewer/js/strings.js";

const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

// Variables the function values read; every combination the viewer passes is covered.
const BASE = { count: 2, n: "2", shown: 2, total: 2, months: 3, version: 2 };
const SAMPLES = [
  { count: 0, n: "0", shown: 0, total: 0, months: null, version: null },
  { count: 1, n: "1", shown: 1, total: 1, months: 6, version: 3 },
  { count: 1234, n: "1 234", shown: 50, total: 1234, months: 18, version: 7 },
  { lon: 11.97, lat: 57.7, height: null, warning: 40, alarm: null, below: false, bucket: "h" },
  { lon: 11.97, lat: 57.7, height: 12, warning: null, alarm: 90, below: true, bucket: "dag" },
  { warning: 40, alarm: 90, below: false },
].map((vars) => ({
  ...BASE,
  ...{ lon: 1, lat: 2, height: null, warning: null, alarm: null, below: false, bucket: "h" },
  ...vars,
}));

test("Swedish and English have exactly the same keys", () => {
  const svKeys = Object.keys(sv).sort();
  const enKeys = Object.keys(en).sort();
  assert.deepEqual(
    svKeys.filter((k) => !(k in en)),
    [],
    "keys without English",
  );
  assert.deepEqual(
    enKeys.filter((k) => !(k in sv)),
    [],
    "English keys missing in Swedish",
  );
  assert.ok(svKeys.length > 250, "the whole catalogue, sensors, imports, login, viewer");
});

test("a text has the same {placeholders} and kind (text or function) in both", () => {
  for (const key of Object.keys(sv)) {
    assert.equal(typeof en[key], typeof sv[key], key);
    if (typeof sv[key] === "string") {
      assert.deepEqual(placeholders(en[key]), placeholders(sv[key]), key);
      assert.notEqual(en[key].trim(), "", key);
    }
  }
});

test("function values return non-empty strings for sample inputs, in both languages", () => {
  for (const [name, table] of [["sv", sv], ["en", en]]) {
    for (const [key, value] of Object.entries(table)) {
      if (typeof value !== "function") continue;
      for (const vars of SAMPLES) {
        const text = value(vars);
        assert.equal(typeof text, "string", `${name} ${key}`);
        assert.doesNotMatch(text, /undefined|NaN|\[object/, `${name} ${key}: ${text}`);
      }
    }
  }
});

test("plurals follow the count", () => {
  assert.equal(en["layers.count"]({ count: 1, n: "1" }), "1 object");
  assert.equal(en["layers.count"]({ count: 2, n: "2" }), "2 objects");
  assert.equal(sv["info.empty"]({ count: 1 }), "1 attribut utan värde");
  assert.equal(en["info.empty"]({ count: 3 }), "3 attributes without a value");
});

test("language tags map to sv or en, anything else to nothing", () => {
  assert.equal(languageOf("sv-SE"), "sv");
  assert.equal(languageOf("sv-FI"), "sv");
  assert.equal(languageOf("EN_us"), "en");
  assert.equal(languageOf("en"), "en");
  assert.equal(languageOf("de-DE"), null);
  assert.equal(languageOf("svx"), null);
  assert.equal(languageOf(""), null);
  assert.equal(languageOf(null), null);
});

test("the choice: URL parameter > stored choice > browser > Swedish", () => {
  assert.equal(chooseLanguage({}), "sv");
  assert.equal(chooseLanguage({ browser: ["de-DE", "fr"] }), "sv", "anything else: Swedish");
  assert.equal(chooseLanguage({ browser: ["en-GB", "sv"] }), "en");
  assert.equal(chooseLanguage({ browser: ["sv-SE", "en-GB"] }), "sv");
  assert.equal(chooseLanguage({ browser: ["de-DE", "en-US"] }), "en", "first sv*/en* listed");
  assert.equal(chooseLanguage({ stored: "sv", browser: ["en-GB"] }), "sv", "storage > browser");
  assert.equal(chooseLanguage({ stored: "en", browser: ["sv-SE"] }), "en");
  assert.equal(chooseLanguage({ url: "en", stored: "sv", browser: ["sv"] }), "en", "URL wins");
  assert.equal(chooseLanguage({ url: "sv", stored: "en", browser: ["en"] }), "sv");
  assert.equal(chooseLanguage({ url: "fi", stored: "en" }), "en", "an unknown ?lang is ignored");
  assert.equal(chooseLanguage({ stored: "xx", browser: ["en"] }), "en");
});

test("detectLanguage reads location, localStorage and navigator", () => {
  const page = ({ href = "http://x/", stored = null, languages = [] } = {}) => ({
    location: { href },
    localStorage: { getItem: (k) => (k === STORAGE_KEY ? stored : null) },
    navigator: { languages },
  });
  assert.equal(detectLanguage(page()), "sv");
  assert.equal(detectLanguage(page({ languages: ["en-GB"] })), "en");
  assert.equal(detectLanguage(page({ languages: ["en-GB"], stored: "sv" })), "sv");
  assert.equal(detectLanguage(page({ href: "http://x/?lang=en", stored: "sv" })), "en");
  const blocked = {
    ...page({ languages: ["en"] }),
    localStorage: {
      getItem() {
        throw new Error("SecurityError");
      },
    },
  };
  assert.equal(detectLanguage(blocked), "en", "blocked storage is skipped");
  assert.equal(detectLanguage({}), "sv", "no browser at all (Node)");
});

test("t() and the formatters follow the language", () => {
  assert.equal(language, "sv");
  assert.equal(locale, "sv-SE");
  assert.equal(t("catalogue.heading"), "Projekt");
  assert.equal(formatNumber(1234.5), "1\u00a0234,5");
  const day = Date.UTC(2026, 10, 27, 12);
  assert.equal(formatDate(day, { dateStyle: "long", timeZone: "UTC" }), "27 november 2026");
  assert.equal(formatDay("2026-03-01"), "1 mars 2026");
  assert.equal(formatDay("2026-12-31", { dateStyle: "short" }), "2026-12-31");
  assert.equal(formatDay("soon"), "soon", "not a day: shown as it is");
  assert.equal(formatDay(null), null);
  assert.equal(localName({ key: "water", name_sv: "Vatten", name_en: "Water" }), "Vatten");
  assert.equal(localName({ key: "water" }), "water");
  setLanguage("en");
  try {
    assert.equal(language, "en");
    assert.equal(locale, "en-GB");
    assert.equal(t("catalogue.heading"), "Projects");
    assert.equal(t("layers.zoomTo", { title: "Delft" }), "Zoom to Delft");
    assert.equal(formatNumber(1234.5), "1,234.5");
    assert.equal(formatDate(day, { dateStyle: "long", timeZone: "UTC" }), "27 November 2026");
    assert.equal(formatDay("2026-03-01"), "1 Mar 2026");
    assert.equal(localName({ key: "water", name_sv: "Vatten", name_en: "Water" }), "Water");
    assert.equal(localName({ key: "water", name_sv: "Vatten" }), "Vatten", "no English name");
  } finally {
    setLanguage("sv");
  }
  assert.equal(t("catalogue.heading"), "Projekt");
});
