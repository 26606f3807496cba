// The viewer's language: which one (Swedish by default, English on request), its texts
// through t(), and dates and numbers formatted for its locale. The texts themselves are in
// i18n/sv.js and i18n/en.js.
//
// The choice, strongest first: a `?lang=sv|en` URL parameter, the switch in the viewer
// (remembered in localStorage), the browser's languages (the first sv* or en* in
// navigator.languages), else Swedish. It is made once when the page loads: switching
// stores the choice and reloads the page (the URL, and so what it shows, is kept).
//
// No DOM beyond reading location/localStorage/navigator when they exist: Node imports this
// module for the unit tests and gets Swedish.
import { en } from "./i18n/en.js";
import { sv } from "./i18n/sv.js";

export { en, sv };

export const LANGUAGES = {
  sv: { strings: sv, locale: "sv-SE" },
  en: { strings: en, locale: "en-GB" },
};
export const DEFAULT_LANGUAGE = "sv";
export const STORAGE_KEY = "twin.lang";
export const URL_PARAM = "lang";

/** "sv" or "en" for a language tag ("sv-SE", "EN-gb", "en"); null for anything else. */
export function languageOf(tag) {
  if (typeof tag !== "string") return null;
  const primary = tag.trim().toLowerCase().split(/[-_]/)[0];
  return primary in LANGUAGES ? primary : null;
}

/**
 * The language to use: URL parameter > stored choice > browser languages > Swedish.
 * @param {{url?: string|null, stored?: string|null, browser?: readonly string[]}} sources
 */
export function chooseLanguage({ url = null, stored = null, browser = [] } = {}) {
  for (const candidate of [url, stored]) {
    const lang = languageOf(candidate);
    if (lang) return lang;
  }
  for (const tag of browser || []) {
    const lang = languageOf(tag);
    if (lang) return lang;
  }
  return DEFAULT_LANGUAGE;
}

function readStored(storage) {
  try {
    return storage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null; // storage blocked (privacy settings): the choice is just not remembered
  }
}

/** The language for this page from `globalThis` (window in a browser). */
export function detectLanguage(g = globalThis) {
  let url = null;
  try {
    url = g.location ? new URL(g.location.href).searchParams.get(URL_PARAM) : null;
  } catch {
    url = null;
  }
  const nav = g.navigator;
  const browser = nav?.languages?.length ? nav.languages : nav?.language ? [nav.language] : [];
  return chooseLanguage({ url, stored: readStored(g.localStorage), browser });
}

/** The current language ("sv" or "en") and its locale ("sv-SE", "en-GB"). */
export let language = detectLanguage();
export let locale = LANGUAGES[language].locale;
let table = LANGUAGES[language].strings;

/** Use a language for t() and the formatters (tests; the page reloads to switch). */
export function setLanguage(lang) {
  language = languageOf(lang) ?? DEFAULT_LANGUAGE;
  locale = LANGUAGES[language].locale;
  table = LANGUAGES[language].strings;
}

/** Use another string table (tests). Missing keys fall back to Swedish. */
export function setStrings(strings) {
  table = strings;
}

/** The text for `key` with `{vars}` filled in; the key itself when it is unknown. */
export function t(key, vars = {}) {
  const value = table[key] ?? sv[key];
  if (value === undefined) return key;
  if (typeof value === "function") return value(vars);
  return value.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** A category's (or any `{key, name_sv, name_en}` item's) name in the current language. */
export function localName(item) {
  return item?.[`name_${language}`] || item?.name_sv || item?.key || "";
}

/** A number in the current locale ("1 234,5" / "1,234.5"); options as Intl.NumberFormat. */
export function formatNumber(value, options = {}) {
  return new Intl.NumberFormat(locale, options).format(value);
}

function toDate(value) {
  return value instanceof Date ? value : new Date(value);
}

/** A date (Date, ms or ISO text) in the current locale: "27 nov. 2026" / "27 Nov 2026". */
export function formatDate(value, options = { dateStyle: "medium" }) {
  return new Intl.DateTimeFormat(locale, options).format(toDate(value));
}

/**
 * A calendar day given as "YYYY-MM-DD" in the current locale ("1 mars 2026" / "1 Mar 2026");
 * the text itself when it is not such a day. The day is not shifted by the time zone.
 */
export function formatDay(iso, options = { dateStyle: "medium" }) {
  if (typeof iso !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  const date = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { ...options, timeZone: "UTC" }).format(date);
}

/** A time of day in the current locale: "14:05". */
export function formatTime(value, options = { timeStyle: "short" }) {
  return new Intl.DateTimeFormat(locale, options).format(toDate(value));
}

/** Date and time in the current locale. */
export function formatDateTime(value, options = { dateStyle: "medium", timeStyle: "short" }) {
  return new Intl.DateTimeFormat(locale, options).format(toDate(value));
}

/**
 * Remember `lang` as the user's choice and reload the page in it. A `lang` URL parameter
 * would win over the stored choice, so it is rewritten to the new language.
 */
export function switchLanguage(lang, g = globalThis) {
  const next = languageOf(lang) ?? DEFAULT_LANGUAGE;
  try {
    g.localStorage?.setItem(STORAGE_KEY, next);
  } catch {
    // not remembered; the URL parameter below still carries it for this page
  }
  const url = new URL(g.location.href);
  if (url.searchParams.has(URL_PARAM) || readStored(g.localStorage) !== next) {
    url.searchParams.set(URL_PARAM, next);
  }
  if (url.href === g.location.href) g.location.reload();
  else g.location.assign(url.href);
}
