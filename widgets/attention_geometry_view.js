/* attention_geometry_view.js: the AttentionGeometryView view (see
 * widgets/attention_geometry_view.py).
 *
 * For the layer and query head h picked (KV head h // kv_group):
 *   .rt-spectrum   an inline SVG of the singular values σ_i of Q (head h) and K (its KV
 *                  head), log10 σ or σ_i / σ_1, redrawn whole (2·D marks);
 *   .rt-strip      the tokens (base.js makeTokenStrip) colored by the scorer's scores, the
 *                  evicted ones dimmed and struck through, the clicked query's attention
 *                  row drawn as a bar rising from the bottom of each token (--rt-attn).
 * The kept set holds ⌊T(1 − ratio)⌋ positions: the last `window`, then the top scores of the
 * others (ties to the earlier position), as kept_positions() in Python and the cache
 * compressors (toolkit.attention.compression.select_entries). Each (scorer, layer, KV head) sorts its
 * scores once; a ratio or window change then only walks that order and toggles classes
 * (about 15 ms with style and layout at T = 2,048 on a laptop-class CPU). The attention row comes from Python after a click
 * (selected_query), as a float32 buffer tagged with its [layer, head, query] (row_key).
 *
 * Several models (AttentionGeometryView.from_models): every model's data travels in _models
 * and a Model picker (model_name) rebuilds the view from it, so switching works in static
 * HTML too; field() reads the shown model's data, top-level traits otherwise.
 */

const PLOT = { width: 420, height: 150, left: 46, right: 410, top: 8, bottom: 124 };
const RATIO_MAX = 0.97;
const RATIO_STEP = 0.005;
const HINT = "Hover a token for its score; click one to draw its attention row.";

/** Token indices by descending score, ties by ascending position. */
function keepOrder(scores) {
  const order = Array.from(scores, (_, i) => i);
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}

/** 1 for the last `window` positions and, up to ⌊T(1 − ratio)⌋ in all, for the best-ranked
 * others in `order`; else 0. `top` is how many were kept by score. */
function keptMask(order, ratio, window) {
  const n = order.length;
  const kept = new Uint8Array(n);
  const start = Math.max(0, n - window);
  for (let i = start; i < n; i++) kept[i] = 1;
  const top = Math.max(0, Math.floor(n * (1 - ratio)) - (n - start));
  for (let r = 0, added = 0; added < top; r++) {
    if (order[r] < start) {
      kept[order[r]] = 1;
      added++;
    }
  }
  return { kept, top };
}

/** σ_1² / Σ σ_i² (σ_1 the largest): the share of the energy in the dominant direction. */
function topShare(sigma) {
  let total = 0;
  for (const s of sigma) total += s * s;
  const top = Math.max(...sigma);
  return total ? (top * top) / total : 0;
}

const percent = (x) => `${(100 * x).toFixed(1)}%`;

/** Heights of a spectrum's marks: log10 σ (clamped at `floor` > 0) or σ / max σ. */
function spectrumValues(sigma, scale, floor) {
  if (scale === "log") return Array.from(sigma, (s) => Math.log10(Math.max(s, floor)));
  const top = Math.max(...sigma) || 1;
  return Array.from(sigma, (s) => s / top);
}

/**
 * Draw the singular values of each of `series` ([{kind, sigma}], largest first) into the
 * SVG `plot` on the "log" or "normalized" scale: axes, a polyline and one dot per value.
 * Returns {indexAt(px), mark(i)}: the value index under viewBox x `px`, and a vertical
 * cursor at index i (-1 hides it).
 */
function drawSpectrum(plot, series, scale) {
  const positive = series.flatMap(({ sigma }) => Array.from(sigma).filter((s) => s > 0));
  const floor = positive.length ? Math.min(...positive) : 1;
  const curves = series.map(({ kind, sigma }) => ({
    kind,
    values: spectrumValues(sigma, scale, floor),
  }));
  const all = curves.flatMap((c) => c.values);
  const [lo, hi] = scale === "log" ? [Math.min(...all), Math.max(...all)] : [0, 1];
  const n = Math.max(...curves.map((c) => c.values.length));
  const x = (i) => PLOT.left + (n > 1 ? i / (n - 1) : 0.5) * (PLOT.right - PLOT.left);
  const y = (v) => PLOT.bottom - ((v - lo) / (hi - lo || 1)) * (PLOT.bottom - PLOT.top);
  const middle = (PLOT.top + PLOT.bottom) / 2;

  plot.replaceChildren();
  const axis = svg("g", { class: "rt-axis" }, plot);
  svg("line", { x1: PLOT.left, x2: PLOT.left, y1: PLOT.top, y2: PLOT.bottom }, axis);
  svg("line", { x1: PLOT.left, x2: PLOT.right, y1: PLOT.bottom, y2: PLOT.bottom }, axis);
  for (const v of [lo, hi]) {
    svg("line", { class: "rt-grid", x1: PLOT.left, x2: PLOT.right, y1: y(v), y2: y(v) }, axis);
    const attrs = { x: PLOT.left - 4, y: y(v), "text-anchor": "end" };
    attrs["dominant-baseline"] = "middle";
    svg("text", attrs, axis).textContent =
      scale === "log" ? formatValue(Math.fround(10 ** v)) : String(v);
  }
  for (const [i, anchor] of [
    [0, "start"],
    [n - 1, "end"],
  ]) {
    const attrs = { x: x(i), y: PLOT.bottom + 13, "text-anchor": anchor };
    svg("text", attrs, axis).textContent = `i = ${i + 1}`;
  }
  const nameAttrs = {
    class: "rt-axis-name",
    x: 10,
    y: middle,
    "text-anchor": "middle",
    transform: `rotate(-90 10 ${middle})`,
  };
  svg("text", nameAttrs, axis).textContent = scale === "log" ? "σ_i (log)" : "σ_i / σ_1";
  for (const { kind, values } of curves) {
    const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    svg("polyline", { class: `rt-curve rt-curve-${kind}`, points: points.join(" ") }, plot);
    const dots = svg("g", { class: `rt-points rt-points-${kind}` }, plot);
    values.forEach((v, i) => {
      svg("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2 }, dots);
    });
  }
  const cursor = svg("line", { class: "rt-cursor", y1: PLOT.top, y2: PLOT.bottom }, plot);
  cursor.style.display = "none";
  return {
    indexAt(px) {
      const t = (px - PLOT.left) / (PLOT.right - PLOT.left);
      return Math.max(0, Math.min(n - 1, Math.round(t * (n - 1))));
    },
    mark(i) {
      cursor.style.display = i < 0 ? "none" : "";
      cursor.setAttribute("x1", x(Math.max(i, 0)));
      cursor.setAttribute("x2", x(Math.max(i, 0)));
    },
  };
}

/** The shown model's `name` field: from _models when the view holds several models. */
function field(model, name) {
  const models = model.get("_models") ?? {};
  const current = model.get("model_name");
  return current in models ? models[current][name] : model.get(name);
}

/** After a model switch: layer, head and selected query within the new model's ranges. */
function clampSelection(model) {
  if (model.get("layer") >= field(model, "n_layers")) saveTrait(model, "layer", 0);
  if (model.get("head") >= field(model, "n_heads")) saveTrait(model, "head", 0);
  if (model.get("selected_query") >= field(model, "tokens").length)
    saveTrait(model, "selected_query", -1);
  const names = field(model, "scorer_names");
  if (!names.includes(model.get("scorer"))) saveTrait(model, "scorer", names[0]);
}

function render({ model, el }) {
  let built = model.get("model_name");
  let cleanup = build(model, el);
  const rebuild = () => {
    if (model.get("model_name") === built) return;
    built = model.get("model_name");
    cleanup();
    el.replaceChildren();
    clampSelection(model);
    cleanup = build(model, el);
  };
  model.on("change:model_name", rebuild);
  return () => {
    model.off("change:model_name", rebuild);
    cleanup();
  };
}

function build(model, el) {
  const tokens = field(model, "tokens");
  const T = tokens.length;
  const H = field(model, "n_heads");
  const Hkv = field(model, "n_kv_heads");
  const group = field(model, "kv_group");
  const dq = field(model, "dim_q");
  const dk = field(model, "dim_k");
  const names = field(model, "scorer_names");
  const spectraQ = readFloat32(field(model, "_spectra_q"));
  const spectraK = readFloat32(field(model, "_spectra_k"));
  const isStatic = isStaticCopy(el);
  const builtFor = model.get("model_name");

  const title = h("div", "rt-title");
  const layers = Array.from({ length: field(model, "n_layers") }, (_, l) => [l, `layer ${l}`]);
  const heads = Array.from({ length: H }, (_, q) => [q, `head ${q} (KV ${Math.floor(q / group)})`]);
  const modelNames = model.get("model_names") ?? [];
  const modelPicker = makePicker("Model", modelNames);
  modelPicker.value = builtFor;
  modelPicker.addEventListener("input", () => saveTrait(model, "model_name", modelPicker.value));
  const layerPicker = makePicker("Layer", layers);
  const headPicker = makePicker("Head", heads);
  const kvReadout = h("span", "rt-kv-readout");
  const header = h("div", "rt-header");
  header.append(title);
  if (modelNames.length > 1) header.append(modelPicker);
  header.append(layerPicker, headPicker, kvReadout);

  // The spectrum panel.
  const scalePicker = makePicker("Spectrum scale", [
    ["log", "log σ"],
    ["normalized", "σ / σ₁"],
  ]);
  const plot = svg("svg", {
    class: "rt-spectrum",
    viewBox: `0 0 ${PLOT.width} ${PLOT.height}`,
    role: "img",
  });
  const curveLegend = h("div", "rt-key rt-curve-legend");
  curveLegend.append(
    legendEntry("queries Q", "rgb(var(--rt-positive))"),
    legendEntry("keys K", "rgb(var(--rt-negative))"),
  );
  const energy = h("div", "rt-energy");
  const spectrumHeading = h("div", "rt-panel-heading");
  spectrumHeading.append(h("span", "rt-panel-title", "singular values of Q and K"), scalePicker);
  const spectrumPanel = h("div", "rt-panel rt-spectrum-panel");
  spectrumPanel.append(spectrumHeading, plot, curveLegend, energy);

  // The eviction panel.
  const scorerPicker = makePicker(
    "Scorer",
    names.map((name, i) => [name, i === 0 ? `${name} (key projection)` : name]),
  );
  const slider = makeSlider("rt-ratio-slider", "Compression ratio", RATIO_MAX, RATIO_STEP);
  const ratioReadout = h("span", "rt-ratio-readout");
  const windowInput = h("input", "rt-window-input");
  Object.assign(windowInput, { type: "number", min: "0", max: String(T), step: "1" });
  windowInput.setAttribute("aria-label", "Window");
  windowInput.dataset.lmSuppressShortcuts = "true";
  const keptCount = h("span", "rt-kept-count");
  const keptRule = h("span", "rt-kept-rule");
  const kept = h("div", "rt-kept");
  kept.append("kept ", keptCount, ` / ${T} tokens `, keptRule);
  const note = "recent positions kept";
  const evictionPanel = h("div", "rt-panel rt-eviction-panel");
  evictionPanel.append(
    h("div", "rt-panel-title", "KV-cache eviction"),
    controlRow("rt-control-scorer", "scorer", scorerPicker),
    controlRow("rt-control-ratio", "ratio", slider, ratioReadout),
    controlRow("rt-control-window", "window", windowInput, h("span", "rt-control-note", note)),
    kept,
  );
  const panels = h("div", "rt-panels");
  panels.append(spectrumPanel, evictionPanel);

  // The tokens.
  let scores = new Float32Array(T);
  let mask = new Uint8Array(T).fill(1);
  let row = null; // the attention row drawn (selected query, layer and head), or null
  const describe = (i) => {
    let text =
      `token ${i} ${JSON.stringify(tokens[i])} \u00b7 ${model.get("scorer")} = ` +
      `${formatValue(scores[i])} \u00b7 ${mask[i] ? "kept" : "evicted"}`;
    if (row && i < row.length) {
      text += ` \u00b7 attention from ${model.get("selected_query")} = ${formatValue(row[i])}`;
    }
    return text;
  };
  const strip = makeTokenStrip({
    tokens,
    describe,
    hint: HINT,
    onSelect: (i) => saveTrait(model, "selected_query", i),
  });
  const legend = makeLegend();
  const stripHeading = h("div", "rt-header");
  stripHeading.append(h("span", "rt-panel-title", `${T} tokens, colored by score`), legend.el);
  const rowReadout = h("div", "rt-row-readout");
  rowReadout.setAttribute("aria-live", "polite");

  const root = h("div", "rt-widget rt-attention-geometry-view");
  root.append(header, panels, stripHeading, strip.strip, strip.status, rowReadout);
  el.append(root);

  const decoded = new Map(); // scorer -> Float32Array (L, Hkv, T), decoded on first use
  const orders = new Map(); // "scorer/layer/kv" -> token indices in eviction order
  function scoresOf(name, layer, kv) {
    if (!decoded.has(name)) decoded.set(name, readFloat32(field(model, "_key_scores")[name]));
    const start = (layer * Hkv + kv) * T;
    return decoded.get(name).subarray(start, start + T);
  }
  function orderOf(name, layer, kv) {
    const id = `${name}/${layer}/${kv}`;
    if (!orders.has(id)) orders.set(id, keepOrder(scoresOf(name, layer, kv)));
    return orders.get(id);
  }
  const kvHead = () => Math.floor(model.get("head") / group);

  let spectrum = null; // {q, k, indexAt, mark} of the head shown
  function showEnergy() {
    const { q, k } = spectrum;
    energy.textContent =
      `top direction σ₁²/Σσᵢ²: Q ${percent(topShare(q))} \u00b7 K ${percent(topShare(k))}`;
  }
  function redrawSpectrum() {
    const layer = model.get("layer");
    const head = model.get("head");
    const kv = kvHead();
    const q = spectraQ.subarray((layer * H + head) * dq, (layer * H + head + 1) * dq);
    const k = spectraK.subarray((layer * Hkv + kv) * dk, (layer * Hkv + kv + 1) * dk);
    const scale = model.get("spectrum_scale");
    const series = [
      { kind: "q", sigma: q },
      { kind: "k", sigma: k },
    ];
    spectrum = { q, k, ...drawSpectrum(plot, series, scale) };
    plot.setAttribute(
      "aria-label",
      `singular values of Q (head ${head}) and K (KV head ${kv}) in layer ${layer}`,
    );
    scalePicker.value = scale;
    showEnergy();
  }
  plot.addEventListener("mousemove", (event) => {
    const box = plot.getBoundingClientRect();
    const i = spectrum.indexAt(((event.clientX - box.left) / box.width) * PLOT.width);
    spectrum.mark(i);
    const value = (sigma) => (i < sigma.length ? formatValue(sigma[i]) : "\u2013");
    energy.textContent = `σ_${i + 1}: Q ${value(spectrum.q)} \u00b7 K ${value(spectrum.k)}`;
  });
  plot.addEventListener("mouseleave", () => {
    spectrum.mark(-1);
    showEnergy();
  });

  // The readout under the strip: what the row is, and how much of it the kept tokens hold.
  function describeRow() {
    const query = model.get("selected_query");
    const error = model.get("row_error");
    rowReadout.classList.toggle("rt-error", Boolean(error));
    if (error) rowReadout.textContent = error;
    else if (query < 0) rowReadout.textContent = "Click a token to draw its attention row.";
    else if (!field(model, "has_attention_row"))
      rowReadout.textContent = "No attention_row callable given: pass one to see attention rows.";
    else if (!row)
      rowReadout.textContent = isStatic
        ? "static copy: attention rows need a running kernel"
        : `computing the attention row of query ${query} in Python\u2026`;
    else {
      let total = 0;
      let held = 0;
      for (let i = 0; i < row.length; i++) {
        total += row[i];
        held += mask[i] ? row[i] : 0;
      }
      rowReadout.textContent =
        `attention of query ${query} ${JSON.stringify(tokens[query])} (layer ` +
        `${model.get("layer")}, head ${model.get("head")}): the kept tokens hold ` +
        `${total > 0 ? percent(held / total) : "\u2013"} of it`;
    }
    strip.refresh();
  }

  // The row arrives for one [layer, head, query]; any other selection shows no bars.
  function redrawRow() {
    const key = model.get("row_key");
    const want = [model.get("layer"), model.get("head"), model.get("selected_query")];
    const current = key.length === 3 && key.every((v, i) => v === want[i]);
    row = current ? readFloat32(model.get("_attention_row")) : null;
    let top = 0;
    for (const a of row ?? []) top = Math.max(top, a);
    for (let i = 0; i < T; i++) {
      const a = row && i < row.length && top > 0 ? row[i] / top : 0;
      strip.spans[i].style.setProperty("--rt-attn", a.toFixed(3));
    }
    strip.strip.classList.toggle("rt-has-row", row !== null);
    root.dataset.rowQuery = row ? String(want[2]) : "";
    describeRow();
  }

  function remask() {
    const ratio = model.get("ratio");
    const window = model.get("window");
    const name = model.get("scorer");
    const result = keptMask(orderOf(name, model.get("layer"), kvHead()), ratio, window);
    mask = result.kept;
    let count = 0;
    for (let i = 0; i < T; i++) {
      count += mask[i];
      strip.spans[i].classList.toggle("rt-evicted", !mask[i]);
    }
    keptCount.textContent = String(count);
    keptRule.textContent = `(last ${Math.min(window, T)} + top ${result.top} by ${name})`;
    ratioReadout.textContent =
      `${formatValue(Math.fround(ratio))} \u00b7 \u00d7${(1 / (1 - ratio)).toFixed(1)} ` +
      "smaller cache";
    slider.value = String(ratio);
    windowInput.value = String(window);
    Object.assign(root.dataset, { kept: String(count), ratio: String(ratio) });
    describeRow();
  }

  function recolor() {
    const name = model.get("scorer");
    scores = scoresOf(name, model.get("layer"), kvHead());
    const scale = makeScale("sequential", scores);
    strip.paint(scores, scale);
    legend.update(scale);
    scorerPicker.value = name;
    root.dataset.scorer = name;
    remask();
  }

  function relayer() {
    const kv = kvHead();
    layerPicker.value = String(model.get("layer"));
    headPicker.value = String(model.get("head"));
    const served = `${kv * group}\u2013${(kv + 1) * group - 1}`;
    kvReadout.textContent = `KV head ${kv} (query heads ${served})`;
    Object.assign(root.dataset, {
      layer: String(model.get("layer")),
      head: String(model.get("head")),
      kvHead: String(kv),
    });
    redrawSpectrum();
    recolor();
    redrawRow();
  }

  function reselect() {
    redrawRow();
    strip.highlight(model.get("selected_query"));
  }

  function retitle() {
    title.textContent = field(model, "title");
  }

  for (const [control, event, trait, read] of [
    [layerPicker, "input", "layer", () => Number(layerPicker.value)],
    [headPicker, "input", "head", () => Number(headPicker.value)],
    [scorerPicker, "input", "scorer", () => scorerPicker.value],
    [scalePicker, "input", "spectrum_scale", () => scalePicker.value],
    [slider, "input", "ratio", () => Number(slider.value)],
    // "change": typing a number commits on Enter or blur, not at every keystroke
    [windowInput, "change", "window", () => Math.max(0, Math.round(Number(windowInput.value)))],
  ]) {
    control.addEventListener(event, () => {
      saveTrait(model, trait, read());
      control.value = String(model.get(trait)); // e.g. a window typed as -2 shows 0
    });
  }

  const listeners = [
    ["change:layer", relayer],
    ["change:head", relayer],
    ["change:scorer", recolor],
    ["change:spectrum_scale", redrawSpectrum],
    ["change:ratio", remask],
    ["change:window", remask],
    ["change:selected_query", reselect],
    ["change:_attention_row", redrawRow],
    ["change:row_key", redrawRow],
    ["change:row_error", describeRow],
    ["change:title", retitle],
  ];
  // a model switch rebuilds the view; until then, this build ignores the new model's changes
  const guarded = listeners.map(([event, callback]) => [
    event,
    () => {
      if (model.get("model_name") === builtFor) callback();
    },
  ]);
  for (const [event, callback] of guarded) model.on(event, callback);
  retitle();
  relayer();
  strip.highlight(model.get("selected_query"));
  return () => {
    for (const [event, callback] of guarded) model.off(event, callback);
  };
}

export default { render };
