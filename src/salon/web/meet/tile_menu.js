// The "More options" menu on a person's tile: Pin for me, Pin for everyone, Mute, Turn
// off camera, Remove. Only what the viewer's permissions allow is offered; with nothing
// to offer the tile has no menu button. A WAI-ARIA menu: Enter or Space on the button
// opens it on its first item, arrow keys (and Home / End) move, Escape closes it and
// puts the focus back on the button, Tab or a click elsewhere closes it.

import { h } from "/sdk/v1/ui/dom.js";
import { message, fill } from "/meet/messages.js";

/**
 * The menu's items for `peer` as this viewer sees them: [{id, text, run}], in order.
 * Pure but for the client's calls, so the permission rules read in one place.
 */
export function menuItems(client, peer, isSelf, {stage, remove}) {
  const p = (client.self && client.self.permissions) || {};
  const ids = [peer.peer_id];
  const items = [];
  if (!isSelf) {
    const mine = stage.localPin === peer.peer_id;
    items.push({id: "tile-pin-local", text: message(mine ? "tile.unpin_local" : "tile.pin_local"),
                run: () => stage.pinLocal(mine ? null : peer.peer_id)});
  }
  if (p.pin_participant) {
    items.push({id: "tile-pin-all", text: message(peer.pinned ? "tile.unpin_all" : "tile.pin_all"),
                run: () => client.pin(peer.pinned ? null : peer.peer_id)});
  }
  if (!isSelf) {
    if (p.disable_participant_audio && peer.audio) {
      items.push({id: "tile-mute", text: message("tile.mute"), run: () => client.host.disableMedia(ids, ["audio"])});
    }
    if (p.disable_participant_video && peer.video) {
      items.push({id: "tile-video-off", text: message("tile.video_off"), run: () => client.host.disableMedia(ids, ["video"])});
    }
    if (p.kick_participant) items.push({id: "tile-remove", text: message("tile.remove"), run: () => remove(peer), danger: true});
  }
  return items;
}

export class TileMenu {
  /**
   * @param {object} client  the SDK client
   * @param {{act: Function, remove: (peer: object) => void, stage: object, root: HTMLElement}} options
   *   `stage`: the StageView (its `localPin` and `pinLocal`); `root`: where the open menu goes
   */
  constructor(client, {act, remove, stage, root}) {
    this.client = client;
    this.act = act;
    this.remove = remove;
    this.stage = stage;
    this.root = root;
    this.open = null;  // {menu, button}
    this.peers = new WeakMap();  // button -> [peer, isSelf] as last painted
    document.addEventListener("pointerdown", (e) => {
      if (this.open && !this.open.menu.contains(e.target) && e.target !== this.open.button) this.close();
    });
    window.addEventListener("resize", () => this.close());
  }

  /** Give `tile` its menu button when the viewer may do something to `peer`; keep it when it has one. */
  sync(tile, peer, isSelf) {
    let button = tile.querySelector(".tile-menu-button");
    const items = menuItems(this.client, peer, isSelf, this);
    if (!items.length) {
      if (button) button.remove();
      return;
    }
    if (!button) {
      button = h("button", {type: "button", class: "tile-menu-button", "aria-haspopup": "menu", "aria-expanded": "false",
                            dataset: {testid: "tile-menu-button"}, onclick: () => this.toggle(button)}, "⋮");
      tile.append(button);
    }
    button.setAttribute("aria-label", fill("tile.menu.label", {name: peer.name}));
    button.title = message("tile.menu");
    this.peers.set(button, [peer, isSelf]);
  }

  toggle(button) {
    const wasOpen = this.open && this.open.button === button;
    this.close();
    if (!wasOpen) this.show(button);
  }

  show(button) {
    const [peer, isSelf] = this.peers.get(button) || [];
    if (!peer) return;
    const items = menuItems(this.client, peer, isSelf, this);
    const menu = h("div", {class: "tile-menu", role: "menu", "aria-label": fill("tile.menu.label", {name: peer.name}),
                           dataset: {testid: "tile-menu"}},
      items.map((item) => h("button", {type: "button", role: "menuitem", tabindex: "-1", class: item.danger ? "danger" : "",
                                       dataset: {testid: item.id},
                                       onclick: (e) => { this.close(); this.act(item.run)(e); }}, item.text)));
    menu.addEventListener("keydown", (e) => this.key(e));
    this.root.append(menu);
    this.open = {menu, button};
    button.setAttribute("aria-expanded", "true");
    // Under the button, kept inside the window.
    const b = button.getBoundingClientRect(), m = menu.getBoundingClientRect();
    const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
    menu.style.left = `${Math.max(4, Math.min(b.right - m.width, vw - m.width - 4))}px`;
    menu.style.top = `${b.bottom + m.height + 4 <= vh ? b.bottom + 4 : Math.max(4, b.top - m.height - 4)}px`;
    menu.querySelector("[role=menuitem]").focus();
  }

  key(e) {
    const items = [...this.open.menu.querySelectorAll("[role=menuitem]")];
    const at = items.indexOf(document.activeElement);
    const go = (i) => { e.preventDefault(); items[(i + items.length) % items.length].focus(); };
    switch (e.key) {
      case "ArrowDown": go(at + 1); break;
      case "ArrowUp": go(at - 1); break;
      case "Home": go(0); break;
      case "End": go(items.length - 1); break;
      case "Escape": e.preventDefault(); e.stopPropagation(); this.close(); break;
      case "Tab": this.close(true); break;  // from its button, Tab goes on to what follows it
      default: break;
    }
  }

  /** Close the open menu; `refocus`: the focus goes back to its button. */
  close(refocus = true) {
    if (!this.open) return;
    const {menu, button} = this.open;
    this.open = null;
    menu.remove();
    button.setAttribute("aria-expanded", "false");
    if (refocus && button.isConnected) button.focus();
  }
}
