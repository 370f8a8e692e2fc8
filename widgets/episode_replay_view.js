/* episode_replay_view.js: the EpisodeReplayView view (see widgets/episode_replay_view.py).
 *
 * One SVG per floor, side by side: room tiles tinted by category and named, wall segments,
 * stairs/elevator glyphs, receptacles (labelled squares), objects (dots in their colors), the
 * agent and its path up to the step shown. Built once; a step change moves the agent, the
 * objects and the path and rewrites the readout. Coordinates are in tiles (CELL px each).
 */

const CELL = 34;
const PAD = 6;
const PAINT = {
  red: "#d62728", blue: "#1f77b4", green: "#2ca02c", yellow: "#e6b800",
  white: "#f4f4f4", black: "#222222",
};

function render({ model, el }) {
  const f = model.get("frames");
  const W = f.width * CELL + 2 * PAD;
  const H = f.height * CELL + 2 * PAD;
  const per = f.rooms.length / f.floors;
  const at = (y, x) => [PAD + (x + 0.5) * CELL, PAD + (y + 0.5) * CELL];

  const title = h("div", "rt-title");
  const instruction = h("div", "rt-replay-instruction", `\u201c${f.instruction}\u201d`);
  const goal = h("div", "rt-replay-goal",
    `goal: ${f.goal}${f.agent ? ` \u00b7 agent: ${f.agent}` : ""} \u00b7 ` +
    (f.success ? "succeeded" : "failed"));
  const slider = makeSlider("rt-step-slider", "step", f.tiles.length - 1);
  const readout = h("span", "rt-readout rt-step-readout");
  const stepRow = controlRow("rt-step", "step", slider, readout);
  const floorsRow = h("div", "rt-replay-floors");

  const boards = [];
  for (let fl = 0; fl < f.floors; fl++) {
    const panel = h("div", "rt-replay-floor");
    panel.append(h("div", "rt-replay-floor-name", `floor ${fl}`));
    const board = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "rt-board" });
    board.setAttribute("aria-label", `floor ${fl}`);
    for (let y = 0; y < f.height; y++) {
      for (let x = 0; x < f.width; x++) {
        const room = f.tile_room[(fl * f.height + y) * f.width + x];
        const tile = svg("rect", {
          x: PAD + x * CELL, y: PAD + y * CELL, width: CELL, height: CELL, class: "rt-tile",
        }, board);
        tile.style.fill = categoryColor(room % per);
      }
    }
    for (const [name, rfl, row, col] of f.rooms) {
      if (rfl !== fl) continue;
      const label = svg("text", {
        x: PAD + (col * f.size + f.size / 2) * CELL, y: PAD + row * f.size * CELL + 11,
        class: "rt-room-name", "text-anchor": "middle",
      }, board);
      label.textContent = name;
    }
    for (const [wfl, x1, y1, x2, y2] of f.walls) {
      if (wfl !== fl) continue;
      svg("line", {
        x1: PAD + x1 * CELL, y1: PAD + y1 * CELL, x2: PAD + x2 * CELL, y2: PAD + y2 * CELL,
        class: "rt-wall",
      }, board);
    }
    svg("rect", { x: PAD, y: PAD, width: f.width * CELL, height: f.height * CELL, class: "rt-outline" }, board);
    for (const [lfl, y, x, kind] of f.links) {
      if (lfl !== fl) continue;
      const [cx, cy] = at(y, x);
      const glyph = svg("text", { x: cx, y: cy + 4, class: "rt-link", "text-anchor": "middle" }, board);
      glyph.textContent = kind === "elevator" ? "E" : "S";
      svg("title", {}, glyph).textContent = kind;
    }
    for (const [rfl, y, x, name] of f.receptacles) {
      if (rfl !== fl) continue;
      const [cx, cy] = at(y, x);
      svg("rect", { x: cx - 13, y: cy - 13, width: 26, height: 26, class: "rt-receptacle" }, board);
      const label = svg("text", { x: cx, y: cy + 12, class: "rt-receptacle-name", "text-anchor": "middle" }, board);
      label.textContent = name;
    }
    const path = svg("polyline", { class: "rt-path", points: "" }, board);
    const agent = svg("circle", { r: 7, class: "rt-agent" }, board);
    const objects = svg("g", { class: "rt-objects" }, board); // drawn over the agent
    const agentTip = svg("title", {}, agent);
    panel.append(board);
    floorsRow.append(panel);
    boards.push({ path, objects, agent, agentTip });
  }

  const root = h("div", "rt-widget rt-episode-replay-view");
  root.append(title, instruction, goal, stepRow, floorsRow);
  el.append(root);

  function redraw() {
    const s = model.get("step");
    const [afl, ay, ax] = f.tiles[s];
    const held = f.held[s];
    boards.forEach(({ path, objects, agent, agentTip }, fl) => {
      const points = [];
      for (let t = 0; t <= s; t++) {
        const [tfl, ty, tx] = f.tiles[t];
        if (tfl === fl) points.push(at(ty, tx).join(","));
      }
      path.setAttribute("points", points.join(" "));
      agent.style.display = afl === fl ? "" : "none";
      const [cx, cy] = at(ay, ax);
      agent.setAttribute("cx", cx);
      agent.setAttribute("cy", cy);
      agentTip.textContent = held >= 0 ? `agent, holding the ${f.objects[held][0]}` : "agent";
      objects.replaceChildren();
      const slots = {};
      f.object_tiles[s].forEach((where, o) => {
        if (!where || where[0] !== fl) return;
        const key = `${where[1]},${where[2]}`;
        const k = (slots[key] = (slots[key] ?? -1) + 1);
        const [ox, oy] = at(where[1], where[2]);
        const dot = svg("circle", { cx: ox - 8 + 8 * k, cy: oy - 4, r: 4, class: "rt-object" }, objects);
        dot.style.fill = PAINT[f.objects[o][1]] ?? "#888";
        svg("title", {}, dot).textContent = f.objects[o][0];
      });
    });
    const action = f.actions[s];
    const refused = f.refused[s] ? " (refused)" : "";
    readout.textContent =
      `step ${s} of ${f.tiles.length - 1} \u00b7 ${action}${refused} \u00b7 floor ${afl} \u00b7 ` +
      `holding ${held >= 0 ? f.objects[held][0] : "nothing"}`;
    slider.value = String(s);
    slider.setAttribute("aria-valuetext", `step ${s}`);
    Object.assign(root.dataset, { step: String(s), floor: String(afl), held: String(held) });
  }

  function retitle() {
    title.textContent = model.get("title");
  }

  slider.addEventListener("input", () => saveTrait(model, "step", Number(slider.value)));
  const listeners = [["change:step", redraw], ["change:title", retitle]];
  for (const [event, callback] of listeners) model.on(event, callback);
  retitle();
  redraw();
  return () => {
    for (const [event, callback] of listeners) model.off(event, callback);
  };
}

export default { render };
