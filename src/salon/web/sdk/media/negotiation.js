// salon browser SDK, media: the negotiation helpers both peer connections use: waiting
// for ICE gathering (`gathered`), one negotiation at a time (`Serial`) and trickling the
// candidates that come after the SDP (`Trickle`).

const GATHER_WAIT_MS = 3000;

export function gathered(pc, timeout = GATHER_WAIT_MS) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    }, timeout);
    pc.addEventListener("icegatheringstatechange", done);
  });
}

/** A promise chain: one negotiation at a time per connection. A killed chain (its
 * connection closed by a move) starts no more steps; a step under way checks `dead`
 * after each await, since what it would touch now belongs to the next connection. */
export class Serial {
  constructor() { this.tail = Promise.resolve(); this.dead = false; }
  run(fn) {
    const step = () => (this.dead ? undefined : fn());
    const next = this.tail.then(step, step);
    this.tail = next.catch(() => {});
    return next;
  }
  kill() { this.dead = true; }
}

/** Trickle for one connection: candidates not already in the SDP we sent, once signalled. */
export class Trickle {
  constructor(client, name) {
    this.client = client;
    this.name = name;
    this.sentSdp = "";
    this.ready = false;
    this.queue = [];
  }
  offered(sdp) { this.sentSdp = sdp; this.ready = false; this.ended = false; }
  candidate(candidate) {
    if (candidate && !candidate.candidate) candidate = null;  // "" also ends the candidates
    if (candidate === null && this.ended) return;
    if (candidate === null) this.ended = true;
    if (candidate && candidate.candidate && this.sentSdp.includes(candidate.candidate)) return;
    if (this.ready) this._send(candidate);
    else this.queue.push(candidate);
  }
  signalled() {
    this.ready = true;
    const queued = this.queue.splice(0);
    for (const candidate of queued) this._send(candidate);
  }
  _send(candidate) {
    const data = candidate ? {candidate: candidate.candidate, sdpMid: candidate.sdpMid,
                              sdpMLineIndex: candidate.sdpMLineIndex,
                              usernameFragment: candidate.usernameFragment} : null;
    this.client.request("media.ice", {pc: this.name, candidate: data}).catch(() => {});
  }
}
