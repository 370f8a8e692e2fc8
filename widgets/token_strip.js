/* token_strip.js: the TokenStrip view (see widgets/token_strip.py).
 *
 * Uses h, makePicker, saveTrait, readFloat32, formatValue, makeScale, makeLegend and
 * makeTokenStrip from base.js, which widgets.base.bundle() prepends. Built for thousands
 * of tokens: makeTokenStrip creates the spans once and serves them with delegated
 * listeners, and switching tracks only rewrites each span's background color.
 */

function render({ model, el }) {
  const tokens = model.get("tokens");
  const names = model.get("track_names");

  const title = h("div", "rt-title", model.get("title"));
  const picker = makePicker("Track", names);
  const legend = makeLegend();
  const header = h("div", "rt-header");
  header.append(title, picker, legend.el);

  let values = new Float32Array(0);
  const describe = (i) =>
    `token ${i} ${JSON.stringify(tokens[i])} \u00b7 ${model.get("track")} = ${formatValue(values[i])}`;
  const strip = makeTokenStrip({
    tokens,
    describe,
    onSelect: (i) => saveTrait(model, "selected", i),
  });

  const root = h("div", "rt-widget rt-token-strip");
  root.append(header, strip.strip, strip.status);
  el.append(root);

  function recolor() {
    const name = model.get("track");
    values = readFloat32(model.get("_track_data")[name]);
    const scale = makeScale(model.get("scales")[name], values);
    strip.paint(values, scale);
    legend.update(scale);
    picker.value = name;
  }

  const highlight = () => strip.highlight(model.get("selected"));
  const retitle = () => {
    title.textContent = model.get("title");
  };

  picker.addEventListener("change", () => saveTrait(model, "track", picker.value));

  model.on("change:track", recolor);
  model.on("change:selected", highlight);
  model.on("change:title", retitle);
  recolor();
  highlight();
  return () => {
    model.off("change:track", recolor);
    model.off("change:selected", highlight);
    model.off("change:title", retitle);
  };
}

export default { render };
