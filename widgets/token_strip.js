/* token_strip.js: the TokenStrip view (see widgets/token_strip.py).
 *
 * Uses h, readFloat32, formatValue, makeScale and makeLegend from base.js, which
 * widgets.base.bundle() prepends. Built for thousands of tokens: the token spans are
 * created once, three listeners on the strip serve every token (event delegation), and
 * switching tracks only rewrites each span's background color.
 */

/** Whitespace made visible: spaces (GPT-2 "Ġ", SentencePiece "▁") as "·", newlines as "↵". */
const WHITESPACE_MARKS = [
  [/[ \u0120\u2581]/g, "\u00b7"],
  [/[\n\u010a]/g, "\u21b5"],
  [/[\t\u0109]/g, "\u21e5"],
];
const LINE_END = /[\n\u010a]$/;
const BLANK = /^[\s\u0120\u2581\u010a\u0109]*$/;
const HINT = "Hover a token to see its value; click to select it.";

function displayText(token) {
  if (token === "") return "\u2205";
  return WHITESPACE_MARKS.reduce((text, [pattern, mark]) => text.replace(pattern, mark), token);
}

/** Append one span per token to `container` in a single DOM write; return the spans. */
function buildTokens(container, tokens) {
  const fragment = document.createDocumentFragment();
  const spans = tokens.map((token, i) => {
    const span = h("span", BLANK.test(token) ? "rt-token rt-blank" : "rt-token", displayText(token));
    span.dataset.index = String(i);
    fragment.append(span);
    if (LINE_END.test(token)) fragment.append(document.createElement("br"));
    return span;
  });
  container.append(fragment);
  return spans;
}

function render({ model, el }) {
  const tokens = model.get("tokens");
  const names = model.get("track_names");

  const title = h("div", "rt-title", model.get("title"));
  const picker = h("select", "rt-track-picker");
  picker.setAttribute("aria-label", "Track");
  picker.disabled = names.length < 2;
  for (const name of names) picker.append(new Option(name, name));
  const legend = makeLegend();
  const header = h("div", "rt-header");
  header.append(title, picker, legend.el);

  const strip = h("div", "rt-strip");
  strip.tabIndex = 0;
  strip.setAttribute("aria-label", "Tokens: arrow keys move the selection, Escape clears it");
  strip.dataset.lmSuppressShortcuts = "true"; // keep JupyterLab's notebook shortcuts out
  const status = h("div", "rt-status", HINT);
  status.setAttribute("aria-live", "polite");

  const root = h("div", "rt-widget rt-token-strip");
  root.append(header, strip, status);
  el.append(root);
  const spans = buildTokens(strip, tokens);

  let values = new Float32Array(0);
  let highlighted = -1;

  const describe = (i) =>
    `token ${i} ${JSON.stringify(tokens[i])} \u00b7 ${model.get("track")} = ${formatValue(values[i])}`;

  function showStatus(hovered = -1) {
    const selected = model.get("selected");
    if (hovered >= 0) status.textContent = describe(hovered);
    else status.textContent = selected >= 0 ? `selected ${describe(selected)}` : HINT;
  }

  function recolor() {
    const name = model.get("track");
    values = readFloat32(model.get("_track_data")[name]);
    const scale = makeScale(model.get("scales")[name], values);
    for (let i = 0; i < spans.length; i++) spans[i].style.backgroundColor = scale.color(values[i]);
    legend.update(scale);
    picker.value = name;
    showStatus();
  }

  function highlight() {
    spans[highlighted]?.classList.remove("rt-selected");
    highlighted = model.get("selected");
    spans[highlighted]?.classList.add("rt-selected");
    spans[highlighted]?.scrollIntoView({ block: "nearest", inline: "nearest" });
    showStatus();
  }

  function retitle() {
    title.textContent = model.get("title");
  }

  function select(i) {
    model.set("selected", i);
    model.save_changes();
  }

  function tokenIndex(target) {
    const span = target.closest(".rt-token");
    return span ? Number(span.dataset.index) : -1;
  }

  strip.addEventListener("mouseover", (event) => {
    const i = tokenIndex(event.target);
    if (i < 0) return;
    spans[i].title = describe(i);
    showStatus(i);
  });
  strip.addEventListener("mouseleave", () => showStatus());
  strip.addEventListener("click", (event) => {
    const i = tokenIndex(event.target);
    if (i >= 0) select(i === model.get("selected") ? -1 : i);
  });
  strip.addEventListener("keydown", (event) => {
    const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
    if (step) select(Math.min(spans.length - 1, Math.max(0, model.get("selected") + step)));
    else if (event.key === "Escape") select(-1);
    else return;
    event.preventDefault();
  });
  picker.addEventListener("change", () => {
    model.set("track", picker.value);
    model.save_changes();
  });

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
