// Styling 3D Tiles by an attribute: which attributes can be styled, the Cesium3DTileStyle
// JSON for a choice (colour classes and a filter through `show`), colour ramps, category
// palettes, legend rows and the URL form of a choice. Pure: no DOM, no Cesium.
//
// A choice: {layer, property, mode, min, max, hidden, hideOther, hideNoValue}
//   mode: "quantile" | "equal" (numbers), "category" (text), "boolean"
//   min, max: numbers or null (numbers: show only objects in [min, max])
//   hidden: values not shown (categories, booleans as "true"/"false")
//   hideOther: hide the values outside the coloured ones; hideNoValue: hide objects without one
//
// Style expressions (https://github.com/CesiumGS/3d-tiles/tree/main/specification/Styling)
// read a property as ${feature['id']}. CesiumJS parses them its own way: every backslash is
// taken literally (no escapes inside '...'), "${" inside a string is an interpolation, "@#%"
// stands for a backslash, and a quote before a later ${...} confuses its variable scanner.
// So each condition holds one ${...}, first, and text values are written as concatenated
// pieces that never contain their own quote, "${" or "@#%" (see stringLiteral).

/** Property ids as the tiles have them (tiles/metadata.py). */
export const PROPERTY_ID = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LAYER_NAME = /^[A-Za-z0-9_-]{1,63}$/;

/** Viridis (matplotlib's, colour-blind-safe and in order when printed grey) at 0, ¼, ½, ¾, 1. */
export const VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];
/** Okabe & Ito's colour-blind-safe palette, in its usual order. */
export const OKABE_ITO = [
  "#E69F00",
  "#56B4E9",
  "#009E73",
  "#F0E442",
  "#0072B2",
  "#D55E00",
  "#CC79A7",
  "#000000",
];
/** Values beyond the palette, and objects without a value. */
export const OTHER_COLOR = "#8C8C8C";
export const NO_VALUE_COLOR = "#E6E6E6";
export const BOOLEAN_COLORS = { true: "#0072B2", false: "#E69F00" };
export const MODES = ["quantile", "equal", "category", "boolean"];
const MODE_CODES = { quantile: "q", equal: "e", category: "c", boolean: "b" };
const MAX_HIDDEN = 50;
const MAX_VALUE = 200;

const hex2 = (v) => Math.round(v).toString(16).padStart(2, "0");

/** The viridis colour at t in [0, 1] ("#rrggbb"), linear between its five anchors. */
export function viridis(t) {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const rgb = (c) => [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16));
  const a = rgb(VIRIDIS[i]);
  const b = rgb(VIRIDIS[i + 1]);
  return `#${a.map((v, k) => hex2(v + (b[k] - v) * f)).join("")}`;
}

/** n colours from the ramp, dark to light. */
export function rampColors(n) {
  if (n <= 1) return [viridis(0.5)];
  return Array.from({ length: n }, (_, i) => viridis(i / (n - 1)));
}

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

function numberClasses(stats, mode) {
  const c = stats?.classes?.[mode];
  if (!c || !Array.isArray(c.breaks) || !Array.isArray(c.counts)) return null;
  const { breaks, counts } = c;
  if (breaks.length < 1 || !breaks.every(isNum)) return null;
  if (counts.length !== Math.max(breaks.length - 1, 1) || !counts.every(isNum)) return null;
  for (let i = 1; i < breaks.length; i++) if (!(breaks[i] > breaks[i - 1])) return null;
  return { breaks, counts };
}

function categoryValues(stats) {
  if (!Array.isArray(stats?.values)) return null;
  const rows = stats.values.filter((r) => r && typeof r.value === "string" && isNum(r.count));
  return rows.length ? rows : null;
}

/**
 * What each property of a layer can be styled as: [{id, name, type, kind, stats}] with kind
 * "number" (needs stats with classes), "category" (text with a value list: at most 50
 * different values) or "boolean" (styled without stats too). Layers converted before
 * statistics were written therefore offer only their yes/no attributes.
 */
export function stylableProperties(properties) {
  const out = [];
  for (const p of properties || []) {
    if (!p || !PROPERTY_ID.test(p.id || "")) continue;
    const stats = p.stats && typeof p.stats === "object" ? p.stats : null;
    let kind = null;
    if (p.type === "BOOLEAN") kind = "boolean";
    else if ((p.type === "INT32" || p.type === "FLOAT64") && numberClasses(stats, "quantile")) {
      kind = "number";
    } else if (p.type === "STRING" && categoryValues(stats)) kind = "category";
    if (kind) out.push({ id: p.id, name: p.name || p.id, type: p.type, kind, stats });
  }
  return out;
}

/** How many properties wait for statistics (a layer converted before they were written). */
export function withoutStats(properties) {
  return (properties || []).filter(
    (p) => p && p.type !== "BOOLEAN" && !["id", "parent"].includes(p.id) && !p.stats,
  ).length;
}

/** The first choice for a property: all shown, quantile classes for numbers. */
export function defaultChoice(layer, prop) {
  const mode = prop.kind === "number" ? "quantile" : prop.kind;
  return {
    layer,
    property: prop.id,
    mode,
    min: null,
    max: null,
    hidden: [],
    hideOther: false,
    hideNoValue: false,
  };
}

/** A choice made to fit the property: mode for its kind, a sane range, known values only. */
export function fitChoice(choice, prop) {
  const c = { ...defaultChoice(choice.layer, prop) };
  if (prop.kind === "number") {
    c.mode = choice.mode === "equal" ? "equal" : "quantile";
    c.min = isNum(choice.min) ? choice.min : null;
    c.max = isNum(choice.max) ? choice.max : null;
    if (c.min !== null && c.max !== null && c.min > c.max) [c.min, c.max] = [c.max, c.min];
  } else {
    const known = new Set(legendValues(prop));
    c.hidden = [...new Set((choice.hidden || []).filter((v) => known.has(v)))];
    c.hideOther = prop.kind === "category" && Boolean(choice.hideOther);
  }
  c.hideNoValue = Boolean(choice.hideNoValue);
  return c;
}

/** The values that get a colour of their own (categories: the most frequent eight). */
export function legendValues(prop) {
  if (prop.kind === "boolean") return ["true", "false"];
  if (prop.kind !== "category") return [];
  return categoryValues(prop.stats).slice(0, OKABE_ITO.length).map((r) => r.value);
}

/**
 * The legend: [{kind, color, count, ...}] with kind "class" ({lo, hi, last}), "value"
 * ({value}), "other" or "none"; count from the statistics (null when unknown), and
 * `shown` (false when the filter hides the row's objects).
 */
export function legendRows(prop, choice) {
  const stats = prop.stats;
  const missing = isNum(stats?.missing) ? stats.missing : null;
  const rows = [];
  if (prop.kind === "number") {
    const { breaks, counts } = numberClasses(stats, choice.mode) || numberClasses(stats, "quantile");
    const colors = rampColors(counts.length);
    for (let i = 0; i < counts.length; i++) {
      const lo = breaks[i];
      const hi = breaks[Math.min(i + 1, breaks.length - 1)];
      const shown =
        (choice.min === null || hi >= choice.min) && (choice.max === null || lo <= choice.max);
      rows.push({ kind: "class", lo, hi, last: i === counts.length - 1, color: colors[i], count: counts[i], shown });
    }
  } else if (prop.kind === "category") {
    const values = categoryValues(stats);
    const coloured = values.slice(0, OKABE_ITO.length);
    coloured.forEach((r, i) => {
      rows.push({ kind: "value", value: r.value, color: OKABE_ITO[i], count: r.count, shown: !choice.hidden.includes(r.value) });
    });
    const listed = coloured.reduce((sum, r) => sum + r.count, 0);
    const total = isNum(stats?.count) ? stats.count : listed;
    if (total > listed || values.length > coloured.length) {
      rows.push({ kind: "other", color: OTHER_COLOR, count: total - listed, shown: !choice.hideOther });
    }
  } else if (prop.kind === "boolean") {
    for (const value of ["true", "false"]) {
      const count = isNum(stats?.[value]) ? stats[value] : null;
      rows.push({ kind: "value", value, color: BOOLEAN_COLORS[value], count, shown: !choice.hidden.includes(value) });
    }
  }
  if (missing === null || missing > 0) {
    rows.push({ kind: "none", color: NO_VALUE_COLOR, count: missing, shown: !choice.hideNoValue });
  }
  return rows;
}

/** `${feature['id']}` for a property id of the tiles; anything else is refused. */
export function propertyRef(id) {
  if (typeof id !== "string" || !PROPERTY_ID.test(id)) {
    throw new Error(`not a property id: ${JSON.stringify(id)}`);
  }
  return `\${feature['${id}']}`;
}

/**
 * A CesiumJS style expression that evaluates to the text `value`, whatever it holds:
 * pieces joined with +, each quoted with a quote it does not contain, split so that no
 * piece holds "${" or "@#%" (CesiumJS's stand-in for a backslash). Backslashes stay as
 * they are: CesiumJS reads them literally.
 */
export function stringLiteral(value) {
  const text = String(value);
  const pieces = [];
  let piece = "";
  let quote = null; // the quote the current piece must be wrapped in, once it needs one
  const close = () => {
    pieces.push(piece);
    piece = "";
    quote = null;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    // Break "${" and "@#%" across two pieces.
    if ((ch === "{" && piece.endsWith("$")) || (ch === "%" && piece.endsWith("@#"))) close();
    if (ch === "'" || ch === '"') {
      const need = ch === "'" ? '"' : "'";
      if (quote && quote !== need) close();
      quote = need;
    }
    piece += ch;
  }
  if (piece || !pieces.length) pieces.push(piece);
  return pieces.map((p) => (p.includes("'") ? `"${p}"` : `'${p}'`)).join(" + ");
}

const numberLiteral = (n) => (Object.is(n, -0) ? "0" : String(n));

/** The condition "the property equals this legend value" (booleans as true/false). */
function equalsValue(ref, prop, value) {
  if (prop.kind === "boolean") return `${ref} === ${value === "true" ? "true" : "false"}`;
  return `${ref} === ${stringLiteral(value)}`;
}

const colorOf = (hex) => `color('${hex}')`;

/**
 * The Cesium3DTileStyle JSON for a choice: `color` conditions (no value first, then the
 * classes or values in legend order, then the rest) and, when the filter hides anything,
 * `show` conditions.
 */
export function buildStyle(prop, choice) {
  const ref = propertyRef(prop.id);
  const none = `${ref} === undefined`;
  const color = [[none, colorOf(NO_VALUE_COLOR)]];
  const show = [[none, choice.hideNoValue ? "false" : "true"]];
  let filters = choice.hideNoValue;
  if (prop.kind === "number") {
    const rows = legendRows(prop, choice).filter((r) => r.kind === "class");
    rows.forEach((r, i) => {
      color.push([i === rows.length - 1 ? "true" : `${ref} < ${numberLiteral(rows[i + 1].lo)}`, colorOf(r.color)]);
    });
    const range = [];
    if (choice.min !== null) range.push(`${ref} >= ${numberLiteral(choice.min)}`);
    if (choice.max !== null) range.push(`${ref} <= ${numberLiteral(choice.max)}`);
    if (range.length) {
      show.push([range.join(" && "), "true"], ["true", "false"]);
      filters = true;
    } else {
      show.push(["true", "true"]);
    }
  } else {
    for (const r of legendRows(prop, choice)) {
      if (r.kind !== "value") continue;
      const is = equalsValue(ref, prop, r.value);
      color.push([is, colorOf(r.color)]);
      show.push([is, r.shown ? "true" : "false"]);
      if (!r.shown) filters = true;
    }
    color.push(["true", colorOf(OTHER_COLOR)]);
    if (choice.hideOther) filters = true;
    show.push(["true", choice.hideOther ? "false" : "true"]);
  }
  const style = { color: { conditions: color } };
  if (filters) style.show = { conditions: show };
  return style;
}

/**
 * The class or value row of the legend an attribute value falls into (what its colour is
 * meant to be): the same rules as buildStyle.
 */
export function rowOfValue(prop, choice, value) {
  const rows = legendRows(prop, choice);
  if (value === undefined || value === null) return rows.find((r) => r.kind === "none") ?? null;
  if (prop.kind === "number") {
    const classes = rows.filter((r) => r.kind === "class");
    let k = 0;
    for (let i = 1; i < classes.length; i++) if (value >= classes[i].lo) k = i;
    return classes[k];
  }
  const text = prop.kind === "boolean" ? String(Boolean(value)) : String(value);
  return rows.find((r) => r.kind === "value" && r.value === text) ?? rows.find((r) => r.kind === "other") ?? null;
}

// --- the URL ----------------------------------------------------------------------------
//
//   style=<layer>:<property>:<q|e|c|b>[:<min>:<max>:<flags>:<hidden,...>]
//   flags: "n" hides objects without a value, "o" the other values; hidden values are
//   percent-encoded (so they hold no ":" or ","). Trailing empty fields are left out.

/** The `style` parameter's text for a choice. */
export function encodeStyleParam(choice) {
  const c = choice;
  if (!c || !LAYER_NAME.test(c.layer || "") || !PROPERTY_ID.test(c.property || "")) return null;
  if (!MODE_CODES[c.mode]) return null;
  const flags = `${c.hideNoValue ? "n" : ""}${c.hideOther ? "o" : ""}`;
  const hidden = (c.hidden || [])
    .slice(0, MAX_HIDDEN)
    .map((v) => encodeURIComponent(String(v)))
    .join(",");
  const fields = [
    c.layer,
    c.property,
    MODE_CODES[c.mode],
    isNum(c.min) ? numberLiteral(c.min) : "",
    isNum(c.max) ? numberLiteral(c.max) : "",
    flags,
    hidden,
  ];
  while (fields.length > 3 && fields[fields.length - 1] === "") fields.pop();
  return fields.join(":");
}

function parseNumber(text) {
  if (typeof text !== "string" || !/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** The choice a `style` parameter describes, or null when it is malformed. */
export function parseStyleParam(text) {
  if (typeof text !== "string" || text.length > 12000) return null;
  const [layer, property, code, min = "", max = "", flags = "", hidden = ""] = text.split(":");
  const mode = Object.keys(MODE_CODES).find((m) => MODE_CODES[m] === code);
  if (!LAYER_NAME.test(layer || "") || !PROPERTY_ID.test(property || "") || !mode) return null;
  let values = [];
  try {
    values = hidden ? hidden.split(",").map(decodeURIComponent) : [];
  } catch {
    return null;
  }
  values = values.filter((v) => v.length <= MAX_VALUE && !/[\u0000-\u001f]/.test(v));
  let lo = parseNumber(min);
  let hi = parseNumber(max);
  if (lo !== null && hi !== null && lo > hi) [lo, hi] = [hi, lo];
  return {
    layer,
    property,
    mode,
    min: lo,
    max: hi,
    hidden: [...new Set(values)].slice(0, MAX_HIDDEN),
    hideOther: flags.includes("o"),
    hideNoValue: flags.includes("n"),
  };
}
