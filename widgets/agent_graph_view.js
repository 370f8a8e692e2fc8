/* agent_graph_view.js: the AgentGraphView view (see widgets/agent_graph_view.py).
 *
 * One inline SVG: a line per link, then a group per agent (a circle filled by its value at the
 * step shown on one sequential scale over value_range, its index inside, its value below, a
 * <title> tooltip). Built once; a step change only refills the circles and rewrites the
 * values. The positions are fitted into the view box, y up.
 */

const SIZE = 360; // viewBox side; the SVG scales to its column
const MARGIN = 26;
const RADIUS = 12;

function fit(positions, n) {
  const xs = [];
  const ys = [];
  for (let k = 0; k < n; k++) {
    xs.push(positions[2 * k]);
    ys.push(positions[2 * k + 1]);
  }
  const width = Math.max(...xs) - Math.min(...xs);
  const height = Math.max(...ys) - Math.min(...ys);
  const span = Math.max(width, height) || 1;
  const scale = (SIZE - 2 * MARGIN) / span;
  const cx = (Math.max(...xs) + Math.min(...xs)) / 2;
  const cy = (Math.max(...ys) + Math.min(...ys)) / 2;
  return xs.map((x, k) => [SIZE / 2 + (x - cx) * scale, SIZE / 2 - (ys[k] - cy) * scale]);
}

function render({ model, el }) {
  const n = model.get("n_agents");
  const steps = model.get("steps");
  const labels = model.get("labels");
  const valueLabel = model.get("value_label");
  const values = readFloat32(model.get("_values"));
  const at = fit(readFloat32(model.get("_positions")), n);
  const scale = makeScale("sequential", [], model.get("value_range"));

  const title = h("div", "rt-title");
  const legend = makeLegend();
  legend.update(scale);
  const header = h("div", "rt-header");
  header.append(title, h("span", "rt-control-name", valueLabel), legend.el);

  const slider = makeSlider("rt-step-slider", "training step", steps.length - 1);
  const readout = h("span", "rt-readout rt-step-readout");
  const stepRow = controlRow("rt-step", "step", slider, readout);

  const graph = svg("svg", { viewBox: `0 0 ${SIZE} ${SIZE}`, role: "img", class: "rt-graph" });
  graph.setAttribute("aria-label", `graph of ${n} agents colored by ${valueLabel}`);
  for (const [l, k] of model.get("edges")) {
    const [x1, y1] = at[l];
    const [x2, y2] = at[k];
    svg("line", { class: "rt-link", x1, y1, x2, y2 }, graph);
  }
  const nodes = at.map(([x, y], k) => {
    const group = svg("g", { class: "rt-node", "data-agent": k }, graph);
    const circle = svg("circle", { cx: x, cy: y, r: RADIUS }, group);
    const middle = { "text-anchor": "middle" };
    const name = svg("text", { x, y, ...middle, "dominant-baseline": "central" }, group);
    name.textContent = String(k);
    const below = { x, y: y + RADIUS + 9, ...middle, class: "rt-node-value" };
    const value = svg("text", below, group);
    const tip = svg("title", {}, group);
    group.addEventListener("click", () => {
      saveTrait(model, "selected", model.get("selected") === k ? -1 : k);
    });
    return { group, circle, value, tip };
  });

  const root = h("div", "rt-widget rt-agent-graph-view");
  root.append(header, stepRow, graph);
  el.append(root);

  function redraw() {
    const s = model.get("step_index");
    const selected = model.get("selected");
    const row = values.subarray(s * n, (s + 1) * n);
    nodes.forEach(({ group, circle, value, tip }, k) => {
      circle.style.fill = scale.color(row[k]);
      value.textContent = row[k].toFixed(2);
      tip.textContent = `${labels[k]} \u00b7 ${valueLabel} ${formatValue(row[k])}`;
      group.classList.toggle("rt-selected", k === selected);
    });
    const mean = row.reduce((a, b) => a + b, 0) / n;
    readout.textContent =
      selected >= 0
        ? `step ${steps[s]} \u00b7 ${labels[selected]}: ${row[selected].toFixed(3)}`
        : `step ${steps[s]} \u00b7 mean ${mean.toFixed(3)}` +
          ` \u00b7 min ${Math.min(...row).toFixed(3)} \u00b7 max ${Math.max(...row).toFixed(3)}`;
    slider.value = String(s);
    slider.setAttribute("aria-valuetext", `step ${steps[s]}`);
    Object.assign(root.dataset, { step: String(steps[s]), selected: String(selected) });
  }

  function retitle() {
    title.textContent = model.get("title");
  }

  slider.addEventListener("input", () => saveTrait(model, "step_index", Number(slider.value)));
  const listeners = [
    ["change:step_index", redraw],
    ["change:selected", redraw],
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
