// The stage: one tile per person on it (and one per shared screen), laid out by
// layout.js on every change and on every resize; the pager, the "+N" tile, the layout
// switcher (Auto / Grid / Speaker) and, in a room with a stage, the "N watching" count.
//
// Tiles are made once and moved: a tile whose video plays is never made again (that
// would drop frames and restart the decoder). Videos of tiles not on screen are paused.

import { h, render, initials, hue } from "/sdk/v1/ui/dom.js";
import { layout, isCompact, onStage } from "/meet/layout.js";
import { TileMenu } from "/meet/tile_menu.js";
import { message, fill } from "/meet/messages.js";

const MODES = ["auto", "grid", "speaker"];
const STORAGE_KEY = "salon.layout";
const VIEWERS_BAND = 40;  // px kept at the stage's top for "N watching"

function remembered() {
  try {
    const mode = localStorage.getItem(STORAGE_KEY);
    return MODES.includes(mode) ? mode : "auto";
  } catch (_) {
    return "auto";  // storage blocked: Auto, not remembered
  }
}

/** Show `track` in `videoEl` unless it already is (a new srcObject would restart it). */
export function setSource(videoEl, track, trackId) {
  const current = videoEl.srcObject ? videoEl.srcObject.getTracks()[0] : null;
  if (current === (track || null) && videoEl.dataset.trackId === (trackId || "")) return;
  videoEl.dataset.trackId = trackId || "";
  videoEl.srcObject = track ? new MediaStream([track]) : null;
  if (track) videoEl.play().catch(() => {});
}

export class StageView {
  /**
   * @param {{grid: HTMLElement, controls: HTMLElement, before: Node}} els  the stage's `#grid`;
   *   the control bar, and the element the layout switcher goes before
   * @param {object} client  the SDK client
   * @param {() => object} media  the MediaSession (a function: it is made after the view may be)
   * @param {object} options
   * @param {(peer: object, isSelf: boolean) => Array<Node|null>|Node|null} [options.badges]
   *   nodes appended to a tile's label (captions, raised hand, network quality…)
   * @param {(fn: Function) => Function} options.act  wraps an action (errors become toasts)
   * @param {(name: string) => void} options.openPanel  opens a side panel ("participants")
   * @param {(peer: object) => void} options.remove  Remove, through the confirmation dialog
   * @param {object} [options.config]  the preset's config (view_type, max_video_streams)
   */
  constructor(els, client, media, {badges = () => [], act, openPanel, remove, config = {}}) {
    this.grid = els.grid;
    this.client = client;
    this.media = media;
    this.badges = badges;
    this.act = act;
    this.openPanel = openPanel;
    this.config = config;
    this.mode = remembered();
    this.page = 0;
    this.localPin = null;   // a tile key pinned "for me"
    this.speaker = null;    // who speaks now (media.speaker)
    this.lastSpeaker = client.lastSpeakerPeerId || null;  // the room state's, then media.speaker
    this.tiles = new Map(); // key -> tile element
    this.entries = [];      // what layout.js gets, from the last paint
    this.result = null;
    this.menu = new TileMenu(client, {act, remove, stage: this, root: this.grid.closest(".screen") || document.body});
    this.grid.classList.add("stage-grid");
    this.grid.tabIndex = -1;  // focus can be put here (a tile menu whose peer left), not tabbed to
    this.pager = h("div", {class: "pager", dataset: {testid: "pager"}, hidden: true},
      h("button", {type: "button", class: "small", dataset: {testid: "page-prev"}, "aria-label": message("layout.prev"),
                   onclick: () => this.turn(-1)}, "‹"),
      h("span", {dataset: {testid: "page-label"}, "aria-live": "polite"}),
      h("button", {type: "button", class: "small", dataset: {testid: "page-next"}, "aria-label": message("layout.next"),
                   onclick: () => this.turn(1)}, "›"));
    this.overflow = h("button", {type: "button", class: "tile overflow", dataset: {testid: "tile-overflow"}, hidden: true,
                                 onclick: () => this.openPanel("participants")});
    this.viewers = h("button", {type: "button", class: "viewers-count small", dataset: {testid: "viewers-count"}, hidden: true,
                                onclick: () => this.openPanel("participants")});
    this.empty = h("p", {class: "stage-empty", dataset: {testid: "stage-empty"}, hidden: true}, message("layout.empty"));
    this.grid.append(this.pager, this.overflow, this.viewers, this.empty);
    this.switcher = this._switcher();
    if (els.controls) els.controls.insertBefore(this.switcher, els.before || null);
    client.on("media.speaker", ({peer_id: peerId}) => {
      this.speaker = peerId || null;
      if (peerId) this.lastSpeaker = peerId;
      this.arrange();
    });
    new ResizeObserver(() => this.arrange()).observe(this.grid);
  }

  /** The Auto / Grid / Speaker choice: a labelled native select (keyboard and screen readers for free). */
  _switcher() {
    const select = h("select", {dataset: {testid: "layout-switch"}, "aria-label": message("layout.label"),
                                title: message("layout.label"),
                                onchange: () => this.setMode(select.value)},
      MODES.map((mode) => h("option", {value: mode, selected: mode === this.mode}, message(`layout.${mode}`))));
    return h("label", {class: "layout-switch", hidden: this.config.view_type === "AUDIO_ROOM"},
      h("span", {class: "layout-switch-label", "aria-hidden": "true"}, message("layout.label")), select);
  }

  /** Auto, Grid or Speaker (remembered on this device). */
  setMode(mode) {
    if (!MODES.includes(mode)) return;
    this.mode = mode;
    try { localStorage.setItem(STORAGE_KEY, mode); } catch (_) { /* not remembered */ }
    this.switcher.querySelector("select").value = mode;
    this.arrange();
  }

  /** "Pin for me": this tile large on this page only (null: none). */
  pinLocal(key) {
    this.localPin = key || null;
    this.paint();
  }

  turn(by) {
    this.page += by;
    this.arrange();
  }

  /** A move to another room: nothing of the old room stays. */
  reset() {
    for (const tile of this.tiles.values()) tile.remove();
    this.tiles.clear();
    this.speaker = this.localPin = null;
    this.lastSpeaker = this.client.lastSpeakerPeerId || null;  // the new room's
    this.page = 0;
    this.menu.close();
  }

  usesStage() {
    const self = this.client.self;
    return Boolean(self && self.permissions && self.permissions.stage_enabled) ||
      ["WEBINAR", "LIVESTREAM"].includes(this.config.view_type);
  }

  /** Tiles for everyone on the stage and every shared screen; then arrange(). */
  paint() {
    const {client} = this;
    const media = this.media();
    if (!client || !client.self || !media) return;
    const self = client.self;
    const people = [...client.peers.values(), self];
    const {shown, watching: known} = onStage(people, this.usesStage());
    // A large room's audience is not pushed to the audience (docs/large-rooms.md): the
    // server's count says how many watch, not the peers this page happens to know.
    const audience = this.client.audience;
    const watching = audience && audience.large && audience.counts ? audience.counts.audience : known;
    const audioRoom = this.config.view_type === "AUDIO_ROOM";
    const entries = [];
    const want = new Set();
    const screens = media.tracks().filter((r) => r.kind === "screenshare")
      .map((rec) => ({key: `${rec.peerId}:screenshare`, peerId: rec.peerId, track: rec.track, trackId: rec.trackId}));
    if (media.published.screenshare && media.local.screenshare) {
      screens.push({key: `${self.peer_id}:screenshare`, peerId: self.peer_id, track: media.local.screenshare, mine: true});
    }
    for (const screen of screens) {
      const tile = this._tile(screen.key, screen.peerId, "screenshare");
      const peer = client.peers.get(screen.peerId);
      setSource(tile.querySelector("video"), screen.track, screen.trackId);
      tile.dataset.video = "on";
      render(tile.querySelector(".label"), screen.mine ? message("tile.you_presenting")
        : fill("tile.presenting", {name: peer ? peer.name : message("tile.someone")}));
      want.add(screen.key);
      const video = tile.querySelector("video");
      entries.push({key: screen.key, kind: "screen", pinnedLocally: this.localPin === screen.key,
                    aspect: video.videoWidth && video.videoHeight ? video.videoWidth / video.videoHeight : 0});
    }
    for (const peer of shown) {
      const isSelf = peer.peer_id === self.peer_id;
      const tile = this._tile(peer.peer_id, peer.peer_id, "video");
      this._person(tile, peer, isSelf, media, audioRoom);
      want.add(peer.peer_id);
      entries.push({key: peer.peer_id, kind: "person", self: isSelf, pinnedForAll: Boolean(peer.pinned),
                    pinnedLocally: this.localPin === peer.peer_id, video: tile.dataset.video === "on"});
    }
    for (const [key, tile] of this.tiles) {
      if (want.has(key)) continue;
      if (this.menu.open && tile.contains(this.menu.open.button)) {
        const focused = this.menu.open.menu.contains(document.activeElement);
        this.menu.close(false);
        if (focused) this.grid.focus();  // the keyboard stays on the stage, not on the page's top
      }
      tile.remove();
      this.tiles.delete(key);
    }
    if (this.localPin && !want.has(this.localPin)) this.localPin = null;
    this.entries = entries;
    this.viewers.hidden = !watching;
    this.viewers.textContent = fill("viewers.count", {count: watching});
    this.viewers.setAttribute("aria-label", fill("viewers.label", {count: watching}));
    this.arrange();
  }

  _person(tile, peer, isSelf, media, audioRoom) {
    tile.dataset.self = String(isSelf);
    tile.dataset.name = peer.name;
    const videoEl = tile.querySelector("video");
    let showing = false;
    if (audioRoom) {
      setSource(videoEl, null);
    } else if (isSelf) {
      const track = media.local.video;
      showing = Boolean(track && track.readyState === "live" && media.enabled.video && media.published.video);
      setSource(videoEl, showing ? track : null);
    } else {
      const rec = media.tracks().find((r) => r.peerId === peer.peer_id && r.kind === "video");
      setSource(videoEl, rec ? rec.track : null, rec && rec.trackId);
      if (rec && media.observeTile) media.observeTile(rec.trackId, videoEl);  // its layers follow its size
      showing = Boolean(rec && peer.video);
    }
    tile.dataset.video = showing ? "on" : "off";
    tile.dataset.pinned = String(Boolean(peer.pinned));
    tile.dataset.pinnedLocal = String(this.localPin === peer.peer_id);
    const pinned = peer.pinned ? message("tile.pinned") : this.localPin === peer.peer_id ? message("tile.pinned_local") : "";
    const extra = this.badges(peer, isSelf);
    render(tile.querySelector(".label"),
      pinned ? h("span", {class: "icon pin", title: pinned, role: "img", "aria-label": pinned, dataset: {testid: "tile-pinned"}}) : null,
      peer.audio ? null : h("span", {class: "icon mic-off", title: message("tile.muted"), role: "img",
                                     "aria-label": message("tile.muted"), dataset: {testid: "tile-muted"}}),
      h("span", {class: "name"}, isSelf ? fill("tile.you", {name: peer.name}) : peer.name),
      Array.isArray(extra) ? extra : [extra]);
    const av = tile.querySelector(".avatar");
    if (av.textContent !== initials(peer.name)) {
      av.textContent = initials(peer.name);
      av.style.setProperty("--hue", hue(peer.name));
    }
    this.menu.sync(tile, peer, isSelf);
  }

  _tile(key, peerId, kind) {
    let tile = this.tiles.get(key);
    if (tile) return tile;
    tile = h("div", {class: kind === "screenshare" ? "tile screen" : "tile",  // not words
                     dataset: {key, peerId, kind, testid: kind === "screenshare" ? "screen-tile" : "tile", video: "off"}},
      h("video", {autoplay: true, muted: true, playsInline: true, dataset: {testid: "tile-video"}}),
      h("div", {class: "avatar", style: {"--hue": hue("?")}, dataset: {testid: "avatar"}}, "?"),
      h("div", {class: "label", dataset: {testid: "tile-label"}}));
    tile.querySelector("video").muted = true;
    // A screen's shape is known once its first frame is: lay out again to fit it whole.
    if (kind === "screenshare") tile.querySelector("video").addEventListener("resize", () => this.paint());
    this.tiles.set(key, tile);
    this.grid.insertBefore(tile, this.pager);
    return tile;
  }

  /** Lay the tiles out for the stage's current size (layout.js) and place them. */
  arrange() {
    // The "N watching" count has a band of its own at the top: it never covers a tile.
    const top = this.viewers.hidden ? 0 : VIEWERS_BAND;
    const width = this.grid.clientWidth, height = this.grid.clientHeight - top;
    if (!width || height <= 0) return;
    const entries = this.entries.map((e) => e.kind === "person"
      ? {...e, speaking: e.key === this.speaker, lastSpoke: e.key === this.lastSpeaker} : e);
    const result = layout({width, height, tiles: entries, mode: this.mode, config: this.config, page: this.page,
                           compact: isCompact(window.innerWidth, window.innerHeight)});
    for (const rect of [...result.placed, result.overflow, result.pager]) if (rect) rect.y += top;
    this.result = result;
    this.page = result.page;
    this.grid.dataset.view = result.view;
    const rects = new Map(result.placed.map((p) => [p.key, p]));
    for (const [key, tile] of this.tiles) {
      const rect = rects.get(key);
      const video = tile.querySelector("video");
      tile.hidden = !rect;
      tile.dataset.speaking = String(tile.dataset.kind === "video" && tile.dataset.peerId === this.speaker);
      if (!rect) {
        if (!video.paused) video.pause();  // not on screen: not decoded for nothing
        delete tile.dataset.role;
        continue;
      }
      tile.dataset.role = rect.role;
      place(tile, rect);
      if (video.srcObject && video.paused) video.play().catch(() => {});
    }
    this._order(result.placed.map((p) => p.key));
    this.overflow.hidden = !result.overflow;
    if (result.overflow) {
      place(this.overflow, result.overflow);
      this.overflow.textContent = fill("tile.more", {count: result.overflow.count});
      this.overflow.setAttribute("aria-label", fill("tile.more.label", {count: result.overflow.count}));
    }
    this.pager.hidden = !result.pager;
    if (result.pager) {
      place(this.pager, result.pager);
      // A live region: written only when it changes, or every speaker change re-announces it.
      const label = this.pager.querySelector("[data-testid=page-label]");
      const words = fill("layout.page", {page: result.page + 1, pages: result.pages});
      if (label.textContent !== words) label.textContent = words;
      this.pager.querySelector("[data-testid=page-prev]").disabled = result.page === 0;
      this.pager.querySelector("[data-testid=page-next]").disabled = result.page >= result.pages - 1;
    }
    this.empty.hidden = this.entries.length > 0;
  }

  /** Tab goes through the tiles as they are seen (large tile, strip, grid, corner): the
   * DOM follows the layout, unless the focus is on the stage (moving it would lose it). */
  _order(keys) {
    if (this.grid.contains(document.activeElement)) return;
    const wanted = keys.map((key) => this.tiles.get(key)).filter(Boolean);
    const now = [...this.grid.children].filter((el) => !el.hidden && this.tiles.get(el.dataset.key) === el);
    if (wanted.length === now.length && wanted.every((tile, i) => tile === now[i])) return;
    for (const tile of wanted) this.grid.insertBefore(tile, this.pager);  // a move: videos keep playing
  }
}

function place(el, rect) {
  el.style.left = `${rect.x}px`;
  el.style.top = `${rect.y}px`;
  el.style.width = `${rect.w}px`;
  el.style.height = `${rect.h}px`;
}
