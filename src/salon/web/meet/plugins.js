// The "Plugins" panel of the meeting page: the app's plugin registry, and the plugins
// active in the session shown to everyone as sandboxed frames.
//
// Opening needs `plugins.can_start`; closing needs `plugins.can_close`, or being the one
// who opened it. The server checks every action again; this panel only leaves out what it
// would refuse. There is no bridge between a plugin's frame and the SDK (plugin.message,
// plugin state): the frame only shows the plugin's page.
// Protocol: docs/protocol.md, "Plugins".

import { h, render } from "/sdk/v1/ui/dom.js";
import { message } from "/meet/messages.js";

const SANDBOX = "allow-scripts allow-same-origin allow-forms";  // not words

const rights = (client) => {
  const p = (client.self && client.self.permissions && client.self.permissions.plugins) || {};
  return {open: Boolean(p.can_start), close: Boolean(p.can_close)};
};

export class PluginsPanel {
  /**
   * @param {HTMLElement} el where the panel renders
   * @param {object} client a SalonClient
   * @param {{act: Function, onChange?: Function}} ui
   */
  constructor(el, client, {act, onChange = () => {}}) {
    this.el = el;
    this.client = client;
    this.act = act;
    this.onChange = onChange;
    this.plugins = new Map();  // id -> plugin, as plugin.list and the events give it
    this.error = null;
    // The list is repainted; the frames are only added and removed, so a repaint does
    // not reload a plugin's page.
    this.listEl = h("div", {class: "plugin-list", dataset: {testid: "plugin-list"}});
    this.framesEl = h("div", {class: "plugin-frames", dataset: {testid: "plugin-frames"}});
    this.frames = new Map();   // plugin id -> <iframe>
    el.append(this.listEl, this.framesEl);
    client.on("plugin.activated", ({plugin}) => this.put(plugin));
    client.on("plugin.deactivated", ({plugin_id: id}) => this.closed(id));
    client.on("self.updated", () => this.paint());
    client.on("resumed", () => this.load());  // events may have been missed while away
    client.on("meeting.changed", () => { this.plugins.clear(); this.load(); });
  }

  /** Fetch the registry and what is active (on entering, after a move or a resume). */
  async load() {
    try {
      const {plugins} = await this.client.plugins.list();
      this.plugins.clear();
      for (const plugin of plugins) this.plugins.set(plugin.id, plugin);
      this.error = null;
    } catch (error) {
      this.error = error.reason || error.message || String(error);
    }
    this.paint();
  }

  put(plugin) {
    this.plugins.set(plugin.id, {...this.plugins.get(plugin.id), ...plugin});
    this.paint();
  }

  closed(id) {
    const plugin = this.plugins.get(id);
    if (plugin) this.plugins.set(id, {...plugin, active: false, activated_by: null, activated_at: null});
    this.paint();
  }

  async open(plugin) {
    this.put(await this.client.plugins.activate(plugin.id));
  }

  async close(plugin) {
    await this.client.plugins.deactivate(plugin.id);
    this.closed(plugin.id);
  }

  get active() {
    return [...this.plugins.values()].filter((plugin) => plugin.active);
  }

  mayClose(plugin, r) {
    return r.close || plugin.activated_by === (this.client.self || {}).peer_id;
  }

  paint() {
    const r = rights(this.client);
    const sections = [];
    if (this.error) sections.push(h("p", {class: "muted", dataset: {testid: "plugins-error"}}, this.error));
    const plugins = [...this.plugins.values()].sort((a, b) => a.name.localeCompare(b.name));
    if (!plugins.length) sections.push(h("p", {class: "muted", dataset: {testid: "plugins-empty"}}, message("plugins.none")));
    sections.push(h("ul", {class: "plugins", dataset: {testid: "plugins"}},
      plugins.map((plugin) => this.card(plugin, r))));
    render(this.listEl, sections);
    this.paintFrames();
    this.onChange(this);
  }

  card(plugin, r) {
    const button = (testid, text, fn) => h("button", {class: "small", dataset: {testid}, onclick: this.act(fn)}, text);
    return h("li", {class: `plugin${plugin.active ? " active" : ""}`,
                    dataset: {testid: "plugin", pluginId: plugin.id, active: String(Boolean(plugin.active))}},
      h("span", {class: "name", dataset: {testid: "plugin-name"}}, plugin.name),
      plugin.active && h("span", {class: "badge", dataset: {testid: "plugin-active"}}, message("plugins.active")),
      h("span", {class: "spacer"}),
      !plugin.active && r.open && button("plugin-open", message("plugins.open"), () => this.open(plugin)),
      plugin.active && this.mayClose(plugin, r) && button("plugin-close", message("plugins.close"), () => this.close(plugin)),
      plugin.description && h("p", {class: "muted description"}, plugin.description));
  }

  /** One frame per active plugin, kept while it stays active. */
  paintFrames() {
    const active = new Map(this.active.map((plugin) => [plugin.id, plugin]));
    for (const [id, frame] of this.frames) {
      if (active.has(id) && frame.dataset.src === active.get(id).url) continue;
      frame.remove();
      this.frames.delete(id);
    }
    for (const plugin of active.values()) {
      if (!this.frames.has(plugin.id)) this.frames.set(plugin.id, this.framesEl.appendChild(frame(plugin)));
    }
  }
}

function frame(plugin) {
  // The sandbox comes before the src: a sandbox set later applies only to the next load.
  return h("iframe", {sandbox: SANDBOX, src: plugin.url, title: plugin.name, class: "plugin-frame",
                      dataset: {testid: "plugin-frame", pluginId: plugin.id, src: plugin.url}});
}
