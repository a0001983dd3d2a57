// The meeting page's livestream player: a preset whose `view_type` is LIVESTREAM watches
// the meeting's livestream over HLS instead of the WebRTC grid (docs/livestreaming.md),
// while chat, polls, Q&A and the rest of the page stay live over the realtime protocol.
//
// The livestream comes from the room state (`room.livestream`) and `livestream.updated`
// (docs/protocol.md "Livestreams"). The player uses hls.js (vendored, loaded only here)
// where Media Source Extensions exist, and the browser's own HLS (Safari, iOS) where they
// do not. Until the livestream is LIVE, and after it ends, the player says so.

import { h } from "/sdk/v1/ui/dom.js";
import { message } from "/meet/messages.js";

/** Whether this preset watches the livestream rather than joining the WebRTC room. */
export function watchesLivestream(config) {
  return Boolean(config && config.view_type === "LIVESTREAM");
}

let hlsModule = null;
async function loadHls() {
  hlsModule ||= import("/meet/vendor/hls.light.min.js");
  return (await hlsModule).default;
}

export class LivestreamPlayer {
  /**
   * @param {{stage: HTMLElement, grid: HTMLElement}} els the stage, and the grid it replaces
   * @param {object} client a SalonClient
   */
  constructor(els, client) {
    this.client = client;
    this.grid = els.grid;
    this.grid.hidden = true;
    this.video = h("video", {class: "livestream-video", "data-testid": "livestream-video",
                             controls: true, autoplay: true, playsinline: true});
    this.note = h("p", {class: "livestream-note", role: "status", "data-testid": "livestream-note"});
    this.box = h("section", {class: "livestream", "data-testid": "livestream-player",
                             "aria-label": message("livestream.region")}, this.video, this.note);
    els.stage.prepend(this.box);
    this.url = null;
    this.hls = null;
    this.ended = false;
    client.on("livestream.updated", ({livestream}) => this.show(livestream));
    this.show((client.room && client.room.livestream) || null);
  }

  /** Paint a LivestreamView (or null: none runs). */
  show(view) {
    const status = view ? view.status : null;
    this.box.dataset.status = status || "NONE";
    if (status === "LIVE") {
      this.say("");
      if (view.playback_url !== this.url) this.play(view.playback_url);
      return;
    }
    if (status === "INVOKED") { this.say(message("livestream.starting")); return; }
    if (this.url) { this.ended = true; this.say(message("livestream.ended")); return; }
    this.say(message("livestream.waiting"));
  }

  say(text) {
    this.note.textContent = text;
    this.note.hidden = !text;
  }

  async play(url) {
    this.url = url;
    this.ended = false;
    this.stopHls();
    const Hls = await loadHls().catch(() => null);
    if (Hls && Hls.isSupported()) {
      // No worker: the page's Content-Security-Policy allows scripts from 'self' only.
      this.hls = new Hls({enableWorker: false, liveSyncDurationCount: 2});
      this.hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.NETWORK_ERROR && !this.ended) {
          setTimeout(() => { if (this.hls && !this.ended) this.hls.startLoad(); }, 1000);
        } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
          this.hls.recoverMediaError();
        } else {
          this.failed();
        }
      });
      this.hls.loadSource(url);
      this.hls.attachMedia(this.video);
    } else if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
      this.video.src = url;
    } else {
      this.failed();
      return;
    }
    this.start();
  }

  /** Autoplay with sound if the browser lets us (joining was a click), else muted. */
  start() {
    this.video.play().catch(() => {
      this.video.muted = true;
      this.video.play().catch(() => {});
    });
  }

  failed() {
    if (!this.ended) this.say(message("livestream.failed"));
  }

  stopHls() {
    if (this.hls) this.hls.destroy();
    this.hls = null;
  }

  close() {
    this.stopHls();
    this.box.remove();
    this.grid.hidden = false;
  }
}
