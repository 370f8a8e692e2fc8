/* token_weight_view.js: the TokenWeightView view (see widgets/token_weight_view.py).
 *
 * Two token strips from base.js's makeTokenStrip — chosen and rejected — colored by one
 * track at one checkpoint. Each track's buffers hold every checkpoint, (K, T) in C order,
 * decoded once; moving the slider takes another row and rewrites span colors only. Both
 * strips share the track's color scale (its domain is fixed over sides and checkpoints).
 */

const SIDES = ["chosen", "rejected"];

function render({ model, el }) {
  const names = model.get("track_names");
  const steps = model.get("steps");

  const title = h("div", "rt-title", model.get("title"));
  const picker = makePicker("Track", names);
  const legend = makeLegend();
  const header = h("div", "rt-header");
  header.append(title, picker, legend.el);

  const prompt = h("div", "rt-prompt");

  const slider = makeSlider("rt-checkpoint-slider", "Checkpoint", steps.length - 1);
  const stepLabel = h("span", "rt-readout rt-step");
  const checkpoints = controlRow("rt-checkpoints", "checkpoint", slider, stepLabel);

  const panes = h("div", "rt-sides");
  const strips = {};
  const rows = {}; // side -> values shown (one checkpoint's row)
  for (const side of SIDES) {
    const tokens = model.get(`${side}_tokens`);
    const key = `selected_${side}`;
    const describe = (i) =>
      `token ${i} ${JSON.stringify(tokens[i])} \u00b7 ${model.get("track")} = ` +
      `${formatValue(rows[side][i])} \u00b7 step ${steps[model.get("checkpoint")]}`;
    const onSelect = (i) => saveTrait(model, key, i);
    strips[side] = makeTokenStrip({ tokens, describe, onSelect });
    const count = h("span", "rt-side-count", `${tokens.length} tokens`);
    const heading = h("div", "rt-side-heading");
    heading.append(h("span", "rt-panel-title rt-side-label", side), count);
    const pane = h("div", `rt-panel rt-side rt-side-${side}`);
    pane.dataset.side = side;
    pane.append(heading, strips[side].strip, strips[side].status);
    panes.append(pane);
  }

  const root = h("div", "rt-widget rt-token-weight-view");
  root.append(header, prompt, checkpoints, panes);
  el.append(root);

  const decoded = new Map(); // "track/side" -> Float32Array of all K rows
  function row(name, side, k) {
    const id = `${name}/${side}`;
    if (!decoded.has(id)) decoded.set(id, readFloat32(model.get("_track_data")[name][side]));
    const n = strips[side].spans.length;
    return decoded.get(id).subarray(k * n, (k + 1) * n);
  }

  function recolor() {
    const name = model.get("track");
    const k = model.get("checkpoint");
    const scale = makeScale(model.get("scales")[name], null, model.get("domains")[name]);
    for (const side of SIDES) {
      rows[side] = row(name, side, k);
      strips[side].paint(rows[side], scale);
    }
    legend.update(scale);
    picker.value = name;
    slider.value = String(k);
    stepLabel.textContent = `step ${steps[k]} (${k + 1}/${steps.length})`;
    root.dataset.track = name;
    root.dataset.step = String(steps[k]);
  }

  const highlighters = SIDES.map((side) => [
    `change:selected_${side}`,
    () => strips[side].highlight(model.get(`selected_${side}`)),
  ]);
  function retitle() {
    title.textContent = model.get("title");
    prompt.textContent = model.get("prompt");
    prompt.hidden = !model.get("prompt");
  }

  picker.addEventListener("change", () => saveTrait(model, "track", picker.value));
  slider.addEventListener("input", () => saveTrait(model, "checkpoint", Number(slider.value)));

  const listeners = [
    ["change:track", recolor],
    ["change:checkpoint", recolor],
    ["change:title", retitle],
    ["change:prompt", retitle],
    ...highlighters,
  ];
  for (const [event, callback] of listeners) model.on(event, callback);
  retitle();
  recolor();
  for (const [, callback] of highlighters) callback();
  return () => {
    for (const [event, callback] of listeners) model.off(event, callback);
  };
}

export default { render };
