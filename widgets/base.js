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
 * A color scale for `values`.
 *   "diverging":  centered at 0 on [-m, m] with m = max |value|; negative blue, positive red.
 *   "sequential": [min, max] mapped from transparent to full strength of one hue.
 * Returns {kind, lo, hi, color(value), gradient} (gradient: CSS for the legend bar).
 */
function makeScale(kind, values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
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
