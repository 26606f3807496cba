// Category colours, the legend, municipality labels. Pure: no DOM, no Cesium.
import { localName, t } from "./strings.js";

/** A fixed colour per known category key (colour-blind-friendly where the palette allows). */
export const CATEGORY_COLORS = {
  mobility: "#1f77b4",
  energy: "#ff9f1c",
  environment: "#2ca02c",
  water: "#17becf",
  safety: "#d62728",
  "health-care": "#e377c2",
  education: "#9467bd",
  "citizen-services": "#8c564b",
  infrastructure: "#7f7f7f",
  business: "#bcbd22",
  "urban-planning": "#393b79",
  digitalisation: "#00a6a6",
};

/** Projects without a category. */
export const NO_CATEGORY_COLOR = "#5b6770";

/** Colours for keys the table does not know (new categories), picked by a stable hash. */
const FALLBACK = ["#6a3d9a", "#b15928", "#33a02c", "#e31a1c", "#1f78b4", "#fb9a99", "#cab2d6"];

function hash(text) {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return h;
}

/** CSS colour (#rrggbb) of a category key. */
export function categoryColor(key) {
  if (!key) return NO_CATEGORY_COLOR;
  return CATEGORY_COLORS[key] ?? FALLBACK[hash(String(key)) % FALLBACK.length];
}

/** The category that colours a project: its first one in the category list's order. */
export function primaryCategory(project, categories = []) {
  const keys = Array.isArray(project?.categories) ? project.categories : [];
  if (!keys.length) return null;
  const order = new Map(categories.map((c, i) => [c.key, i]));
  return [...keys].sort((a, b) => (order.get(a) ?? 1e9) - (order.get(b) ?? 1e9))[0];
}

/** CSS colour of a project's pin and shapes. */
export function projectColor(project, categories = []) {
  return categoryColor(primaryCategory(project, categories));
}

/**
 * Legend rows for the shown projects: one per category that colours at least one of them,
 * in the category list's order, with a count; "no category" last when it occurs.
 * @returns {{key: string|null, name: string, color: string, count: number}[]}
 */
export function legendEntries(projects, categories, { noCategoryName = "–" } = {}) {
  const counts = new Map();
  for (const p of projects) {
    const key = primaryCategory(p, categories);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const rows = [];
  for (const c of categories) {
    if (counts.has(c.key)) {
      rows.push({ key: c.key, name: localName(c), color: categoryColor(c.key), count: counts.get(c.key) });
      counts.delete(c.key);
    }
  }
  for (const [key, count] of counts) {
    if (key === null) continue;
    rows.push({ key, name: key, color: categoryColor(key), count });
  }
  if (counts.has(null)) {
    rows.push({ key: null, name: noCategoryName, color: NO_CATEGORY_COLOR, count: counts.get(null) });
  }
  return rows;
}

/** A municipality's name; a demo organisation is labelled as such unless its name says so. */
export function demoLabel(m) {
  const name = m?.name || m?.code || "";
  if (!m?.is_demo || /demo|exempel/i.test(name)) return name;
  return `${name} ${t("catalogue.demo")}`;
}
