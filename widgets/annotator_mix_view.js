/* annotator_mix_view.js: the AnnotatorMixView view (see widgets/annotator_mix_view.py).
 *
 * One slider per group sets `weights`; the normalized weights pick the nearest mix of the
 * precomputed sweep (Euclidean, first on ties). Two inline SVG panels:
 *   .rt-bars     each group's value at that mix (metric and stage from the pickers), the base
 *                model's value as a dashed mark. Axis fixed per metric over the whole sweep.
 *   .rt-simplex  every mix of the sweep on a triangle (corner k = all annotators from group
 *                k), each dot filled by its gap; the nearest mix ringed, the sliders' own mix
 *                a cross. Clicking a dot sets the sliders to its mix.
 * The values arrive as one float32 buffer (mix × stage × metric × group).
 */

const W = 360; // viewBox size of each panel
const H = 250;
const BARS = { left: 48, right: W - 10, top: 12, bottom: H - 40 };
const SLIDER_MAX = 100;

function text(parent, x, y, content, attrs = {}) {
  svg("text", { x, y, ...attrs }, parent).textContent = content;
}

function nearestIndex(mixes, weights) {
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return 0;
  const target = weights.map((w) => w / total);
  let best = 0;
  let bestD = Infinity;
  mixes.forEach((mix, i) => {
    const d = mix.reduce((acc, s, k) => acc + (s - target[k]) ** 2, 0);
    if (d < bestD - 1e-12) {
      best = i;
      bestD = d;
    }
  });
  return best;
}

function percent(shares) {
  return shares.map((s) => `${Math.round(100 * s)}`).join(" / ");
}

function render({ model, el }) {
  const groups = model.get("groups");
  const stages = model.get("stages");
  const metrics = model.get("metrics");
  const labels = model.get("metric_labels");
  const better = model.get("higher_is_better");
  const mixes = model.get("mixes");
  const reference = model.get("reference");
  const table = readFloat32(model.get("_values"));
  const nG = groups.length;
  const nM = metrics.length;
  const nS = stages.length;
  const at = (i, s, m) => {
    const start = ((i * nS + s) * nM + m) * nG;
    return Array.from(table.subarray(start, start + nG));
  };
  const gapOf = (values) => Math.fround(Math.max(...values) - Math.min(...values));

  const title = h("div", "rt-title");
  const metricPicker = makePicker("Metric", metrics.map((m) => [m, labels[m] ?? m]));
  const stagePicker = makePicker("Stage", stages);
  const header = h("div", "rt-header");
  header.append(title, metricPicker, stagePicker);

  const sliderBox = h("div", "rt-sliders");
  const sliders = groups.map((g, k) => {
    const slider = makeSlider(`rt-weight-slider rt-weight-${k}`, `weight of ${g}`, SLIDER_MAX);
    const readout = h("span", "rt-readout rt-weight-readout");
    const name = h("span", "rt-group-name");
    name.append(makeSwatch(categoryColor(k)), g);
    const row = controlRow("rt-weight", "", name, slider, readout);
    sliderBox.append(row);
    slider.addEventListener("input", () => {
      const weights = model.get("weights").slice();
      weights[k] = Number(slider.value) / SLIDER_MAX;
      if (weights.some((w) => w > 0)) saveTrait(model, "weights", weights);
      else slider.value = String(Math.round(model.get("weights")[k] * SLIDER_MAX));
    });
    return { slider, readout };
  });
  const summary = h("div", "rt-readout rt-mix-readout");
  summary.setAttribute("aria-live", "polite");

  const attrs = { viewBox: `0 0 ${W} ${H}`, role: "img" };
  const bars = svg("svg", { ...attrs, class: "rt-bars" });
  const simplex = svg("svg", { ...attrs, class: "rt-simplex" });
  const legend = makeLegend();
  const panels = h("div", "rt-panels");
  const barPanel = h("div", "rt-panel");
  barPanel.append(h("div", "rt-panel-title", "each group at the nearest mix"), bars);
  const simplexPanel = h("div", "rt-panel");
  const simplexKey = h("div", "rt-key");
  simplexKey.append(h("span", "rt-control-name", "best–worst gap"), legend.el);
  simplexPanel.append(h("div", "rt-panel-title", "the sweep: gap at every mix"), simplex, simplexKey);
  panels.append(barPanel, simplexPanel);

  const root = h("div", "rt-widget rt-annotator-mix-view");
  root.append(header, sliderBox, summary, panels);
  el.append(root);

  // Triangle corners: group 0 top, 1 bottom left, 2 bottom right (barycentric for 3 groups;
  // other counts go round a circle).
  const corners = groups.map((_, k) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * k) / nG;
    return [W / 2 + 100 * Math.cos(angle), H / 2 + 8 + 100 * Math.sin(angle)];
  });
  const place = (shares) =>
    shares.reduce(
      ([x, y], s, k) => [x + s * corners[k][0], y + s * corners[k][1]],
      [0, 0],
    );

  function drawBars(values, ref, metric) {
    let lo = Infinity;
    let hi = -Infinity;
    const m = metrics.indexOf(metric);
    for (let i = 0; i < mixes.length; i++) {
      for (let s = 0; s < nS; s++) {
        for (const v of at(i, s, m)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    for (const v of ref ?? []) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    lo = Math.min(lo, 0);
    const pad = (hi - lo) * 0.05 || 1;
    const y0 = lo;
    const y1 = hi + pad;
    const y = (v) => BARS.bottom - ((v - y0) / (y1 - y0)) * (BARS.bottom - BARS.top);
    bars.replaceChildren();
    bars.setAttribute("aria-label", `${labels[metric] ?? metric} of each group`);
    const axis = svg("g", { class: "rt-axis" }, bars);
    for (const t of niceTicks(y0, y1, 5)) {
      svg("line", { class: "rt-grid", x1: BARS.left, x2: BARS.right, y1: y(t), y2: y(t) }, axis);
      text(axis, BARS.left - 5, y(t), formatValue(Math.fround(t)), {
        "text-anchor": "end",
        "dominant-baseline": "middle",
      });
    }
    svg("line", { x1: BARS.left, x2: BARS.left, y1: BARS.top, y2: BARS.bottom }, axis);
    svg("line", { x1: BARS.left, x2: BARS.right, y1: BARS.bottom, y2: BARS.bottom }, axis);
    const mid = (BARS.top + BARS.bottom) / 2;
    text(axis, 12, mid, labels[metric] ?? metric, {
      class: "rt-axis-name",
      "text-anchor": "middle",
      transform: `rotate(-90 12 ${mid})`,
    });
    const column = (BARS.right - BARS.left) / nG;
    values.forEach((v, k) => {
      const x = BARS.left + column * (k + 0.2);
      const width = column * 0.6;
      const bar = svg("rect", { class: "rt-bar", x, width, y: y(v), height: Math.max(0, y(y0) - y(v)) }, bars);
      bar.style.fill = categoryColor(k);
      bar.dataset.group = groups[k];
      svg("title", {}, bar).textContent = `${groups[k]}: ${formatValue(Math.fround(v))}`;
      text(bars, x + width / 2, y(v) - 4, v.toFixed(2), { "text-anchor": "middle", class: "rt-bar-value" });
      text(bars, x + width / 2, BARS.bottom + 15, groups[k], { "text-anchor": "middle" });
      if (ref) {
        const mark = svg("line", { class: "rt-reference", x1: x - 4, x2: x + width + 4, y1: y(ref[k]), y2: y(ref[k]) }, bars);
        svg("title", {}, mark).textContent = `${groups[k]} before alignment: ${formatValue(Math.fround(ref[k]))}`;
      }
    });
    if (ref) {
      text(bars, BARS.right, H - 6, "dashed: base model, before alignment", {
        "text-anchor": "end",
        class: "rt-axis-name",
      });
    }
  }

  function drawSimplex(metric, stage, current, weights) {
    const m = metrics.indexOf(metric);
    const s = stages.indexOf(stage);
    const gaps = mixes.map((_, i) => gapOf(at(i, s, m)));
    const scale = makeScale("sequential", gaps);
    legend.update(scale);
    simplex.replaceChildren();
    simplex.setAttribute("aria-label", `best–worst gap of ${labels[metric] ?? metric} at ${mixes.length} mixes`);
    const outline = corners.map((c) => c.join(",")).join(" ");
    svg("polygon", { class: "rt-outline", points: outline }, simplex);
    corners.forEach(([x, y], k) => {
      const below = y > H / 2 + 8;
      text(simplex, x, below ? y + 16 : y - 8, `all ${groups[k]}`, { "text-anchor": "middle" });
    });
    mixes.forEach((mix, i) => {
      const [x, y] = place(mix);
      const dot = svg("circle", { class: "rt-mix", cx: x, cy: y, r: 7 }, simplex);
      dot.style.fill = scale.color(gaps[i]);
      dot.dataset.index = String(i);
      svg("title", {}, dot).textContent = `${percent(mix)} · gap ${gaps[i].toFixed(3)}`;
      dot.addEventListener("click", () => saveTrait(model, "weights", mix.slice()));
    });
    const [cx, cy] = place(mixes[current]);
    const ring = svg("circle", { class: "rt-current", cx, cy, r: 11 }, simplex);
    ring.dataset.index = String(current);
    const total = weights.reduce((a, b) => a + b, 0);
    if (total > 0) {
      const [ux, uy] = place(weights.map((w) => w / total));
      svg("path", { class: "rt-yours", d: `M${ux - 4},${uy - 4}l8,8m0,-8l-8,8` }, simplex);
    }
    return gaps[current];
  }

  function redraw() {
    const weights = model.get("weights");
    const metric = model.get("metric");
    const stage = model.get("stage");
    const i = nearestIndex(mixes, weights);
    const values = at(i, stages.indexOf(stage), metrics.indexOf(metric));
    const total = weights.reduce((a, b) => a + b, 0) || 1;
    sliders.forEach(({ slider, readout }, k) => {
      slider.value = String(Math.round(weights[k] * SLIDER_MAX));
      readout.textContent = `${Math.round((100 * weights[k]) / total)}%`;
      slider.setAttribute("aria-valuetext", `${groups[k]} ${readout.textContent}`);
    });
    drawBars(values, reference[metric], metric);
    const gap = drawSimplex(metric, stage, i, weights);
    const order = values.map((v, k) => [v, k]).sort((a, b) => (better[metric] ? b[0] - a[0] : a[0] - b[0]));
    const best = groups[order[0][1]];
    const worst = groups[order[order.length - 1][1]];
    summary.textContent =
      `nearest sweep mix ${percent(mixes[i])} (${groups.join(" / ")}) · ${stage} · ` +
      `gap ${gap.toFixed(3)} · best ${best}, worst ${worst}`;
    metricPicker.value = metric;
    stagePicker.value = stage;
    Object.assign(root.dataset, { mix: String(i), metric, stage, gap: gap.toFixed(4) });
  }

  function retitle() {
    title.textContent = model.get("title");
  }

  metricPicker.addEventListener("input", () => saveTrait(model, "metric", metricPicker.value));
  stagePicker.addEventListener("input", () => saveTrait(model, "stage", stagePicker.value));
  const listeners = [
    ["change:weights", redraw],
    ["change:metric", redraw],
    ["change:stage", redraw],
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
