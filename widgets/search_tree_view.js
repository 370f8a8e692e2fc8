/* search_tree_view.js: the SearchTreeView (see widgets/search_tree_view.py).
 *
 * Uses h, saveTrait and displayText from base.js, which widgets.base.bundle() prepends.
 * One column per step, candidates sorted by combined score; the output's path and the kept
 * beams are marked; a click shows the candidate's prefix and lookahead below the tree. All
 * state is in the model, so the view works the same in a static HTML export.
 */

const HINT = "Click a candidate to see its prefix and lookahead.";

function fmt(x) {
  return (x >= 0 ? "+" : "") + x.toFixed(2);
}

function render({ model, el }) {
  const steps = model.get("steps");
  const path = model.get("path");
  const title = h("div", "rt-title", model.get("title"));
  const tree = h("div", "rt-tree");
  const detail = h("div", "rt-detail", HINT);
  const buttons = [];

  steps.forEach((step, t) => {
    const column = h("div", "rt-step");
    column.append(h("div", "rt-step-head", `step ${t + 1}`));
    const order = step.map((_, i) => i).sort((a, b) => step[b].score - step[a].score);
    buttons.push([]);
    for (const i of order) {
      const c = step[i];
      const node = h("button", "rt-node");
      node.type = "button";
      if (c.chosen) node.classList.add("rt-chosen");
      if (path[t] === i) node.classList.add("rt-on-path");
      node.append(
        h("div", "rt-node-token", displayText(c.token)),
        h("div", "rt-node-scores", `log P ${fmt(c.token_logp)} \u00b7 h ${fmt(c.heuristic)}`),
        h("div", "rt-node-scores", `s ${fmt(c.score)}`),
      );
      node.title = `log P(y\u2295a) = ${c.logp.toFixed(3)}, h = ${c.heuristic.toFixed(3)}, s = ${c.score.toFixed(3)}`;
      node.addEventListener("click", () => saveTrait(model, "selected", [t, i]));
      buttons[t][i] = node;
      column.append(node);
    }
    tree.append(column);
  });

  const root = h("div", "rt-widget rt-search-tree-view");
  root.append(title, tree, detail);
  el.append(root);

  function prefix(t, i) {
    const tokens = [];
    for (let s = t, n = i; s >= 0; s--) {
      tokens.push(steps[s][n].token);
      n = steps[s][n].parent;
    }
    return tokens.reverse().join("");
  }

  function show() {
    for (const column of buttons) for (const b of column) b?.classList.remove("rt-selected");
    const selected = model.get("selected");
    if (selected.length !== 2) {
      detail.textContent = HINT;
      return;
    }
    const [t, i] = selected;
    const c = steps[t][i];
    buttons[t][i].classList.add("rt-selected");
    detail.replaceChildren(
      h("div", "", `step ${t + 1}: log P ${c.logp.toFixed(3)}, h ${c.heuristic.toFixed(3)}, score ${c.score.toFixed(3)}${c.chosen ? " (kept)" : ""}`),
      h("span", "", prefix(t, i)),
      h("span", "rt-lookahead", c.lookahead),
    );
  }

  model.on("change:selected", show);
  show();
  return () => model.off("change:selected", show);
}

export default { render };
