/* reward_sweep_view.js: the RewardSweepView view (see widgets/reward_sweep_view.py).
 *
 * Two inline SVG panels for the model (bias, variant, λ) shown:
 *   .rt-scatter  the reward of each test response against its Z category, with a bar at
 *                each category's mean. Built once per bias (axes fixed over every λ and
 *                variant, one circle per response); a λ or variant change only moves the
 *                circles (cy) and the mean bars.
 *   .rt-pareto   de-confounded accuracy against counterfactual gap (log, reversed) of every
 *                model of the bias, the shown model ringed. A few dozen marks: redrawn whole.
 * Each model's rewards arrive as one float32 buffer, decoded on first use.
 */

const WIDTH = 360; // viewBox size of each panel; the SVG scales to its column
const HEIGHT = 250;
const PLOT = { left: 48, right: WIDTH - 12, top: 10, bottom: HEIGHT - 44 };
const JITTER = 0.3; // dots spread over ±30% of their column's width

function label(parent, x, y, text, attrs = {}) {
  svg("text", { x, y, ...attrs }, parent).textContent = text;
}

/** Deterministic jitter in [-1, 1) for response i (Knuth's multiplicative hash). */
function jitter(i) {
  return ((Math.imul(i + 1, 2654435761) >>> 0) / 2 ** 32) * 2 - 1;
}

/** The linear map from domain [d0, d1] onto range [r0, r1]. */
function linear([d0, d1], [r0, r1]) {
  return (v) => r0 + ((v - d0) / (d1 - d0 || 1)) * (r1 - r0);
}

/** Round values whose log10 lies in [lo, hi]: powers of ten, or 1-2-5 steps if too few. */
function logTicks(lo, hi) {
  const candidates = [];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (const m of [1, 2, 5]) candidates.push(m * 10 ** k);
  }
  const inside = candidates.filter((v) => Math.log10(v) >= lo && Math.log10(v) <= hi);
  const decades = inside.filter((v) => Number.isInteger(Math.log10(v)));
  return decades.length >= 2 ? decades : inside;
}

/** The y axis (line, ticks, grid lines, rotated name) of a panel; y maps values to pixels. */
function yAxis(parent, y, ticks, name) {
  const axis = svg("g", { class: "rt-axis" }, parent);
  for (const t of ticks) {
    svg("line", { class: "rt-grid", x1: PLOT.left, x2: PLOT.right, y1: y(t), y2: y(t) }, axis);
    label(axis, PLOT.left - 5, y(t), formatValue(Math.fround(t)), {
      "text-anchor": "end",
      "dominant-baseline": "middle",
    });
  }
  svg("line", { x1: PLOT.left, x2: PLOT.left, y1: PLOT.top, y2: PLOT.bottom }, axis);
  const mid = (PLOT.top + PLOT.bottom) / 2;
  label(axis, 12, mid, name, {
    class: "rt-axis-name",
    "text-anchor": "middle",
    transform: `rotate(-90 12 ${mid})`,
  });
}

/** The x axis of a panel: `ticks` are [pixel x, text] pairs. */
function xAxis(parent, ticks, name) {
  const axis = svg("g", { class: "rt-axis" }, parent);
  svg("line", { x1: PLOT.left, x2: PLOT.right, y1: PLOT.bottom, y2: PLOT.bottom }, axis);
  for (const [x, text] of ticks) {
    svg("line", { x1: x, x2: x, y1: PLOT.bottom, y2: PLOT.bottom + 4 }, axis);
    label(axis, x, PLOT.bottom + 15, text, { "text-anchor": "middle" });
  }
  label(axis, (PLOT.left + PLOT.right) / 2, HEIGHT - 6, name, {
    class: "rt-axis-name",
    "text-anchor": "middle",
  });
}

function describe(point) {
  return (
    `λ = ${point.lam} \u00b7 ${point.variant} \u00b7 accuracy ${point.accuracy.toFixed(2)}` +
    ` \u00b7 gap ${point.gap.toFixed(2)}`
  );
}

function render({ model, el }) {
  const variants = model.get("variants");
  const lambdas = model.get("lambdas");
  const zLabels = model.get("z_labels");
  const points = model.get("points");
  const modelKey = (bias, variant, k) => `${bias}|${variant}|${k}`;
  const pointAt = new Map(
    points.map((p) => [modelKey(p.bias, p.variant, lambdas.indexOf(p.lam)), p]),
  );

  const title = h("div", "rt-title");
  const biasPicker = makePicker("Bias", model.get("biases"));
  const variantPicker = makePicker("Variant", variants);
  const header = h("div", "rt-header");
  header.append(title, biasPicker, variantPicker);

  const slider = makeSlider("rt-lambda-slider", "λ", lambdas.length - 1);
  const readout = h("span", "rt-readout rt-lambda-readout");
  const lambdaRow = controlRow("rt-lambda", "λ", slider, readout);

  const attrs = { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img" };
  const scatter = svg("svg", { ...attrs, class: "rt-scatter" });
  const pareto = svg("svg", { ...attrs, class: "rt-pareto" });
  pareto.setAttribute("aria-label", "de-confounded accuracy against counterfactual gap");
  const legend = h("div", "rt-key rt-variant-legend");
  legend.append(...variants.map((variant, i) => legendEntry(variant, categoryColor(i))));
  legend.append(h("span", "rt-legend-entry", "\u00d7 λ = 0 (vanilla)"));
  const panels = h("div", "rt-panels");
  for (const [caption, ...content] of [
    ["reward by Z category", scatter],
    ["accuracy vs invariance", pareto, legend],
  ]) {
    const panel = h("div", "rt-panel");
    panel.append(h("div", "rt-panel-title", caption), ...content);
    panels.append(panel);
  }

  const root = h("div", "rt-widget rt-reward-sweep-view");
  root.append(header, lambdaRow, panels);
  el.append(root);

  const decoded = new Map(); // buffer key -> Float32Array
  function buffer(trait, key) {
    const id = `${trait}/${key}`;
    if (!decoded.has(id)) decoded.set(id, readFloat32(model.get(trait)[key]));
    return decoded.get(id);
  }

  // The scatter of the bias it was built for: its reward axis, circles and mean bars.
  let shown = null;
  function buildScatter(bias) {
    const names = zLabels[bias];
    const codes = buffer("_z", bias);
    let lo = Infinity;
    let hi = -Infinity;
    for (const variant of variants) {
      lambdas.forEach((_, k) => {
        for (const r of buffer("_rewards", modelKey(bias, variant, k))) {
          lo = Math.min(lo, r);
          hi = Math.max(hi, r);
        }
      });
    }
    const pad = (hi - lo) * 0.05 || 1;
    const y = linear([lo - pad, hi + pad], [PLOT.bottom, PLOT.top]);
    const column = (PLOT.right - PLOT.left) / names.length;
    const center = (c) => PLOT.left + (c + 0.5) * column;
    const counts = names.map(() => 0);
    for (const c of codes) counts[c]++;

    scatter.replaceChildren();
    scatter.setAttribute("aria-label", `reward of ${codes.length} test responses by ${bias}`);
    yAxis(scatter, y, niceTicks(lo - pad, hi + pad, 5), "reward");
    xAxis(scatter, names.map((name, c) => [center(c), name]), `Z: ${bias}`);
    const dots = Array.from(codes, (c, i) => {
      const cx = center(c) + jitter(i) * JITTER * column;
      return svg("circle", { class: "rt-dot", cx, r: 3 }, scatter);
    });
    const half = Math.min(0.4 * column, 40);
    const means = counts.map((n, c) => {
      const ends = { x1: center(c) - half, x2: center(c) + half };
      return n ? svg("line", { class: "rt-mean", ...ends }, scatter) : null; // none if empty
    });
    shown = { bias, codes, counts, y, dots, means };
  }

  function moveScatter(rewards, color) {
    const { codes, counts, y, dots, means } = shown;
    const sums = counts.map(() => 0);
    dots.forEach((dot, i) => {
      dot.setAttribute("cy", y(rewards[i]));
      dot.style.fill = color;
      sums[codes[i]] += rewards[i];
    });
    means.forEach((bar, c) => {
      bar?.setAttribute("y1", y(sums[c] / counts[c]));
      bar?.setAttribute("y2", y(sums[c] / counts[c]));
    });
  }

  function drawPareto(bias, variant, current) {
    const mine = points.filter((p) => p.bias === bias);
    const positive = mine.map((p) => p.gap).filter((g) => g > 0);
    const floor = positive.length ? Math.min(...positive) / 2 : 1e-3; // log scale: no zeros
    const logGap = (p) => Math.log10(Math.max(p.gap, floor));
    const gLo = Math.min(...mine.map(logGap));
    const gHi = Math.max(...mine.map(logGap));
    const gPad = Math.max(0.1 * (gHi - gLo), 0.15);
    const x = linear([gHi + gPad, gLo - gPad], [PLOT.left, PLOT.right]); // larger gap left
    const aLo = Math.min(...mine.map((p) => p.accuracy));
    const aHi = Math.max(...mine.map((p) => p.accuracy));
    const aPad = Math.max(0.1 * (aHi - aLo), 0.05);
    const aDomain = [Math.max(0, aLo - aPad), Math.min(1, aHi + aPad)];
    const y = linear(aDomain, [PLOT.bottom, PLOT.top]);
    const at = (p) => [x(logGap(p)), y(p.accuracy)];

    pareto.replaceChildren();
    yAxis(pareto, y, niceTicks(...aDomain, 4), "de-confounded accuracy");
    xAxis(
      pareto,
      logTicks(gLo - gPad, gHi + gPad).map((g) => [x(Math.log10(g)), formatValue(Math.fround(g))]),
      "counterfactual gap (log, smaller \u2192)",
    );
    const vi = variants.indexOf(variant);
    const path = mine.filter((p) => p.variant === variant).map((p) => at(p).join(","));
    svg("polyline", { class: "rt-path", points: path.join(" ") }, pareto).style.stroke =
      categoryColor(vi);
    for (const p of mine) {
      const [px, py] = at(p);
      const mark =
        p.lam === 0
          ? svg("path", { d: `M${px - 4},${py - 4}l8,8m0,-8l-8,8`, class: "rt-vanilla" }, pareto)
          : svg("circle", { cx: px, cy: py, r: 3.5 }, pareto);
      mark.classList.add("rt-point");
      mark.classList.toggle("rt-same-variant", p.variant === variant);
      mark.style.color = categoryColor(variants.indexOf(p.variant));
      svg("title", {}, mark).textContent = describe(p);
    }
    const [cx, cy] = at(current);
    const ring = svg("circle", { class: "rt-current", cx, cy, r: 7 }, pareto);
    Object.assign(ring.dataset, { lam: String(current.lam), variant });
  }

  function redraw() {
    const bias = model.get("bias");
    const variant = model.get("variant");
    const k = model.get("lam_index");
    const key = modelKey(bias, variant, k);
    const point = pointAt.get(key);
    if (shown?.bias !== bias) buildScatter(bias);
    moveScatter(buffer("_rewards", key), categoryColor(variants.indexOf(variant)));
    drawPareto(bias, variant, point);
    readout.textContent = describe(point);
    slider.setAttribute("aria-valuetext", `λ = ${point.lam}`);
    biasPicker.value = bias;
    variantPicker.value = variant;
    slider.value = String(k);
    Object.assign(root.dataset, { bias, variant, lam: String(point.lam) });
  }

  function retitle() {
    title.textContent = model.get("title");
  }

  for (const [control, trait, read] of [
    [biasPicker, "bias", () => biasPicker.value],
    [variantPicker, "variant", () => variantPicker.value],
    [slider, "lam_index", () => Number(slider.value)],
  ]) {
    control.addEventListener("input", () => saveTrait(model, trait, read()));
  }

  const listeners = [
    ["change:bias", redraw],
    ["change:variant", redraw],
    ["change:lam_index", redraw],
    ["change:title", retitle],
  ];
  for (const [event, callback] of listeners) model.on(event, callback);
  retitle();
  redraw();
  return () => {
    for (const [event, callback] of listeners) model.off(event, callback);
  };
}

export default { render };
