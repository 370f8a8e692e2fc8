/* base.js: helpers shared by every widget module.
 *
 * widgets.base.bundle() prepends this file to each widget's ES module, so it only
 * declares functions and constants (no imports, no exports). Colors come from CSS
 * variables set in base.css, so the page's theme (JupyterLab light/dark, or the
 * browser's color scheme outside JupyterLab) decides the actual hues.
 */

/** Largest background opacity a color scale uses; keeps text readable on any theme. */
const MAX_ALPHA = 0.85;

/** Create an element with an optional class name and text. */
function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

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
 *   hint:      status text when nothing is hovered or selected
 * Returns {strip, status, spans, paint(values, scale), highlight(i), refresh()}; call
 * refresh() when describe() would say something new (paint and highlight call it).
 */
function makeTokenStrip({ tokens, describe, onSelect, hint }) {
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
