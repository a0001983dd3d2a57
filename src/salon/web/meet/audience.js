// The People panel of a large room (docs/large-rooms.md, docs/meeting-page.md).
//
// In a large room the server no longer pushes the audience to the audience: the join
// holds the stage, the hosts and counts, and the rest is paged on request (peers.list).
// So this panel shows the counts, and, for those who may list, a search box and the list
// one page at a time ("Show more"). The search box is kept across repaints (the panel is
// repainted on every presence event) and gets its focus back after each.

import { h } from "/sdk/v1/ui/dom.js";
import { fill, message } from "/meet/messages.js";

const PAGE = 50;
const SEARCH_DELAY_MS = 300;

export class AudienceList {
  /** `row(peer)`: the People panel's row for a peer; `repaint()`: paint the panel again. */
  constructor(client, {row, repaint}) {
    this.client = client;
    this.row = row;
    this.repaint = repaint;
    this.peers = [];
    this.cursor = null;
    this.loaded = false;
    this.loading = false;
    this.search = "";
    this.timer = null;
    this.hadFocus = false;
    this.input = h("input", {type: "search", class: "audience-search",
                             placeholder: message("people.large.search"),
                             "aria-label": message("people.large.search"),
                             dataset: {testid: "audience-search"},
                             oninput: () => this._find(this.input.value)});
  }

  /** The panel's sections: the counts, then (if this peer may list) search and list. */
  section(mayList) {
    const counts = this.client.audience.counts || {participants: 0, on_stage: 0, audience: 0};
    const out = [h("h2", {dataset: {testid: "audience-counts"}}, fill("people.large.counts", counts))];
    if (!mayList) return out;
    if (!this.loaded && !this.loading) this._load(false);
    this.hadFocus = document.activeElement === this.input;
    out.push(this.input);
    out.push(h("ul", {class: "people", dataset: {testid: "audience-list"}},
               this.peers.map((peer) => this.row(peer))));
    if (this.loaded && !this.peers.length) out.push(h("p", {class: "muted"}, message("people.large.nobody")));
    if (this.cursor) {
      out.push(h("button", {class: "small", dataset: {testid: "audience-more"},
                            onclick: () => this._load(true)}, message("people.large.more")));
    }
    return out;
  }

  /** After the panel is painted: the search box keeps its focus. */
  painted() {
    if (this.hadFocus) this.input.focus();
  }

  _find(text) {
    this.search = text.trim();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this._load(false), SEARCH_DELAY_MS);
  }

  async _load(more) {
    this.loading = true;
    const search = this.search;
    try {
      const page = await this.client.listPeers({cursor: more ? this.cursor : undefined,
                                                limit: PAGE, search});
      if (search !== this.search) return;  // typed on meanwhile: a newer load follows
      this.peers = more ? [...this.peers, ...page.peers] : page.peers;
      this.cursor = page.next_cursor;
      this.client.audience = {...this.client.audience, counts: page.counts};
    } catch {
      this.cursor = null;  // refused (no right to list) or gone: show what we have
    } finally {
      this.loading = false;
      this.loaded = true;
    }
    this.repaint();
  }
}
