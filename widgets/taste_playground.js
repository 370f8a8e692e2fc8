/* taste_playground.js: the TastePlayground view (see widgets/taste_playground.py).
 *
 * Left, the inputs: a range slider per taste (sends on `change`, i.e. on release, so a
 * drag is one kernel run; the value label follows every `input`), a seed and a text box
 * whose "Use text" button or Enter sets `text` and bumps `text_submitted`. Right, the
 * outputs of the last run: caption, error line, an SVG piano roll (one rect per note,
 * coloured by voice; time on x, pitch on y with a line at every C), an <audio> element
 * playing the WAV bytes through a Blob URL, and a bar per feature over its fixed range.
 * The outputs arrive as several traits in one message; a microtask redraws them once.
 */

const ROLL = { width: 480, height: 200, left: 30, right: 466, top: 6, bottom: 180 };
const MIN_SEMITONES = 12; // the roll shows at least an octave

/** A number in at most four significant digits: 1834.2 -> "1834", 0.012345 -> "0.01235". */
function short(value) {
  return String(Number(value.toPrecision(4)));
}

/** MIDI pitch -> name with octave, C4 = 60. */
function pitchName(pitch) {
  const names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
  return `${names[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
}

/** Redraw `roll` with `notes` (N*4 floats: pitch, start, end, velocity) over `duration` s. */
function drawRoll(roll, notes, voices, duration) {
  roll.replaceChildren();
  const names = [...new Set(voices)].sort();
  const count = notes.length / 4;
  let lo = Infinity;
  let hi = -Infinity;
  let end = duration;
  for (let i = 0; i < count; i++) {
    lo = Math.min(lo, notes[4 * i]);
    hi = Math.max(hi, notes[4 * i]);
    end = Math.max(end, notes[4 * i + 2]);
  }
  if (!count) [lo, hi] = [60, 72];
  const extra = Math.max(0, MIN_SEMITONES - (hi - lo));
  lo = Math.floor(lo - extra / 2) - 1; // a free row below and above the notes
  hi = Math.ceil(hi + extra / 2) + 1;
  const rowHeight = (ROLL.bottom - ROLL.top) / (hi - lo + 1);
  const y = (pitch) => ROLL.bottom - (pitch - lo + 1) * rowHeight; // top edge of the row
  const x = (t) => ROLL.left + (t / (end || 1)) * (ROLL.right - ROLL.left);

  const grid = svg("g", { class: "rt-roll-grid" }, roll);
  for (let pitch = Math.ceil(lo / 12) * 12; pitch <= hi; pitch += 12) {
    const at = y(pitch) + rowHeight;
    svg("line", { x1: ROLL.left, x2: ROLL.right, y1: at, y2: at }, grid);
    const label = svg("text", { x: ROLL.left - 4, y: at, "text-anchor": "end" }, grid);
    label.textContent = pitchName(pitch);
  }
  const step = end > 20 ? 5 : end > 8 ? 2 : 1;
  for (let t = 0; t <= end + 1e-9; t += step) {
    svg("line", { x1: x(t), x2: x(t), y1: ROLL.bottom, y2: ROLL.bottom + 4 }, grid);
    const label = svg("text", { x: x(t), y: ROLL.bottom + 15, "text-anchor": "middle" }, grid);
    label.textContent = `${t} s`;
  }
  svg("line", { x1: ROLL.left, x2: ROLL.right, y1: ROLL.bottom, y2: ROLL.bottom }, grid);

  const fragment = document.createDocumentFragment();
  for (let i = 0; i < count; i++) {
    const [pitch, start, stop, velocity] = notes.subarray(4 * i, 4 * i + 4);
    const rect = svg("rect", {
      class: "rt-note",
      x: x(start),
      y: y(pitch),
      width: Math.max(x(stop) - x(start), 1),
      height: rowHeight,
      "data-voice": voices[i],
    });
    rect.style.fill = categoryColor(names.indexOf(voices[i]));
    rect.style.fillOpacity = String(0.35 + (0.65 * Math.min(velocity, 127)) / 127);
    svg("title", {}, rect).textContent =
      `${voices[i]} ${pitchName(pitch)} \u00b7 ${short(start)}\u2013${short(stop)} s` +
      ` \u00b7 velocity ${velocity}`;
    fragment.append(rect);
  }
  roll.append(fragment);
  roll.setAttribute("aria-label", `piano roll: ${count} notes over ${short(end)} s`);
  return names;
}

function render({ model, el }) {
  const tastes = model.get("tastes");

  const title = h("div", "rt-title");
  const header = h("div", "rt-header");
  header.append(title);

  // Inputs.
  const controls = h("div", "rt-controls");
  controls.dataset.lmSuppressShortcuts = "true"; // keys edit the inputs, not notebook cells
  const sliders = {};
  const readouts = {};
  for (const taste of tastes) {
    const slider = h("input", "rt-taste");
    Object.assign(slider, { type: "range", min: "0", max: "1", step: "0.05" });
    slider.dataset.taste = taste;
    slider.setAttribute("aria-label", taste);
    const readout = h("span", "rt-taste-value");
    slider.addEventListener("input", () => {
      readout.textContent = Number(slider.value).toFixed(2);
    });
    slider.addEventListener("change", () => {
      saveTrait(model, "profile", { ...model.get("profile"), [taste]: Number(slider.value) });
    });
    const row = h("label", "rt-taste-row");
    row.append(h("span", "rt-taste-name", taste), slider, readout);
    controls.append(row);
    sliders[taste] = slider;
    readouts[taste] = readout;
  }
  const seed = h("input", "rt-seed");
  Object.assign(seed, { type: "number", min: "0", step: "1" });
  seed.setAttribute("aria-label", "seed");
  seed.addEventListener("change", () => {
    const value = Number(seed.value);
    if (seed.value === "" || !Number.isInteger(value) || value < 0) {
      seed.value = String(model.get("seed")); // not a seed: back to the one in effect
      return;
    }
    saveTrait(model, "seed", value);
  });
  const seedRow = h("label", "rt-seed-row");
  seedRow.append(h("span", "rt-taste-name", "seed"), seed);

  const textBox = h("input", "rt-taste-text");
  Object.assign(textBox, { type: "text", placeholder: "e.g. lemon sorbet" });
  textBox.setAttribute("aria-label", "taste description");
  const useText = h("button", "rt-use-text", "Use text");
  useText.type = "button";
  function submitText() {
    model.set("text", textBox.value);
    model.set("text_submitted", model.get("text_submitted") + 1);
    model.save_changes();
  }
  useText.addEventListener("click", submitText);
  textBox.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    submitText();
  });
  const textRow = h("div", "rt-text-row");
  textRow.append(textBox, useText);
  controls.append(seedRow, textRow);
  if (isStaticCopy(el)) {
    controls.append(h("div", "rt-static-note", "static copy: sliders need a running kernel"));
  }

  // Outputs.
  const caption = h("div", "rt-caption");
  const error = h("div", "rt-error");
  error.setAttribute("role", "alert");
  const roll = svg("svg", {
    class: "rt-piano-roll",
    viewBox: `0 0 ${ROLL.width} ${ROLL.height}`,
    role: "img",
  });
  const legend = h("div", "rt-key rt-voice-legend");
  const audio = h("audio", "rt-audio");
  audio.controls = true;
  audio.preload = "metadata";
  const features = h("div", "rt-features");
  const outputs = h("div", "rt-outputs");
  outputs.append(caption, error, roll, legend, audio, features);

  const body = h("div", "rt-playground-body");
  body.append(controls, outputs);
  const root = h("div", "rt-widget rt-taste-playground");
  root.append(header, body);
  el.append(root);

  function showProfile() {
    const profile = model.get("profile");
    for (const taste of tastes) {
      sliders[taste].value = String(profile[taste]);
      readouts[taste].textContent = profile[taste].toFixed(2);
    }
  }
  const showSeed = () => {
    seed.value = String(model.get("seed"));
  };
  const showText = () => {
    textBox.value = model.get("text");
  };

  let audioData = null; // the _audio value the player's Blob URL holds
  let audioUrl = null;
  function showAudio() {
    if (model.get("_audio") === audioData) return;
    audioData = model.get("_audio");
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    audioUrl = URL.createObjectURL(new Blob([audioData], { type: "audio/wav" }));
    audio.src = audioUrl;
  }

  function showFeatures() {
    const ranges = model.get("feature_ranges");
    const rows = Object.entries(model.get("features")).map(([name, value]) => {
      const row = h("div", "rt-feature");
      row.dataset.feature = name;
      const track = h("span", "rt-feature-track");
      const fill = h("span", "rt-feature-fill");
      track.append(fill);
      const range = ranges[name];
      if (range) {
        const [lo, hi] = range;
        const share = Math.min(1, Math.max(0, (value - lo) / (hi - lo)));
        fill.style.width = `${(100 * share).toFixed(1)}%`;
        row.title = `${name} = ${value} (bar from ${short(lo)} to ${short(hi)})`;
      }
      row.append(
        h("span", "rt-feature-name", name),
        track,
        h("span", "rt-feature-value", short(value)),
      );
      return row;
    });
    features.replaceChildren(...rows);
  }

  function redraw() {
    const notes = readFloat32(model.get("_notes"));
    const voices = model.get("voices");
    const names = drawRoll(roll, notes, voices, model.get("duration"));
    legend.replaceChildren(...names.map((name, i) => legendEntry(name, categoryColor(i))));
    showAudio();
    showFeatures();
    caption.textContent = model.get("caption");
    error.textContent = model.get("error");
    error.hidden = !model.get("error");
    Object.assign(root.dataset, { notes: String(notes.length / 4), caption: model.get("caption") });
  }

  let pending = false;
  function scheduleRedraw() {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      redraw();
    });
  }

  function retitle() {
    title.textContent = model.get("title");
  }

  const outputTraits = ["_notes", "voices", "_audio", "duration", "features", "caption", "error"];
  const listeners = [
    ...outputTraits.map((trait) => [`change:${trait}`, scheduleRedraw]),
    ["change:profile", showProfile],
    ["change:seed", showSeed],
    ["change:text", showText],
    ["change:title", retitle],
  ];
  for (const [event, callback] of listeners) model.on(event, callback);
  for (const show of [retitle, showProfile, showSeed, showText, redraw]) show();
  return () => {
    for (const [event, callback] of listeners) model.off(event, callback);
    if (audioUrl) URL.revokeObjectURL(audioUrl);
  };
}

export default { render };
