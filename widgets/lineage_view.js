/* lineage_view.js: the LineageView view (see widgets/lineage_view.py).
 *
 * Uses h, svg, makePicker, saveTrait and legendEntry from base.js, which
 * widgets.base.bundle() prepends. The layout (layer, row) comes from Python; this module only
 * draws it: edges as curves, nodes as labelled boxes colored by verdict, and the chain of
 * reasons of the clicked node below. Everything it needs is in the model's state, so clicks
 * work in a static HTML export too.
 */

const LAYER_GAP = 190;
const ROW_GAP = 30;
const BOX_W = 150;
const BOX_H = 22;
const PAD = 8;
const STATUS_TEXT = {
  permitted: "permitted",
  forbidden: "forbidden",
  unknown: "unknown (not established)",
};

function statusColor(status) {
  return `var(--rt-verdict-${status})`;
}

function render({ model, el }) {
  const nodes = model.get("nodes");
  const edges = model.get("edges");
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const at = (n) => ({ x: PAD + n.layer * LAYER_GAP, y: PAD + n.row * ROW_GAP });

  const title = h("div", "rt-title", model.get("title"));
  const picker = makePicker("Use", model.get("uses"));
  const key = h("div", "rt-key");
  for (const status of Object.keys(STATUS_TEXT)) key.append(legendEntry(STATUS_TEXT[status], statusColor(status)));
  key.append(h("span", "rt-lineage-changed-key", "dashed: own licence permits, lineage does not"));
  const header = h("div", "rt-header");
  header.append(title, picker, key);

  const layers = Math.max(...nodes.map((n) => n.layer)) + 1;
  const rows = Math.max(...nodes.map((n) => n.row)) + 1;
  const width = 2 * PAD + (layers - 1) * LAYER_GAP + BOX_W;
  const height = 2 * PAD + (rows - 1) * ROW_GAP + BOX_H;
  const canvas = svg("svg", { class: "rt-lineage-dag", width, height, viewBox: `0 0 ${width} ${height}` });
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "Lineage: sources on the left, derived works to the right");

  const edgeEls = edges.map((e) => {
    const a = at(byName.get(e.source));
    const b = at(byName.get(e.target));
    const x1 = a.x + BOX_W;
    const y1 = a.y + BOX_H / 2;
    const x2 = b.x;
    const y2 = b.y + BOX_H / 2;
    const mid = (x1 + x2) / 2;
    const path = svg("path", { class: `rt-lineage-edge rt-edge-${e.kind}`, d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` }, canvas);
    svg("title", {}, path).textContent = `${e.source} \u2192 ${e.target}: ${e.kind}`;
    return { edge: e, path };
  });

  const boxes = new Map();
  for (const node of nodes) {
    const { x, y } = at(node);
    const group = svg("g", { class: "rt-lineage-node", transform: `translate(${x},${y})`, tabindex: 0 }, canvas);
    group.dataset.name = node.name;
    const rect = svg("rect", { width: BOX_W, height: BOX_H, rx: 4 }, group);
    const label = svg("text", { x: 6, y: BOX_H / 2 + 4 }, group);
    label.textContent = `${node.kind === "model" ? "\u25c6 " : ""}${node.name}${node.uncertain ? " ?" : ""}`;
    const tip = svg("title", {}, group);
    boxes.set(node.name, { group, rect, tip });
  }

  const panel = h("div", "rt-lineage-reasons");
  panel.setAttribute("aria-live", "polite");
  const root = h("div", "rt-widget rt-lineage-view");
  const scroller = h("div", "rt-lineage-scroll");
  scroller.append(canvas);
  root.append(header, scroller, panel);
  el.append(root);

  function verdictOf(name) {
    return model.get("verdicts")[model.get("use")][name];
  }

  function recolor() {
    picker.value = model.get("use");
    for (const node of nodes) {
      const v = verdictOf(node.name);
      const box = boxes.get(node.name);
      box.rect.style.fill = statusColor(v.status);
      box.group.classList.toggle("rt-changed", v.own === "permitted" && v.status !== "permitted");
      box.tip.textContent = `${node.name} (${node.licence || "no licence stated"}): ${v.status}; own licence: ${v.own}`;
    }
    showSelected();
  }

  function showSelected() {
    const name = model.get("selected");
    const v = name ? verdictOf(name) : null;
    const responsible = new Set(v ? v.responsible : []);
    for (const [other, box] of boxes) {
      box.group.classList.toggle("rt-selected", other === name);
      box.group.classList.toggle("rt-responsible", responsible.has(other));
    }
    for (const { edge, path } of edgeEls) path.classList.toggle("rt-into-selected", edge.target === name);
    panel.replaceChildren();
    if (!v) {
      panel.append(h("div", "rt-status", "Click a node to see its chain of reasons."));
      return;
    }
    const node = byName.get(name);
    panel.append(
      h("div", "rt-panel-title", `${name}: ${STATUS_TEXT[v.status]} for ${model.get("use")} (own licence alone: ${v.own})`),
      h("div", "rt-lineage-licence", `licence ${node.licence || "none stated"}${node.terms.length ? `; terms ${node.terms.join(", ")}` : ""}${node.source ? ` \u00b7 ${node.source}` : ""}`),
    );
    if (v.responsible.length) panel.append(h("div", "", `Ancestors responsible: ${v.responsible.join(", ")}`));
    for (const condition of v.conditions) panel.append(h("div", "rt-lineage-condition", `condition: ${condition}`));
    const list = h("ul", "rt-lineage-reason-list");
    for (const reason of v.reasons) list.append(h("li", "", reason));
    panel.append(list);
  }

  canvas.addEventListener("click", (event) => {
    const group = event.target.closest(".rt-lineage-node");
    if (!group) return;
    const name = group.dataset.name;
    saveTrait(model, "selected", name === model.get("selected") ? "" : name);
  });
  canvas.addEventListener("keydown", (event) => {
    const group = event.target.closest(".rt-lineage-node");
    if (!group || (event.key !== "Enter" && event.key !== " ")) return;
    event.preventDefault();
    saveTrait(model, "selected", group.dataset.name);
  });
  picker.addEventListener("change", () => saveTrait(model, "use", picker.value));
  const retitle = () => {
    title.textContent = model.get("title");
  };

  model.on("change:use", recolor);
  model.on("change:selected", showSelected);
  model.on("change:title", retitle);
  recolor();
  return () => {
    model.off("change:use", recolor);
    model.off("change:selected", showSelected);
    model.off("change:title", retitle);
  };
}

export default { render };
