// Network quality per tile: every 2 s the page reads the SDK's `media.stats()` and grades
// each remote peer (what we receive from them) and ourselves (our uplink) good, fair,
// poor or unknown; a tile shows the grade as bars (`networkBadge`).
//
// Grades come from what changed since the previous reading (an interval), not from
// totals since the call began, so a bad minute long ago does not colour the tile now.
// The worst measure decides. Thresholds (THRESHOLDS below; docs/meeting-page.md):
//
//   remote peer: packet loss (lost / (lost + received), all their tracks)  fair ≥ 2 %, poor ≥ 8 %
//                jitter (the worst of their tracks)                        fair ≥ 30 ms, poor ≥ 100 ms
//                video frames dropped (dropped / received)                 fair ≥ 5 %, poor ≥ 15 %
//   ourselves:   round-trip time of the publish connection                 fair ≥ 250 ms, poor ≥ 500 ms
//                loss the server reports back (RTCP fractionLost)          fair ≥ 2 %, poor ≥ 8 %
//                available outgoing bitrate, while sending video           fair < 250 kbit/s, poor < 100 kbit/s
//
// Unknown (no badge): nothing received from that peer in the interval (camera and
// microphone off), or for ourselves nothing published yet.

import { h } from "/sdk/v1/ui/dom.js";
import { fill, message } from "/meet/messages.js";

export const THRESHOLDS = {
  loss: {fair: 0.02, poor: 0.08},
  jitterMs: {fair: 30, poor: 100},
  dropped: {fair: 0.05, poor: 0.15},
  rttMs: {fair: 250, poor: 500},
  uplinkKbps: {fair: 250, poor: 100},  // lower is worse
};

const GRADES = ["good", "fair", "poor"];

/** The grade of one set of measures (any may be null: not measured). */
export function gradeSample({loss = null, jitterMs = null, dropped = null, rttMs = null, uplinkKbps = null}) {
  let worst = 0;
  const higherIsWorse = (value, {fair, poor}) => {
    if (value === null || value === undefined || Number.isNaN(value)) return;
    worst = Math.max(worst, value >= poor ? 2 : value >= fair ? 1 : 0);
  };
  higherIsWorse(loss, THRESHOLDS.loss);
  higherIsWorse(jitterMs, THRESHOLDS.jitterMs);
  higherIsWorse(dropped, THRESHOLDS.dropped);
  higherIsWorse(rttMs, THRESHOLDS.rttMs);
  if (uplinkKbps !== null && uplinkKbps !== undefined) {
    const {fair, poor} = THRESHOLDS.uplinkKbps;
    worst = Math.max(worst, uplinkKbps < poor ? 2 : uplinkKbps < fair ? 1 : 0);
  }
  return GRADES[worst];
}

/**
 * Grades from two readings of `media.stats()` (`before` may be null: the first reading
 * counts from the start): Map peerId → "good" | "fair" | "poor" | "unknown". `selfId`
 * gets the uplink's grade.
 */
export function gradePeers(before, now, selfId) {
  const earlier = new Map(((before && before.inbound) || []).map((row) => [row.trackId, row]));
  const peers = new Map();
  for (const row of now.inbound || []) {
    const prev = earlier.get(row.trackId) || {};
    const delta = (key) => Math.max(0, (row[key] || 0) - (prev[key] || 0));
    const p = peers.get(row.peerId) || {received: 0, lost: 0, jitter: null, framesReceived: 0, framesDropped: 0};
    const received = delta("packetsReceived");
    p.received += received;
    p.lost += delta("packetsLost");
    if (received > 0 && typeof row.jitter === "number") p.jitter = Math.max(p.jitter || 0, row.jitter);
    if (row.kind !== "audio") {
      p.framesReceived += delta("framesReceived");
      p.framesDropped += delta("framesDropped");
    }
    peers.set(row.peerId, p);
  }
  const grades = new Map();
  for (const [peerId, p] of peers) {
    if (!p.received) { grades.set(peerId, "unknown"); continue; }
    grades.set(peerId, gradeSample({
      loss: p.lost / (p.lost + p.received),
      jitterMs: p.jitter === null ? null : p.jitter * 1000,
      dropped: p.framesReceived ? p.framesDropped / p.framesReceived : null,
    }));
  }
  if (selfId) grades.set(selfId, gradeUplink(now));
  return grades;
}

/** Our own grade: the publish connection's path (`stats().uplink`). */
function gradeUplink({uplink, outbound = []}) {
  if (!uplink || !outbound.length) return "unknown";
  const sendingVideo = outbound.some((row) => row.kind === "video" && row.framesEncoded > 0);
  return gradeSample({
    rttMs: typeof uplink.roundTripTime === "number" ? uplink.roundTripTime * 1000 : null,
    loss: uplink.fractionLost,
    uplinkKbps: sendingVideo && typeof uplink.availableOutgoingBitrate === "number" ? uplink.availableOutgoingBitrate / 1000 : null,
  });
}

/**
 * Polls a MediaSession's stats every `every` ms while it is open and keeps the grades;
 * `onChange(grades)` when any grade changes (the page repaints its tiles). Stops by
 * itself when the session closes (the page left the meeting), or with `stop()`.
 * `source` is what is read: `media.stats()`, replaceable by a test.
 */
export class NetworkQuality {
  constructor(media, {selfId, onChange = () => {}, every = 2000}) {
    this.media = media;
    this.selfId = selfId;
    this.onChange = onChange;
    this.every = every;
    this.grades = new Map();
    this.previous = null;
    this.stopped = false;
    this.source = () => media.stats();
    this.timer = setTimeout(() => this.poll(), every);
  }

  async poll() {
    if (this.stopped) return;
    if (this.media.closed) { this.stop(); return; }
    try {
      const now = await this.source();
      const grades = gradePeers(this.previous, now, this.selfId());
      this.previous = now;
      const changed = grades.size !== this.grades.size || [...grades].some(([peer, grade]) => this.grades.get(peer) !== grade);
      this.grades = grades;
      if (changed) this.onChange(grades);
    } catch (_) {
      // A connection being replaced has no stats for a moment: try again next time.
    }
    if (!this.stopped) this.timer = setTimeout(() => this.poll(), this.every);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

let monitor = null;

/** Start grading this session (one at a time: a new one replaces the old). */
export function watchNetwork(media, options) {
  if (monitor) monitor.stop();
  monitor = new NetworkQuality(media, options);
  return monitor;
}

/** The running monitor (for tests and tools), or null. */
export const networkMonitor = () => monitor;

/** A peer's bars for its tile label (testid `tile-network`), or null while unknown. */
export function networkBadge(peerId) {
  const grade = monitor && !monitor.stopped ? monitor.grades.get(peerId) : null;
  if (!grade || grade === "unknown") return null;
  const text = fill("network.label", {grade: message(`network.${grade}`)});
  return h("span", {class: "net-bars", role: "img", "aria-label": text, title: text,
                    dataset: {testid: "tile-network", quality: grade}},
    h("span", {class: "bar"}), h("span", {class: "bar"}), h("span", {class: "bar"}));
}
