/* anywidget_host.js: render anywidget views in a static HTML page, with no kernel.
 *
 * Reads the page's widget state (script elements of type
 * application/vnd.jupyter.widget-state+json: the format nbclient stores in a notebook's
 * metadata.widgets, buffers base64-encoded at their paths) and renders every view named by a
 * script element of type application/vnd.jupyter.widget-view+json right after it. An
 * anywidget's ES module and CSS travel in its state (the _esm and _css traits): the module
 * is imported through a Blob URL, the CSS injected once per widget class, so nothing is
 * fetched from the network.
 *
 * The model implements the part of anywidget's front-end API a view uses: get, set, on,
 * off, save_changes, send. Changes stay in the page (set() notifies the listeners;
 * save_changes() and send() have no kernel to reach). Models of other libraries (plain
 * ipywidgets) are shown as a text placeholder.
 */

const STATE_MIME = "application/vnd.jupyter.widget-state+json";
const VIEW_MIME = "application/vnd.jupyter.widget-view+json";

function decodeBase64(text) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new DataView(bytes.buffer);
}

/** A model's state with its binary buffers put back at their paths, as DataViews. */
function stateWithBuffers(entry) {
  const state = structuredClone(entry.state ?? {});
  for (const { path, data, encoding } of entry.buffers ?? []) {
    if (encoding !== "base64") throw new Error(`unsupported buffer encoding ${encoding}`);
    const parent = path.slice(0, -1).reduce((node, key) => node[key], state);
    parent[path[path.length - 1]] = decodeBase64(data);
  }
  return state;
}

/** The subset of anywidget's model API that views use, over a saved state. */
class HostModel {
  #state;
  #listeners = new Map(); // event name -> [{callback, context}]

  constructor(state, manager) {
    this.#state = state;
    this.widget_manager = manager;
  }

  get(key) {
    return this.#state[key];
  }

  set(key, value) {
    if (Object.is(this.#state[key], value)) return;
    this.#state[key] = value;
    this.#emit(`change:${key}`, this, value);
    this.#emit("change", this);
  }

  on(name, callback, context) {
    const entries = this.#listeners.get(name) ?? [];
    entries.push({ callback, context });
    this.#listeners.set(name, entries);
  }

  off(name, callback, context) {
    for (const [event, entries] of this.#listeners) {
      if (name && event !== name) continue;
      const kept = entries.filter(
        (e) => (callback && e.callback !== callback) || (context && e.context !== context),
      );
      this.#listeners.set(event, kept);
    }
  }

  save_changes() {} // a static page has no kernel to sync with

  send(content) {
    console.debug("[anywidget host] no kernel in a static page; message dropped:", content);
  }

  #emit(name, ...args) {
    for (const { callback, context } of this.#listeners.get(name) ?? []) {
      callback.apply(context, args);
    }
  }
}

/** Import an ES module from its source text; normalize the three anywidget export styles. */
async function loadWidget(esm) {
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  try {
    const mod = await import(url);
    if (mod.render) return { render: mod.render };
    if (!mod.default) throw new Error("module exports neither render nor a default");
    return typeof mod.default === "function" ? await mod.default() : mod.default;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function injectCss(id, css) {
  if (!css || document.getElementById(id)) return;
  const style = document.createElement("style");
  style.id = id;
  style.textContent = css;
  document.head.append(style);
}

function placeholder(text) {
  const note = document.createElement("pre");
  note.className = "anywidget-host-placeholder";
  note.style.cssText = "font-family: monospace; white-space: pre-wrap; opacity: 0.75";
  note.textContent = text;
  return note;
}

/**
 * Plain-text stand-in for a core ipywidget: its description and value, or its
 * children's joined by spaces, so a tqdm bar reads "Loading: 100% 3/3". Progress bars
 * (FloatProgress/IntProgress) contribute nothing: the percentage beside them says it.
 */
function widgetText(entries, id, depth = 0) {
  const state = entries[id]?.state ?? {};
  if (depth > 8) return "";
  if (Array.isArray(state.children)) {
    return state.children
      .map((child) => widgetText(entries, String(child).replace("IPY_MODEL_", ""), depth + 1))
      .filter(Boolean)
      .join(" ");
  }
  if (/Progress/.test(entries[id]?.model_name ?? "")) return "";
  const shown = [state.description, state.value].filter(
    (part) => typeof part === "string" || typeof part === "number",
  );
  // HTML widgets carry markup (tqdm uses &nbsp;); DOMParser reads it without running it.
  const text = new DOMParser().parseFromString(shown.join(" "), "text/html").body.textContent;
  return text.trim();
}

class Host {
  #entries = {};
  #models = new Map(); // model id -> HostModel
  #ready = new Map(); // model id -> Promise<widget definition>, initialized once per model
  #modules = new Map(); // ESM source -> Promise<widget definition>
  #experimental = {
    invoke: () => Promise.reject(new Error("no kernel in a static page")),
  };

  constructor(scripts) {
    for (const script of scripts) Object.assign(this.#entries, JSON.parse(script.textContent).state);
  }

  /** widget_manager.get_model: any saved model, anywidget or not. */
  async get_model(id) {
    return this.#model(id);
  }

  #model(id) {
    if (!this.#entries[id]) throw new Error(`model ${id} is not in the saved widget state`);
    if (!this.#models.has(id)) {
      this.#models.set(id, new HostModel(stateWithBuffers(this.#entries[id]), this));
    }
    return this.#models.get(id);
  }

  /** The widget definition for an anywidget model: module imported, CSS added, initialized. */
  #widget(id) {
    if (!this.#ready.has(id)) {
      const model = this.#model(id);
      const esm = model.get("_esm");
      if (!this.#modules.has(esm)) this.#modules.set(esm, loadWidget(esm));
      const ready = this.#modules.get(esm).then(async (widget) => {
        injectCss(model.get("_anywidget_id"), model.get("_css"));
        await widget.initialize?.({ model, experimental: this.#experimental });
        return widget;
      });
      this.#ready.set(id, ready);
    }
    return this.#ready.get(id);
  }

  /** Render the view named by one widget-view script into a div placed after it. */
  async renderView(script) {
    script.dataset.anywidgetHost = "rendered";
    const { model_id: id } = JSON.parse(script.textContent);
    const entry = this.#entries[id];
    if (!entry) {
      script.after(placeholder(`[widget ${id}: its state was not saved with the page]`));
      return;
    }
    if (entry.model_module !== "anywidget") {
      const name = `${entry.model_module}.${entry.model_name}`;
      const text = widgetText(this.#entries, id);
      script.after(placeholder(text || `[${name}: not an anywidget, not rendered in static HTML]`));
      return;
    }
    const el = document.createElement("div");
    el.className = "anywidget-host-view";
    el.dataset.modelId = id;
    script.after(el);
    try {
      const widget = await this.#widget(id);
      const signal = new AbortController().signal;
      const model = this.#model(id);
      await widget.render?.({ model, el, signal, experimental: this.#experimental });
    } catch (error) {
      console.error(`[anywidget host] widget ${id} failed to render`, error);
      el.replaceChildren(placeholder(`[widget ${id} failed to render: ${error}]`));
    }
  }
}

const views = document.querySelectorAll(`script[type="${VIEW_MIME}"]:not([data-anywidget-host])`);
const host = new Host(document.querySelectorAll(`script[type="${STATE_MIME}"]`));
await Promise.all(Array.from(views, (script) => host.renderView(script)));
document.documentElement.dataset.anywidgetHost = "ready";
