/* trajectory_view.js: the TrajectoryView view (see widgets/trajectory_view.py).
 *
 * One 2D canvas, projected by hand (no WebGL, no third-party JS):
 *   world (x, y, z) [m], z up  ->  about the scene's center c, turned by the azimuth α about
 *   z and tilted by the elevation β:  right = x', up = y' sin β + z cos β,
 *   depth = y' cos β − z sin β  (x', y' the azimuth-turned coordinates), then a mild
 *   perspective: screen = center + shift + k · D / (D + depth) · (right, −up), D = 3 R (R:
 *   the scene's radius), k = fit · zoom pixels per meter; fit and shift make the scene's box
 *   fill the canvas in the initial view, the wheel changes the zoom.
 * The static layer (ground grid, axes, dashed reference, tracks colored by error) is drawn
 * into an offscreen canvas when the camera, the shown tracks, the size or the theme change;
 * each playback frame copies it and draws the markers and trails at step k on top.
 * Track segments are binned into BINS error levels, one path per level, so a frame
 * strokes a few dozen paths however long the tracks are.
 */

const HEIGHT = 420; // canvas CSS height [px]
const FALLBACK_WIDTH = 640; // before the view is attached to the page
const BINS = 32; // error color levels
const TRAIL_SECONDS = 0.5;
const FILL = 0.86; // share of the canvas the scene's box fills in the initial view
const SYNC_MS = 200; // during playback, time_index reaches Python at most this often
const VIEW = { azimuth: -0.6, elevation: 0.45, zoom: 1 };

/** The scene's box: every finite point, the ground at z = min(0, lowest z); x, y and the
 * ground snapped to ticks. */
function sceneBox(reference, actual) {
  const lo = [Infinity, Infinity, 0];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const points of [reference, actual]) {
    for (let i = 0; i < points.length; i++) {
      const v = points[i];
      if (Number.isNaN(v)) continue;
      const axis = i % 3;
      if (v < lo[axis]) lo[axis] = v;
      if (v > hi[axis]) hi[axis] = v;
    }
  }
  const span = Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]) || 1;
  const step = niceStep(span / 5);
  const ticks = lo.map((l, axis) => {
    const t = stepTicks(l, hi[axis], step, true);
    return t.length > 1 ? t : [t[0], t[0] + step]; // a flat axis still gets a grid cell
  });
  // Upwards the box ends at the highest point: the z ticks stop below it, the z axis at it.
  const below = ticks[2].filter((t) => t <= hi[2] + 1e-9 * step);
  ticks[2] = below.length > 1 ? below : ticks[2].slice(0, 2);
  const min = ticks.map((t) => t[0]);
  const max = ticks.map((t) => t[t.length - 1]);
  max[2] = Math.max(max[2], hi[2]);
  const center = min.map((m, axis) => (m + max[axis]) / 2);
  const radius = Math.hypot(...max.map((m, axis) => m - min[axis])) / 2 || 1;
  return { step, ticks, min, max, center, radius };
}

function render({ model, el }) {
  const labels = model.get("labels");
  const steps = model.get("steps");
  const dt = model.get("dt");
  const t0 = model.get("t0");
  const ends = model.get("ends");
  const tracks = labels.length;
  const reference = readFloat32(model.get("_reference")); // (T, 3)
  const actual = readFloat32(model.get("_actual")); // (C, T, 3)
  const error = readFloat32(model.get("_error")); // (C, T), NaN after a crash
  const box = sceneBox(reference, actual);
  const decimals = Math.max(0, Math.ceil(-Math.log10(dt) - 1e-9));
  const seconds = (k) => `${(t0 + k * dt).toFixed(decimals)} s`;
  const trail = Math.max(2, Math.round(TRAIL_SECONDS / dt));

  // One sequential scale for every track, from 0 to a round maximum.
  let largest = 0;
  for (const e of error) if (e > largest) largest = e;
  const unit = largest > 0 ? niceStep(largest / 5) : 1;
  const top = Math.max(1, Math.ceil(largest / unit)) * unit;
  const scale = makeScale("sequential", null, [0, Math.fround(top)]);
  // bins[c][b]: the steps k whose segment k -> k + 1 of track c has error bin b (by the
  // mean error of its two ends).
  const bins = Array.from({ length: tracks }, (_, c) => {
    const out = Array.from({ length: BINS }, () => []);
    for (let k = 0; k + 1 < ends[c]; k++) {
      const e = (error[c * steps + k] + error[c * steps + k + 1]) / 2;
      out[Math.min(BINS - 1, Math.floor((e / scale.hi) * BINS))].push(k);
    }
    return out;
  });

  // DOM: header (title, error color bar), canvas, controls, legend.
  const root = h("div", "rt-widget rt-trajectory-view");
  const title = h("div", "rt-title");
  const legend = makeLegend();
  const header = h("div", "rt-header");
  header.append(title, h("span", "rt-scale-name", "error [m]"), legend.el);
  legend.update(scale);

  const canvas = h("canvas", "rt-canvas");
  canvas.setAttribute("role", "img");
  canvas.setAttribute(
    "aria-label",
    `${tracks} tracks and the reference in 3D: drag to orbit, wheel to zoom, double-click to reset`,
  );
  const stage = h("div", "rt-stage");
  stage.append(canvas);

  const play = h("button", "rt-play");
  play.type = "button";
  const slider = makeSlider("rt-time-slider", "Time step", steps - 1);
  const speed = h("select", "rt-speed");
  speed.setAttribute("aria-label", "Speed");
  for (const s of model.get("speeds")) speed.append(new Option(`${s}\u00d7`, String(s)));
  const clock = h("span", "rt-clock");
  const controls = h("div", "rt-controls");
  controls.append(play, slider, speed, clock);

  const trackList = h("div", "rt-tracks");
  trackList.append(h("span", "rt-track rt-reference-entry", "- - reference"));
  const entries = labels.map((name, c) => {
    const entry = h("button", "rt-track");
    entry.type = "button";
    entry.dataset.track = name;
    const readout = h("span", "rt-track-error");
    entry.append(makeSwatch(categoryColor(c)), h("span", "rt-track-name", name), readout);
    entry.addEventListener("click", () => {
      const visible = [...model.get("visible")];
      visible[c] = !visible[c];
      saveTrait(model, "visible", visible);
    });
    trackList.append(entry);
    return { entry, readout };
  });

  root.append(header, stage, controls, trackList);
  el.append(root);

  // Colors: CSS (theme variables, scale colors) resolved through a probe element, since a
  // canvas cannot read var(); `themeKey` tells when the theme changed.
  const probe = h("span", "rt-probe");
  root.append(probe);
  function resolve(css) {
    probe.style.color = css;
    return getComputedStyle(probe).color;
  }
  function themeKey() {
    const style = getComputedStyle(root);
    return ["--rt-bg", "--rt-fg", "--rt-sequential", "--rt-category-0"]
      .map((name) => style.getPropertyValue(name))
      .join("|");
  }
  function resolvePalette() {
    return {
      key: themeKey(),
      bg: resolve("var(--rt-bg)"),
      fg: resolve("var(--rt-fg)"),
      muted: resolve("var(--rt-fg-muted)"),
      grid: resolve("var(--rt-border)"),
      font: `11px ${getComputedStyle(root).fontFamily}`,
      tracks: labels.map((_, c) => resolve(categoryColor(c))),
      bins: Array.from({ length: BINS }, (_, b) =>
        resolve(scale.color(((b + 0.5) / BINS) * scale.hi)),
      ),
    };
  }

  // Camera and projection (module docstring).
  const camera = { ...VIEW };
  let width = FALLBACK_WIDTH;
  let fit = 1; // pixels per meter at zoom 1 (at the center's depth)
  let shift = [0, 0]; // screen offset [px] that centers the box in the initial view
  function project(x, y, z) {
    const [cx, cy, cz] = box.center;
    const ca = Math.cos(camera.azimuth);
    const sa = Math.sin(camera.azimuth);
    const cb = Math.cos(camera.elevation);
    const sb = Math.sin(camera.elevation);
    const right = ca * (x - cx) + sa * (y - cy);
    const forward = -sa * (x - cx) + ca * (y - cy);
    const up = forward * sb + (z - cz) * cb;
    const depth = forward * cb - (z - cz) * sb;
    const distance = 3 * box.radius;
    const s = (fit * camera.zoom * distance) / (distance + depth);
    return [width / 2 + shift[0] + s * right, HEIGHT / 2 + shift[1] - s * up];
  }
  /** Scale and shift so the box's 8 corners fill FILL of the canvas in the initial view. */
  function fitBox() {
    const kept = { ...camera };
    Object.assign(camera, VIEW);
    [fit, shift] = [1, [0, 0]];
    const corners = [0, 1, 2, 3, 4, 5, 6, 7].map((bits) =>
      project(...[0, 1, 2].map((axis) => (bits & (1 << axis) ? box.max : box.min)[axis])),
    );
    const xs = corners.map(([x]) => x);
    const ys = corners.map(([, y]) => y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    fit = FILL * Math.min(width / (x1 - x0), HEIGHT / (y1 - y0));
    shift = [fit * (width / 2 - (x0 + x1) / 2), fit * (HEIGHT / 2 - (y0 + y1) / 2)];
    Object.assign(camera, kept);
  }
  const trackScreen = new Float32Array(tracks * steps * 2); // projected (C, T, 2)
  const referenceScreen = new Float32Array(steps * 2);
  function projectAll() {
    for (let k = 0; k < steps; k++) {
      const [sx, sy] = project(reference[3 * k], reference[3 * k + 1], reference[3 * k + 2]);
      referenceScreen[2 * k] = sx;
      referenceScreen[2 * k + 1] = sy;
    }
    for (let c = 0; c < tracks; c++) {
      for (let k = 0; k < ends[c]; k++) {
        const i = c * steps + k;
        const [sx, sy] = project(actual[3 * i], actual[3 * i + 1], actual[3 * i + 2]);
        trackScreen[2 * i] = sx;
        trackScreen[2 * i + 1] = sy;
      }
    }
  }

  const layer = document.createElement("canvas"); // the static layer
  let palette = null;
  let ratio = 1;

  function polyline(ctx, screen, first, last) {
    ctx.beginPath();
    ctx.moveTo(screen[2 * first], screen[2 * first + 1]);
    for (let i = first + 1; i <= last; i++) ctx.lineTo(screen[2 * i], screen[2 * i + 1]);
    ctx.stroke();
  }

  function cross(ctx, x, y, r) {
    ctx.beginPath();
    ctx.moveTo(x - r, y - r);
    ctx.lineTo(x + r, y + r);
    ctx.moveTo(x + r, y - r);
    ctx.lineTo(x - r, y + r);
    ctx.stroke();
  }

  function label(ctx, point, text, align) {
    const [x, y] = project(...point);
    ctx.textAlign = align;
    ctx.fillText(text, x, y);
  }

  function drawGround(ctx) {
    const [xs, ys, zs] = box.ticks;
    const [x0, y0, z0] = box.min;
    const [x1, y1, z1] = box.max;
    const segment = (a, b) => {
      const [ax, ay] = project(...a);
      const [bx, by] = project(...b);
      ctx.beginPath();
      ctx.moveTo(ax, ay);
      ctx.lineTo(bx, by);
      ctx.stroke();
    };
    ctx.lineWidth = 1;
    ctx.strokeStyle = palette.grid;
    for (const x of xs) segment([x, y0, z0], [x, y1, z0]);
    for (const y of ys) segment([x0, y, z0], [x1, y, z0]);
    ctx.strokeStyle = palette.muted;
    segment([x0, y0, z0], [x1, y0, z0]); // the axes: x and y along the grid's edges, z up
    segment([x0, y0, z0], [x0, y1, z0]);
    segment([x0, y0, z0], [x0, y0, z1]);
    ctx.fillStyle = palette.muted;
    ctx.font = palette.font;
    ctx.textBaseline = "middle";
    const pad = box.step * 0.35;
    const tick = (v) => formatValue(Math.fround(v));
    for (const x of xs) label(ctx, [x, y0 - pad, z0], tick(x), "center");
    for (const y of ys) label(ctx, [x0 - pad, y, z0], tick(y), "center");
    for (const z of zs.slice(1)) label(ctx, [x0 - pad, y0 - pad, z], tick(z), "right"); // not z0
    ctx.fillStyle = palette.fg;
    label(ctx, [x1 + 2 * pad, y0 - pad, z0], "x [m]", "center");
    label(ctx, [x0 - pad, y1 + 2 * pad, z0], "y [m]", "center");
    label(ctx, [x0 - pad, y0 - pad, z1 + 2 * pad], "z [m]", "center");
  }

  function drawStatic() {
    const visible = model.get("visible");
    layer.width = canvas.width;
    layer.height = canvas.height;
    const ctx = layer.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = palette.bg;
    ctx.fillRect(0, 0, width, HEIGHT);
    drawGround(ctx);
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = palette.muted;
    polyline(ctx, referenceScreen, 0, steps - 1);
    ctx.setLineDash([]);
    for (let c = 0; c < tracks; c++) {
      if (!visible[c]) continue;
      const base = c * steps;
      ctx.globalAlpha = 0.35; // a faint line under the colors: the path shows where e ≈ 0
      ctx.lineWidth = 1;
      ctx.strokeStyle = palette.muted;
      polyline(ctx, trackScreen, base, base + ends[c] - 1);
      ctx.globalAlpha = 1;
      ctx.lineWidth = 2.5;
      for (let b = 0; b < BINS; b++) {
        if (!bins[c][b].length) continue;
        ctx.strokeStyle = palette.bins[b];
        ctx.beginPath();
        for (const k of bins[c][b]) {
          const i = base + k;
          ctx.moveTo(trackScreen[2 * i], trackScreen[2 * i + 1]);
          ctx.lineTo(trackScreen[2 * i + 2], trackScreen[2 * i + 3]);
        }
        ctx.stroke();
      }
      if (ends[c] < steps) {
        const i = base + ends[c] - 1;
        ctx.lineWidth = 2;
        ctx.strokeStyle = palette.tracks[c];
        cross(ctx, trackScreen[2 * i], trackScreen[2 * i + 1], 5);
      }
    }
  }

  function marker(ctx, x, y, fill, stroke) {
    ctx.beginPath();
    ctx.arc(x, y, 5, 0, 2 * Math.PI);
    if (fill) {
      ctx.fillStyle = fill;
      ctx.fill();
    }
    ctx.lineWidth = 2;
    ctx.strokeStyle = stroke;
    ctx.stroke();
  }

  function drawFrame(k) {
    const ctx = canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(layer, 0, 0);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    const from = Math.max(0, k - trail);
    ctx.lineWidth = 3;
    ctx.strokeStyle = palette.muted;
    polyline(ctx, referenceScreen, from, k);
    marker(ctx, referenceScreen[2 * k], referenceScreen[2 * k + 1], null, palette.muted);
    const visible = model.get("visible");
    for (let c = 0; c < tracks; c++) {
      if (!visible[c]) continue;
      const base = c * steps;
      if (k >= ends[c]) continue; // crashed: the static layer's × marks where
      ctx.lineWidth = 3;
      ctx.strokeStyle = palette.tracks[c];
      polyline(ctx, trackScreen, base + from, base + k);
      const i = base + k;
      marker(ctx, trackScreen[2 * i], trackScreen[2 * i + 1], palette.tracks[c], palette.bg);
    }
  }

  // Drawing is batched into one animation frame; `staleLayer` asks for the static layer too.
  let pending = 0;
  let staleLayer = true;
  function requestDraw(layerToo) {
    staleLayer ||= layerToo;
    if (!pending) pending = requestAnimationFrame(paint);
  }
  function paint() {
    pending = 0;
    if (!palette || palette.key !== themeKey()) {
      palette = resolvePalette();
      staleLayer = true;
    }
    if (staleLayer) {
      projectAll();
      drawStatic();
      staleLayer = false;
    }
    drawFrame(model.get("time_index"));
  }

  function resize() {
    width = Math.max(200, Math.floor(stage.clientWidth) || FALLBACK_WIDTH);
    ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(HEIGHT * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${HEIGHT}px`;
    fitBox();
    requestDraw(true);
  }

  // Readouts: time, each track's error at step k, the play button, the shown tracks.
  function showTime() {
    const k = model.get("time_index");
    slider.value = String(k);
    slider.setAttribute("aria-valuetext", seconds(k));
    clock.textContent = `t = ${seconds(k)} / ${seconds(steps - 1)}`;
    root.dataset.timeIndex = String(k);
    entries.forEach(({ readout }, c) => {
      readout.textContent =
        k < ends[c] ? `${error[c * steps + k].toFixed(3)} m` : `crashed at ${seconds(ends[c])}`;
    });
    requestDraw(false);
  }
  function showVisible() {
    const visible = model.get("visible");
    entries.forEach(({ entry }, c) => entry.setAttribute("aria-pressed", String(visible[c])));
    requestDraw(true);
  }

  // Playback: a fractional step `cursor` advances by speed · elapsed / dt each frame.
  let cursor = model.get("time_index");
  let loop = 0;
  let lastFrame = 0;
  let lastSync = 0;
  function setTimeIndex(k, sync) {
    model.set("time_index", k);
    if (sync) {
      model.save_changes();
      lastSync = performance.now();
    }
  }
  function tick(now) {
    cursor = Math.min(steps - 1, cursor + ((now - lastFrame) / 1000) * (model.get("speed") / dt));
    lastFrame = now;
    const k = Math.floor(cursor);
    if (k !== model.get("time_index")) setTimeIndex(k, now - lastSync >= SYNC_MS);
    if (k >= steps - 1) setPlaying(false);
    else loop = requestAnimationFrame(tick);
  }
  function setPlaying(on) {
    saveTrait(model, "playing", on); // also sends the last time_index when playback stops
  }
  function showPlaying() {
    const on = model.get("playing");
    play.textContent = on ? "\u275a\u275a Pause" : "\u25b6 Play";
    play.setAttribute("aria-pressed", String(on));
    root.dataset.playing = String(on);
    cancelAnimationFrame(loop);
    loop = 0;
    if (!on) return;
    if (model.get("time_index") >= steps - 1) setTimeIndex(0, true); // replay from the start
    cursor = model.get("time_index");
    lastFrame = performance.now();
    loop = requestAnimationFrame(tick);
  }
  function showSpeed() {
    speed.value = String(model.get("speed"));
  }
  function onTimeIndex() {
    if (Math.floor(cursor) !== model.get("time_index")) cursor = model.get("time_index");
    showTime();
  }
  function retitle() {
    title.textContent = model.get("title");
  }

  play.addEventListener("click", () => setPlaying(!model.get("playing")));
  slider.addEventListener("input", () => {
    cursor = Number(slider.value);
    setTimeIndex(cursor, true);
  });
  speed.addEventListener("input", () => saveTrait(model, "speed", Number(speed.value)));

  // Orbit (drag), zoom (wheel), reset (double-click).
  let drag = null;
  canvas.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY };
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag) return;
    camera.azimuth -= (event.clientX - drag.x) * 0.01;
    camera.elevation = Math.min(
      Math.PI / 2,
      Math.max(-0.2, camera.elevation + (event.clientY - drag.y) * 0.01),
    );
    drag = { x: event.clientX, y: event.clientY };
    requestDraw(true);
  });
  canvas.addEventListener("pointerup", () => {
    drag = null;
  });
  canvas.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      camera.zoom = Math.min(20, Math.max(0.2, camera.zoom * Math.exp(-event.deltaY * 0.0015)));
      requestDraw(true);
    },
    { passive: false },
  );
  canvas.addEventListener("dblclick", () => {
    Object.assign(camera, VIEW);
    requestDraw(true);
  });

  // Theme changes: JupyterLab's theme attribute, or the browser's color scheme.
  const themeWatch = new MutationObserver(() => requestDraw(true));
  themeWatch.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light"] });
  const scheme = window.matchMedia("(prefers-color-scheme: dark)");
  const onScheme = () => requestDraw(true);
  scheme.addEventListener("change", onScheme);
  const sizeWatch = new ResizeObserver(resize);
  sizeWatch.observe(stage);

  const listeners = [
    ["change:time_index", onTimeIndex],
    ["change:playing", showPlaying],
    ["change:speed", showSpeed],
    ["change:visible", showVisible],
    ["change:title", retitle],
  ];
  for (const [event, callback] of listeners) model.on(event, callback);
  retitle();
  showSpeed();
  showVisible();
  showTime();
  showPlaying();
  resize();
  return () => {
    for (const [event, callback] of listeners) model.off(event, callback);
    cancelAnimationFrame(loop);
    cancelAnimationFrame(pending);
    themeWatch.disconnect();
    scheme.removeEventListener("change", onScheme);
    sizeWatch.disconnect();
  };
}

export default { render };
