// Formatting of attribute values for the side panel. Pure: no DOM, no Cesium.
import { locale as currentLocale, t } from "./strings.js";

/** What the panel shows for a missing value (undefined, null, noData, empty string). */
export const MISSING = "–";

/** True when a value carries nothing worth showing. */
export function isMissing(value) {
  if (value === undefined || value === null) return true;
  if (typeof value === "string") return value.trim() === "";
  if (typeof value === "number") return Number.isNaN(value);
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

const FLOAT_TYPES = new Set(["FLOAT32", "FLOAT64"]);

function formatNumber(value, type, locale) {
  if (!Number.isFinite(value)) return String(value);
  const fractionDigits = FLOAT_TYPES.has(type) || !Number.isInteger(value) ? 3 : 0;
  // No grouping: attribute numbers are often years, codes or identifiers.
  return new Intl.NumberFormat(locale, {
    maximumFractionDigits: fractionDigits,
    useGrouping: false,
  }).format(value);
}

/**
 * A property value as display text.
 * @param {unknown} value as returned by Cesium3DTileFeature.getProperty
 * @param {string} [type] the property type from the config ("STRING", "FLOAT64", ...)
 * @param {string} [locale] BCP 47 locale; the viewer's language (strings.js) by default
 */
export function formatValue(value, type, locale = currentLocale) {
  if (isMissing(value)) return MISSING;
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      return formatNumber(value, type, locale);
    case "bigint":
      return value.toString();
    case "boolean":
      return t(value ? "value.yes" : "value.no");
    default:
      break;
  }
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    return Array.from(value, (v) => formatValue(v, type, locale)).join(", ");
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
