// "Färglägg efter attribut": per 3D Tiles layer, colour and filter its objects by one
// attribute (Cesium3DTileStyle from styling-model.js), with a legend that is also the
// category filter. DOM and CesiumJS; the rules are in styling-model.js.
import { el } from "./dom.js";
import { formatNumber, t } from "./strings.js";
import {
  buildStyle,
  defaultChoice,
  fitChoice,
  legendRows,
  stylableProperties,
  withoutStats,
} from "./styling-model.js";

const MAX_DIGITS = { maximumFractionDigits: 2 };

/**
 * `selected()` gives the selected feature (or undefined); `onSelectedHidden()` is called
 * when a filter hides it, so that its panel does not describe an object no longer shown.
 * @param {{doc: Document, viewer, twin, notice, tilesetOf: (name) => object|undefined,
 *   selected?: () => object|undefined, onSelectedHidden?: () => void}} options
 */
export function createStyling({
  doc,
  viewer,
  twin,
  notice,
  tilesetOf,
  selected = () => undefined,
  onSelectedHidden = () => {},
}) {
  const C = globalThis.Cesium;
  const layers = new Map(); // name -> {layer, props, choice, ui, blendMode}
  const state = {};
  twin.styling = {
    layers: state, // {name: {property, name, mode, legend: [...], filtered}} while styled
    ignored: [], // [{layer, property}] from the last link that named unknown attributes
  };
  Object.defineProperties(twin.styling, {
    apply: { value: (choice) => choose(choice.layer, choice), enumerable: false },
    reset: { value: (name) => choose(name, null), enumerable: false },
  });

  function propOf(entry, id) {
    return entry.props.find((p) => p.id === id) ?? null;
  }

  /**
   * Paint the layer's tileset as its choice says (or as it was, without one). True when
   * the new filter hid the selected object (which is then no longer selected).
   */
  function paint(entry) {
    const tileset = tilesetOf(entry.layer.name);
    if (!tileset || tileset.isDestroyed?.()) return false;
    let hidSelected = false;
    const prop = entry.choice && propOf(entry, entry.choice.property);
    if (entry.blendMode === undefined) entry.blendMode = tileset.colorBlendMode;
    if (prop) {
      const style = new C.Cesium3DTileStyle(buildStyle(prop, entry.choice));
      tileset.style = style;
      // The class colour itself (lit), not multiplied with the model's surface colours.
      tileset.colorBlendMode = C.Cesium3DTileColorBlendMode.REPLACE;
      hidSelected = hidesSelected(tileset, style);
    } else if (tileset.style) {
      tileset.style = undefined;
      tileset.colorBlendMode = entry.blendMode;
    }
    viewer.scene.requestRender();
    return hidSelected;
  }

  /** When the style's filter hides the selected object, let it go (true). */
  function hidesSelected(tileset, style) {
    const feature = selected();
    if (!feature || feature.tileset !== tileset || !style.show) return false;
    let shown = true;
    try {
      shown = style.show.evaluate(feature) !== false;
    } catch {
      return false; // a feature of a tile already gone
    }
    if (shown) return false;
    onSelectedHidden();
    return true;
  }

  function publish(entry) {
    const name = entry.layer.name;
    const prop = entry.choice && propOf(entry, entry.choice.property);
    if (!prop) {
      delete state[name];
      return;
    }
    const c = entry.choice;
    const legend = legendRows(prop, c).map((r) => ({ ...r, label: rowLabel(r) }));
    state[name] = {
      property: prop.id,
      name: prop.name,
      kind: prop.kind,
      mode: c.mode,
      min: c.min,
      max: c.max,
      hidden: [...c.hidden],
      hideOther: c.hideOther,
      hideNoValue: c.hideNoValue,
      legend,
    };
  }

  /** Set (or with null, clear) the choice of a layer; false when it does not apply. */
  function choose(name, choice, { announce = true } = {}) {
    const entry = layers.get(name);
    if (!entry) return false;
    const prop = choice && propOf(entry, choice.property);
    if (choice && !prop) return false;
    entry.choice = prop ? fitChoice({ ...choice, layer: name }, prop) : null;
    const hidSelected = paint(entry);
    publish(entry);
    draw(entry);
    const said = [];
    if (announce) {
      said.push(
        prop
          ? t("styling.applied", { title: entry.layer.title, name: prop.name })
          : t("styling.cleared", { title: entry.layer.title }),
      );
    }
    if (hidSelected) said.push(t("styling.selectedHidden"));
    if (said.length) notice.announce(said.join(". "));
    return true;
  }

  function update(entry, changes) {
    choose(entry.layer.name, { ...entry.choice, ...changes });
  }

  // --- texts -----------------------------------------------------------------------------

  function valueText(value) {
    if (value === "true") return t("value.yes");
    if (value === "false") return t("value.no");
    return value === "" ? t("styling.emptyText") : value;
  }

  function rowLabel(row) {
    if (row.kind === "class") {
      return t("styling.range", {
        from: formatNumber(row.lo, MAX_DIGITS),
        to: formatNumber(row.hi, MAX_DIGITS),
      });
    }
    if (row.kind === "value") return valueText(row.value);
    if (row.kind === "other") return t("styling.other");
    return t("styling.noValue");
  }

  // --- the control -----------------------------------------------------------------------

  function build(entry) {
    const name = entry.layer.name;
    const id = (part) => `styling-${name}-${part}`;
    const details = el(doc, "details", { className: "styling", attrs: { "data-layer": name } });
    const summary = el(doc, "summary", { text: t("styling.heading") });
    const select = el(doc, "select", { attrs: { id: id("attr"), name: id("attr") } });
    select.append(el(doc, "option", { text: t("styling.none"), attrs: { value: "" } }));
    for (const kind of ["number", "category", "boolean"]) {
      const props = entry.props.filter((p) => p.kind === kind);
      if (!props.length) continue;
      const group = el(doc, "optgroup", { attrs: { label: t(`styling.kind.${kind}`) } });
      for (const p of props) group.append(el(doc, "option", { text: p.name, attrs: { value: p.id } }));
      select.append(group);
    }
    select.disabled = entry.props.length === 0;
    select.addEventListener("change", () => {
      const prop = propOf(entry, select.value);
      choose(name, prop ? defaultChoice(name, prop) : null);
    });
    const attrField = el(doc, "label", { className: "styling-field" }, [
      el(doc, "span", { text: t("styling.attribute") }),
      select,
    ]);

    const mode = el(doc, "select", { attrs: { id: id("mode"), name: id("mode") } });
    for (const m of ["quantile", "equal"]) {
      mode.append(el(doc, "option", { text: t(`styling.mode.${m}`), attrs: { value: m } }));
    }
    mode.addEventListener("change", () => update(entry, { mode: mode.value }));
    const modeField = el(doc, "label", { className: "styling-field" }, [
      el(doc, "span", { text: t("styling.classes") }),
      mode,
    ]);

    const number = (part, label) => {
      const input = el(doc, "input", {
        attrs: { type: "number", step: "any", id: id(part), name: id(part), inputmode: "decimal" },
      });
      input.addEventListener("change", () => {
        const v = input.value.trim() === "" ? null : Number(input.value);
        update(entry, { [part]: Number.isFinite(v) ? v : null });
      });
      return [input, el(doc, "label", { className: "styling-bound" }, [el(doc, "span", { text: label }), input])];
    };
    const [minInput, minLabel] = number("min", t("styling.from"));
    const [maxInput, maxLabel] = number("max", t("styling.to"));
    const range = el(doc, "fieldset", { className: "styling-range" }, [
      el(doc, "legend", { text: t("styling.rangeHeading") }),
      minLabel,
      maxLabel,
    ]);

    const legendList = el(doc, "ul", { className: "legend-list styling-legend" });
    const legend = el(doc, "fieldset", { className: "styling-legend-box" }, [
      el(doc, "legend", { text: t("styling.legend") }),
      legendList,
    ]);

    const noValue = el(doc, "input", { attrs: { type: "checkbox", id: id("novalue"), name: id("novalue") } });
    noValue.addEventListener("change", () => update(entry, { hideNoValue: noValue.checked }));
    const noValueField = el(doc, "label", { className: "styling-check" }, [
      noValue,
      el(doc, "span", { text: t("styling.hideNoValue") }),
    ]);

    const reset = el(doc, "button", {
      className: "button secondary styling-reset",
      text: t("styling.reset"),
      attrs: { type: "button" },
    });
    reset.addEventListener("click", () => {
      choose(name, null);
      select.focus();
    });

    const missing = withoutStats(entry.layer.properties);
    const note = el(doc, "p", {
      className: "muted styling-note",
      text: missing ? t("styling.noStats", { count: missing }) : "",
    });
    note.hidden = !missing;
    const body = el(doc, "div", { className: "styling-body" }, [
      attrField,
      modeField,
      range,
      legend,
      noValueField,
      reset,
      note,
    ]);
    details.append(summary, body);
    entry.ui = { details, select, mode, modeField, minInput, maxInput, range, legend, legendList, noValue, noValueField, reset };
    draw(entry);
    return details;
  }

  function legendItem(entry, row) {
    const swatch = el(doc, "span", { className: "swatch", attrs: { "aria-hidden": "true" } });
    swatch.style.background = row.color;
    const parts = [
      swatch,
      el(doc, "span", { className: "styling-label", text: rowLabel(row) }),
      el(doc, "span", {
        className: "legend-count",
        text: row.count === null ? "" : formatNumber(row.count),
      }),
    ];
    const li = el(doc, "li", { attrs: { "data-kind": row.kind } });
    li.dataset.color = row.color;
    const checkable = row.kind === "value" || row.kind === "other";
    if (!checkable) {
      li.append(...parts);
      li.classList.toggle("styling-off", !row.shown);
      return li;
    }
    const box = el(doc, "input", { attrs: { type: "checkbox" } });
    box.checked = row.shown;
    box.addEventListener("change", () => {
      const c = entry.choice;
      if (row.kind === "other") {
        update(entry, { hideOther: !box.checked });
      } else {
        const hidden = c.hidden.filter((v) => v !== row.value);
        if (!box.checked) hidden.push(row.value);
        update(entry, { hidden });
      }
      // The list was drawn again: keep the keyboard where it was.
      const rows = [...entry.ui.legendList.querySelectorAll("input")];
      rows[index]?.focus();
    });
    const index = entry.ui.legendList.querySelectorAll("input").length;
    li.append(el(doc, "label", { className: "styling-check" }, [box, ...parts]));
    return li;
  }

  /** Bring the control in step with the choice. */
  function draw(entry) {
    const ui = entry.ui;
    if (!ui) return;
    const c = entry.choice;
    const prop = c && propOf(entry, c.property);
    ui.select.value = prop ? prop.id : "";
    const isNumber = prop?.kind === "number";
    ui.modeField.hidden = !isNumber;
    ui.range.hidden = !isNumber;
    ui.legend.hidden = !prop;
    ui.noValueField.hidden = !prop;
    ui.reset.disabled = !prop;
    if (!prop) return;
    if (isNumber) {
      ui.mode.value = c.mode;
      ui.minInput.value = c.min === null ? "" : String(c.min);
      ui.maxInput.value = c.max === null ? "" : String(c.max);
      ui.minInput.placeholder = formatNumber(prop.stats.min, MAX_DIGITS);
      ui.maxInput.placeholder = formatNumber(prop.stats.max, MAX_DIGITS);
    }
    ui.noValue.checked = c.hideNoValue;
    ui.legendList.replaceChildren();
    for (const row of legendRows(prop, c)) ui.legendList.append(legendItem(entry, row));
  }

  return {
    /** Build the controls into the layer list (after each layer-panel render). */
    render(configLayers) {
      const before = new Map([...layers].map(([n, e]) => [n, e]));
      layers.clear();
      for (const layer of configLayers) {
        if (layer.kind !== "3dtiles") continue;
        const old = before.get(layer.name);
        const entry = { layer, props: stylableProperties(layer.properties), choice: null, ui: null };
        entry.blendMode = old?.blendMode;
        layers.set(layer.name, entry);
        const li = doc.querySelector(`#layer-list li[data-layer="${CSS.escape(layer.name)}"]`);
        if (li) li.append(build(entry));
        // A new version keeps the choice when it still has the attribute.
        const keep = old?.choice && propOf(entry, old.choice.property);
        choose(layer.name, keep ? old.choice : null, { announce: false });
      }
      for (const name of before.keys()) if (!layers.has(name)) delete state[name];
    },
    /** A layer's tileset has loaded: give it its style. */
    attach(name) {
      const entry = layers.get(name);
      if (entry) paint(entry);
    },
    /** The styles for the URL: one choice per styled layer. */
    urlState() {
      return [...layers.values()].filter((e) => e.choice).map((e) => ({ ...e.choice }));
    },
    /**
     * Apply the styles of a link (and clear the others); returns [{layer, property}] for
     * the ones naming a layer or attribute this viewer cannot style (ignored).
     */
    restore(styles) {
      const ignored = [];
      const wanted = new Map();
      for (const s of styles || []) {
        const entry = layers.get(s.layer);
        if (entry && propOf(entry, s.property)) wanted.set(s.layer, s);
        else ignored.push({ layer: s.layer, property: s.property });
      }
      for (const [name, entry] of layers) {
        const want = wanted.get(name) ?? null;
        const now = entry.choice;
        const same =
          want && now && JSON.stringify(fitChoice(want, propOf(entry, want.property))) === JSON.stringify(now);
        if (!same && (want || now)) choose(name, want, { announce: false });
      }
      twin.styling.ignored = ignored;
      return ignored;
    },
  };
}
