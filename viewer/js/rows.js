// Which rows the side panel shows, in which order. Pure: no DOM, no Cesium.
import { formatValue, isMissing } from "./format.js";
import { t } from "./strings.js";

/** Property ids the tiles always carry; shown first, labelled in the viewer's language. */
export const CORE_FIELDS = [
  { id: "id", label: "info.field.id" },
  { id: "type", label: "info.field.type" },
  { id: "parent", label: "info.field.parent" },
  { id: "lod", label: "info.field.lod" },
];
const CORE_IDS = new Set(CORE_FIELDS.map((f) => f.id));

/** The well-formed entries of a property list (each with a string id). */
function usable(properties) {
  return (properties || []).filter((p) => p && typeof p.id === "string" && p.id !== "");
}

/**
 * Rows for one feature.
 * @param {(id: string) => unknown} getValue reads a property by its id
 * @param {Array<{id: string, name?: string, type?: string}>} properties the layer's
 *   property list from /api/config: the order to show, `name` is the label
 * @param {string} [locale]
 * @returns {{core: Array<Row>, attributes: Array<Row>, empty: Array<Row>}} where Row is
 *   {id, label, text, missing}. `parent` is left out when the object has none; attributes
 *   without a value for this object (a layer's columns are the union over all its object
 *   types) go to `empty`, in the same order.
 */
export function buildRows(getValue, properties, locale) {
  const list = usable(properties);
  const byId = new Map(list.map((p) => [p.id, p]));
  const row = (id, label, type) => {
    const value = getValue(id);
    return { id, label, text: formatValue(value, type, locale), missing: isMissing(value) };
  };
  const core = [];
  for (const field of CORE_FIELDS) {
    const r = row(field.id, t(field.label), byId.get(field.id)?.type);
    if (field.id === "parent" && r.missing) continue;
    core.push(r);
  }
  const attributes = [];
  const empty = [];
  for (const p of list) {
    if (CORE_IDS.has(p.id)) continue;
    const r = row(p.id, p.name || p.id, p.type);
    (r.missing ? empty : attributes).push(r);
  }
  return { core, attributes, empty };
}

/** The raw values of a feature keyed by source attribute name (for window.twin.selected). */
export function valuesByName(getValue, properties) {
  const out = {};
  for (const p of usable(properties)) {
    if (CORE_IDS.has(p.id)) continue;
    const v = getValue(p.id);
    out[p.name || p.id] = typeof v === "bigint" ? v.toString() : v;
  }
  return out;
}
