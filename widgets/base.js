/* base.js: helpers shared by every widget module.
 *
 * widgets.base.bundle() prepends this file to each widget's ES module, so it only
 * declares functions and constants (no imports, no exports); a widget module must not
 * declare these names again. Colors come from CSS variables set in base.css, so the page's
 * theme (JupyterLab light/dark, or the browser's color scheme outside JupyterLab) decides
 * the actual hues. Sections: DOM and controls; categorical colors; axis ticks; binary
 * data and values; color scales and legends; token strips.
 */

/** Largest background opacity a color scale uses; keeps text readable on any theme. */
const MAX_ALPHA = 0.85;
const SVG_NS = "http://www.w3.org/2000/svg";
const STATIC_HOST_CLASS = "anywidget-host-view"; // the element toolkit.htmlexport renders into

/* DOM and controls. */

/** Create an element with an optional class name and text. */
function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Create an SVG element with attributes, appended to `parent` when given. */
function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  parent?.append(node);
  return node;
}

/** Whether the view renders in a static HTML export, where no kernel answers. */
function isStaticCopy(el) {
  return el.classList.contains(STATIC_HOST_CLASS);
}

/** Set the model's trait `name` to `value` and send it to Python. */
function saveTrait(model, name, value) {
  model.set(name, value);
  model.save_changes();
}

/**
 * A <select> named `label` (aria-label; class rt-<label in kebab case>-picker) over
 * `options`: values, or [value, text] pairs. Disabled when there is nothing to choose.
 */
function makePicker(label, options) {
  const select = h("select", `rt-${label.toLowerCase().replace(/\W+/g, "-")}-picker`);
  select.setAttribute("aria-label", label);
  select.disabled = options.length < 2;
  for (const option of options) {
    const [value, text] = Array.isArray(option) ? option : [option, option];
    select.append(new Option(text, String(value)));
  }
  return select;
}

/**
 * A range input over [0, max] in steps of `step`, named `label` (aria-label); disabled
 * when max is 0. Arrow keys move it, not JupyterLab's notebook cells.
 */
function makeSlider(className, label, max, step = 1) {
  const slider = h("input", className);
  Object.assign(slider, { type: "range", min: "0", max: String(max), step: String(step) });
  slider.disabled = max <= 0;
  slider.setAttribute("aria-label", label);
  slider.dataset.lmSuppressShortcuts = "true";
  return slider;
}

/**
 * A row of controls (a <label>, classes rt-control and `className`): a muted `name`, then
 * `content` (e.g. a slider and its readout).
 */
function controlRow(className, name, ...content) {
  const row = h("label", `rt-control ${className}`);
  row.append(h("span", "rt-control-name", name), ...content);
  return row;
}

/** A small dot (.rt-swatch in base.css) of CSS color `color`. */
function makeSwatch(color) {
  const swatch = h("span", "rt-swatch");
  swatch.style.background = color;
  return swatch;
}

/** A legend entry: a swatch of CSS color `color`, then `text`. */
function legendEntry(text, color) {
  const entry = h("span", "rt-legend-entry");
  entry.append(makeSwatch(color), text);
  return entry;
}

/* Categorical colors. */

/** Hues --rt-category-0 .. -3 in base.css (Okabe-Ito without green), reused in turn. */
const CATEGORY_COLORS = 4;

/** The CSS color of category i: variants, voices, tracks, in their order. */
function categoryColor(i) {
  return `var(--rt-category-${i % CATEGORY_COLORS})`;
}

/* Axis ticks. */

/** The smallest round step (1, 2 or 5 × 10^k) that is at least `raw` > 0. */
function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
}

/**
 * Multiples of `step` from lo to hi, with a tolerance of 1e-9 · step at each end:
 *   cover = false: those inside [lo, hi] (the ticks of an axis spanning [lo, hi]);
 *   cover = true:  from the last at or below lo to the first at or above hi (grid lines
 *                  enclosing data that spans [lo, hi]).
 */
function stepTicks(lo, hi, step, cover = false) {
  const first = cover ? Math.floor(lo / step + 1e-9) : Math.ceil(lo / step - 1e-9);
  const last = cover ? Math.ceil(hi / step - 1e-9) : Math.floor(hi / step + 1e-9);
  const ticks = [];
  for (let i = first; i <= last; i++) ticks.push(i * step);
  return ticks;
}

/** About `count` round values inside [lo, hi]: the multiples of a 1-2-5 step. */
function niceTicks(lo, hi, count) {
  return stepTicks(lo, hi, niceStep((hi - lo) / count));
}

/* Binary data and values. */

/** Float32Array from little-endian float32 bytes (a DataView, typed array or ArrayBuffer). */
function readFloat32(buffer) {
  const view =
    buffer instanceof DataView
      ? buffer
      : ArrayBuffer.isView(buffer)
        ? new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
        : new DataView(buffer);
  const out = new Float32Array(view.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** Shortest decimal that reads back as the same float32: the exact value held. */
function formatValue(value) {
  for (let digits = 1; digits <= 9; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(value);
}

/* Color scales and legends. */

/** Background color: the hue in CSS variable `hueVar` at opacity t * MAX_ALPHA. */
function tint(hueVar, t) {
  return `rgb(var(${hueVar}) / ${(MAX_ALPHA * t).toFixed(3)})`;
}

/**
 * A color scale for `values`, or for the fixed range `domain` = [lo, hi] when given (so
 * several views of one quantity share colors).
 *   "diverging":  centered at 0 on [-m, m] with m = max |value|; negative blue, positive red.
 *   "sequential": [min, max] mapped from transparent to full strength of one hue.
 * Returns {kind, lo, hi, color(value), gradient} (gradient: CSS for the legend bar).
 */
function makeScale(kind, values, domain) {
  let lo = Infinity;
  let hi = -Infinity;
  if (domain) [lo, hi] = domain;
  else {
    for (const v of values) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (kind === "diverging") {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return {
      kind,
      lo: -m,
      hi: m,
      color: (v) => (v < 0 ? tint("--rt-negative", -v / m) : tint("--rt-positive", v / m)),
      gradient: `linear-gradient(to right, ${tint("--rt-negative", 1)}, ${tint("--rt-negative", 0)} 50%, ${tint("--rt-positive", 0)} 50%, ${tint("--rt-positive", 1)})`,
    };
  }
  const span = hi - lo || 1;
  return {
    kind,
    lo,
    hi,
    color: (v) => tint("--rt-sequential", (v - lo) / span),
    gradient: `linear-gradient(to right, ${tint("--rt-sequential", 0)}, ${tint("--rt-sequential", 1)})`,
  };
}

/** A legend (min label, gradient bar, max label); call update(scale) after each recolor. */
function makeLegend() {
  const el = h("div", "rt-legend");
  const lo = h("span", "rt-legend-lo");
  const bar = h("span", "rt-legend-bar");
  const hi = h("span", "rt-legend-hi");
  el.append(lo, bar, hi);
  return {
    el,
    update(scale) {
      lo.textContent = formatValue(scale.lo);
      hi.textContent = formatValue(scale.hi);
      bar.style.background = scale.gradient;
      el.dataset.kind = scale.kind;
      el.title = `${scale.kind} scale from ${lo.textContent} to ${hi.textContent}`;
    },
  };
}

/* Token strips: one span per token, shared by every view that colors tokens. */

/** Whitespace made visible: spaces (GPT-2 "Ġ", SentencePiece "▁") as "·", newlines as "↵". */
const WHITESPACE_MARKS = [
  [/[ \u0120\u2581]/g, "\u00b7"],
  [/[\n\u010a]/g, "\u21b5"],
  [/[\t\u0109]/g, "\u21e5"],
];
const LINE_END = /[\n\u010a]$/;
const TOKEN_HINT = "Hover a token to see its value; click to select it.";
const BLANK = /^[\s\u0120\u2581\u010a\u0109]*$/;

function displayText(token) {
  if (token === "") return "\u2205";
  return WHITESPACE_MARKS.reduce((text, [pattern, mark]) => text.replace(pattern, mark), token);
}

/** Append one span per token to `container` in a single DOM write; return the spans. */
function buildTokens(container, tokens) {
  const fragment = document.createDocumentFragment();
  const spans = tokens.map((token, i) => {
    const span = h("span", BLANK.test(token) ? "rt-token rt-blank" : "rt-token", displayText(token));
    span.dataset.index = String(i);
    fragment.append(span);
    if (LINE_END.test(token)) fragment.append(document.createElement("br"));
    return span;
  });
  container.append(fragment);
  return spans;
}

/**
 * A token strip (`strip`: a focusable box of token spans) and its status line (`status`).
 * Built for thousands of tokens: the spans are created once, four listeners on the strip
 * serve every token (event delegation), and paint() only rewrites background colors.
 *   tokens:    the token strings
 *   describe:  i -> text for token i (hover readout, tooltip, and the "selected" line)
 *   onSelect:  i -> void; asked to select token i (-1: none) on click, arrow keys, Escape.
 *              The caller stores the selection (e.g. in the model) and calls highlight(i).
 *   hint:      status text when nothing is hovered or selected (default TOKEN_HINT)
 * Returns {strip, status, spans, paint(values, scale), highlight(i), refresh()}; call
 * refresh() when describe() would say something new (paint and highlight call it).
 */
function makeTokenStrip({ tokens, describe, onSelect, hint = TOKEN_HINT }) {
  const strip = h("div", "rt-strip");
  strip.tabIndex = 0;
  strip.setAttribute("aria-label", "Tokens: arrow keys move the selection, Escape clears it");
  strip.dataset.lmSuppressShortcuts = "true"; // keep JupyterLab's notebook shortcuts out
  const status = h("div", "rt-status", hint);
  status.setAttribute("aria-live", "polite");
  const spans = buildTokens(strip, tokens);
  let selected = -1;
  let hovered = -1; // kept while the pointer is on the strip, so a recolor updates its readout

  function refresh() {
    const shown = hovered >= 0 ? hovered : selected;
    status.textContent =
      shown < 0 ? hint : `${shown === selected ? "selected " : ""}${describe(shown)}`;
    if (hovered >= 0) spans[hovered].title = status.textContent;
  }

  function paint(values, scale) {
    for (let i = 0; i < spans.length; i++) spans[i].style.backgroundColor = scale.color(values[i]);
    refresh();
  }

  function highlight(i) {
    spans[selected]?.classList.remove("rt-selected");
    selected = i;
    spans[selected]?.classList.add("rt-selected");
    spans[selected]?.scrollIntoView({ block: "nearest", inline: "nearest" });
    refresh();
  }

  function tokenIndex(target) {
    const span = target.closest(".rt-token");
    return span ? Number(span.dataset.index) : -1;
  }

  strip.addEventListener("mouseover", (event) => {
    const i = tokenIndex(event.target);
    if (i < 0) return;
    hovered = i;
    refresh();
  });
  strip.addEventListener("mouseleave", () => {
    hovered = -1;
    refresh();
  });
  strip.addEventListener("click", (event) => {
    const i = tokenIndex(event.target);
    if (i >= 0) onSelect(i === selected ? -1 : i);
  });
  strip.addEventListener("keydown", (event) => {
    const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
    if (step) onSelect(Math.min(spans.length - 1, Math.max(0, selected + step)));
    else if (event.key === "Escape") onSelect(-1);
    else return;
    event.preventDefault();
  });

  return { strip, status, spans, paint, highlight, refresh };
}
