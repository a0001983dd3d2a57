// salon browser SDK, client: plugins (client.plugins: activation, messages, state) and
// key-value stores (client.stores).

import { only } from "./only.js";

// Each class is a helper object the client makes in its constructor (`client.{name}`),
// holding the client as `this.c`.

export class Plugins {
  constructor(client) { this.c = client; }
  list() { return this.c.request("plugin.list"); }
  async activate(pluginId) { return (await this.c.request("plugin.activate", {plugin_id: pluginId})).plugin; }
  deactivate(pluginId) { return this.c.request("plugin.deactivate", {plugin_id: pluginId}); }
  message(pluginId, payload = null, {to} = {}) {
    return this.c.request("plugin.message", only({plugin_id: pluginId, payload, to}));
  }
  setState(pluginId, key, value) {
    return this.c.request("plugin.state.set", {plugin_id: pluginId, key, value});
  }
  async getState(pluginId, key) {
    if (key === undefined) return (await this.c.request("plugin.state.get", {plugin_id: pluginId})).state;
    return (await this.c.request("plugin.state.get", {plugin_id: pluginId, key})).value;
  }
}

export class Stores {
  constructor(client) { this.c = client; }
  set(store, key, value) { return this.c.request("store.set", {store, key, value}); }
  update(store, key, value) { return this.c.request("store.update", {store, key, value}); }
  delete(store, key) { return this.c.request("store.delete", {store, key}); }
  bulkSet(store, items) { return this.c.request("store.bulk_set", {store, items}); }
  bulkDelete(store, keys) { return this.c.request("store.bulk_delete", {store, keys}); }
  async get(store, key) { return (await this.c.request("store.get", {store, key})).value; }
  async getAll(store) { return (await this.c.request("store.get_all", {store})).items; }
  subscribe(store, keys) { return this.c.request("store.subscribe", only({store, keys})); }
  unsubscribe(store, keys) { return this.c.request("store.unsubscribe", only({store, keys})); }
}
