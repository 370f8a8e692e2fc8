/* word_association_view.js: the WordAssociationView view (see widgets/word_association_view.py).
 *
 * A test menu, a summary line (d, its interval, p), one bar per target word (X in category 0,
 * Y in category 1, sorted by association, zero marked) and, when the kernel can compute, four
 * text boxes for comma-separated word sets and a Compute button. Everything shown comes from
 * the model's `tests`, so the menu and bars work in a static HTML export.
 */

function render({ model, el }) {
  const title = h("div", "rt-title");
  const picker = makePicker("Test", model.get("tests").map((t) => [t.name, `${t.name}: ${t.title}`]));
  const summary = h("div", "rt-summary");
  const bars = h("div", "rt-bars");
  const legend = h("div", "rt-key");
  const form = h("div", "rt-form");
  const error = h("div", "rt-error");
  error.setAttribute("role", "alert");
  const root = h("div", "rt-widget rt-word-association-view");
  root.append(title, controlRow("rt-test-row", "test", picker), summary, legend, bars, form, error);
  el.append(root);

  const labels = model.get("labels");
  const inputs = labels.map((label, i) => {
    const input = h("input", `rt-set-${i}`);
    input.type = "text";
    input.placeholder = `${label}: comma-separated words`;
    input.setAttribute("aria-label", `${label} words`);
    input.dataset.lmSuppressShortcuts = "true";
    return input;
  });
  const button = h("button", "rt-compute", "Compute");
  button.type = "button";
  if (model.get("interactive")) {
    form.append(...inputs, button);
    if (isStaticCopy(el)) form.append(h("div", "rt-static-note", "static copy: computing your own sets needs a running kernel"));
  }
  button.addEventListener("click", () => {
    model.set("custom_sets", inputs.map((input) => input.value));
    model.set("submitted", model.get("submitted") + 1);
    model.save_changes();
  });
  picker.addEventListener("input", () => saveTrait(model, "selected", picker.value));

  function redraw() {
    const tests = model.get("tests");
    picker.replaceChildren(...tests.map((t) => new Option(`${t.name}: ${t.title}`, t.name)));
    picker.disabled = tests.length < 2;
    const test = tests.find((t) => t.name === model.get("selected")) ?? tests[0];
    picker.value = test.name;
    const [lo, hi] = test.ci;
    summary.textContent = `d = ${test.effect_size.toFixed(2)}  (95% CI ${lo.toFixed(2)} to ${hi.toFixed(2)}), p = ${test.p_value.toPrecision(2)}`;
    legend.replaceChildren(
      legendEntry(`${labels[0]} words`, categoryColor(0)),
      legendEntry(`${labels[1]} words`, categoryColor(1)),
      h("span", "rt-legend-note", `bar: mean cos to ${labels[2]} − mean cos to ${labels[3]}`),
    );
    const rows = [
      ...test.words_x.map((w, i) => [w, test.associations_x[i], 0]),
      ...test.words_y.map((w, i) => [w, test.associations_y[i], 1]),
    ].sort((a, b) => b[1] - a[1]);
    const m = Math.max(...rows.map((r) => Math.abs(r[1])), 1e-9);
    bars.replaceChildren();
    for (const [word, value, side] of rows) {
      const track = h("div", "rt-bar-track");
      const bar = h("div", "rt-bar");
      const width = (50 * Math.abs(value)) / m;
      Object.assign(bar.style, { left: `${value < 0 ? 50 - width : 50}%`, width: `${width}%`, background: categoryColor(side) });
      bar.title = `${word}: ${value.toFixed(4)}`;
      const zero = h("div", "rt-zero");
      zero.style.left = "50%";
      track.append(bar, zero);
      bars.append(h("span", "rt-word", word), track);
    }
    root.dataset.selected = test.name;
    error.textContent = model.get("error");
  }

  const retitle = () => {
    title.textContent = model.get("title");
  };
  const listeners = [["change:selected", redraw], ["change:tests", redraw], ["change:error", redraw], ["change:title", retitle]];
  for (const [event, callback] of listeners) model.on(event, callback);
  retitle();
  redraw();
  return () => {
    for (const [event, callback] of listeners) model.off(event, callback);
  };
}

export default { render };
