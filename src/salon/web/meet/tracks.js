// Remote tracks on the page: audio plays from hidden <audio> elements (#audio-sinks),
// video is drawn by the stage (stage_view.js), and the first remote video frame decoded
// is noted for `window.salon` (join-to-first-frame).

import { h } from "/sdk/v1/ui/dom.js";
import { $, debug, page } from "/meet/page_state.js";
import { paintStage } from "/meet/control_bar.js";

export function attachTrack(rec) {
  if (rec.kind === "audio") {
    const el = h("audio", {autoplay: true, dataset: {trackId: rec.trackId, peerId: rec.peerId}});
    el.srcObject = new MediaStream([rec.track]);
    $("audio-sinks").append(el);
    el.play().catch(() => {});  // autoplay may wait for a click; RTP still flows
  }
  paintStage();
}

export function detachTrack(rec) {
  if (rec.kind === "audio") {
    for (const el of $("audio-sinks").querySelectorAll("audio")) {
      if (el.dataset.trackId === rec.trackId) { el.srcObject = null; el.remove(); }
    }
  }
  paintStage();
}

/** Note when the first remote video frame is decoded (join-to-first-frame). */
export async function watchFirstFrame() {
  while (debug.firstFrameDecodedAt === null && page.media && !page.media.closed) {
    for (const rec of page.media.tracks()) {
      if (rec.kind !== "video" && rec.kind !== "screenshare") continue;
      const report = await rec.transceiver.receiver.getStats().catch(() => null);
      let decoded = 0;
      if (report) report.forEach((s) => { if (s.type === "inbound-rtp") decoded = s.framesDecoded || 0; });
      if (decoded > 0) {
        debug.firstFrameDecodedAt = performance.now();
        debug.firstFrame = {peerId: rec.peerId, trackId: rec.trackId};
        return;
      }
    }
    // Fine-grained only while there is a video to measure (an audio-only call has none).
    const video = page.media.tracks().some((r) => r.kind === "video" || r.kind === "screenshare");
    await new Promise((r) => setTimeout(r, video ? 25 : 250));
  }
}
