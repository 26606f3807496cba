// "På kartan": the text alternative to the 3D canvas. What is on the map as plain rows:
// the layers (title, object count, shown or hidden), the listed projects (title,
// municipalities, status) and the sensors (name, latest value with unit, state in words).
// Pure: no DOM, no CesiumJS; onmap.js draws it.
import { formatResult } from "./sensors-style.js";
import { formatNumber, t } from "./strings.js";

/**
 * @typedef {{kind: "layer"|"project"|"sensor", key: string, title: string, detail: string,
 *            state?: string}} OnMapRow
 */

/**
 * @param {{name: string, title?: string, featureCount?: number|null, shown?: boolean,
 *          error?: string|null}[]} layers
 * @returns {OnMapRow[]}
 */
export function layerRows(layers) {
  return (layers || []).map((l) => {
    const count = Number.isFinite(l.featureCount) && l.featureCount >= 0 ? l.featureCount : null;
    const parts = [];
    if (count !== null) parts.push(t("layers.count", { count, n: formatNumber(count) }));
    parts.push(l.error ? t("onmap.failed") : t(l.shown ? "onmap.shown" : "onmap.hidden"));
    return {
      kind: "layer",
      key: String(l.name),
      title: l.title || String(l.name),
      detail: parts.join(" · "),
      state: l.error ? "error" : l.shown ? "shown" : "hidden",
    };
  });
}

/**
 * @param {object[]} projects the catalogue's listed projects (ProjectOut-like)
 * @param {{municipalityName?: (code: string) => string}} [names]
 * @returns {OnMapRow[]}
 */
export function projectRows(projects, { municipalityName = (code) => code } = {}) {
  return (projects || [])
    .filter((p) => p && p.id !== undefined && p.id !== null)
    .map((p) => {
      const places = (Array.isArray(p.municipalities) ? p.municipalities : [])
        .map(municipalityName)
        .filter(Boolean)
        .join(", ");
      const parts = [p.status ? t(`status.${p.status}`) : null, places || null];
      return {
        kind: "project",
        key: String(p.id),
        title: p.title_sv || t("onmap.untitled", { id: p.id }),
        detail: parts.filter(Boolean).join(" · "),
      };
    });
}

/**
 * @param {{key: string, name?: string, state?: string, result?: unknown,
 *          unit?: object|null, replay?: boolean}[]} things a summary per thing
 * @returns {OnMapRow[]}
 */
export function sensorRows(things) {
  return (things || []).map((th) => {
    const state = th.state || "none";
    const value =
      th.result === undefined || th.result === null
        ? t("sensors.noData")
        : formatResult(th.result, th.unit ?? null);
    const parts = [value, t(`sensors.state.${state}`)];
    if (th.replay) parts.push(t("sensors.replay"));
    return {
      kind: "sensor",
      key: String(th.key),
      title: th.name || String(th.key),
      detail: parts.join(" · "),
      state,
    };
  });
}

/**
 * The whole list: three sections in map order and the counts line (the only text that is
 * announced: values change too often to read each one out).
 * @param {{layers?: object[], projects?: object[], things?: object[],
 *          municipalityName?: (code: string) => string}} input
 */
export function onMapModel({ layers = [], projects = [], things = [], municipalityName } = {}) {
  const sections = [
    { kind: "layer", heading: t("layers.heading"), rows: layerRows(layers) },
    { kind: "project", heading: t("catalogue.heading"), rows: projectRows(projects, { municipalityName }) },
    { kind: "sensor", heading: t("sensors.heading"), rows: sensorRows(things) },
  ];
  const shownLayers = sections[0].rows.filter((r) => r.state === "shown").length;
  const counts = t("onmap.counts", {
    layers: t("onmap.layerCount", { count: shownLayers }),
    projects: t("onmap.projectCount", { count: sections[1].rows.length }),
    sensors: t("onmap.sensorCount", { count: sections[2].rows.length }),
  });
  return { sections, counts };
}
