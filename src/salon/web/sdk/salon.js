// salon browser SDK: one peer on the realtime protocol (docs/protocol.md, version 1).
//
//   import { SalonClient } from "/sdk/v1/salon.js";
//   const client = await SalonClient.join(SalonClient.wsUrl(location.origin), token, {name});
//   client.on("peer.joined", ({peer}) => …);
//   await client.chat.send("hello");
//
// Requests carry ids and are matched to their replies; events are dispatched on the
// client (an EventTarget: `client.on(name, fn)`, or "*" for every event). The client keeps
// a view of the room (`client.self`, `client.peers`, `client.waiting`, `client.recordings`,
// `client.transcripts`, …) up to date from the events, so a UI can render from it. Media
// lives in media.js (`client.media`); following a cluster's redirects and failover, in
// cluster.js.
//
// The class is split by area into client/*.js. Methods of SalonClient itself are mixins
// installed on its prototype with mixin.js's `install` (`this` stays the client):
// room_view.js (the view kept from the events), presence.js (presence and self),
// recordings.js (the livestream, recordings). The groups reached as `client.<area>`
// (presence, hand: presence.js; host, stage, waitlist: hosts.js; chat.js; polls, qna:
// polls.js; plugins, stores: plugins.js; connected: breakout.js) are helper objects made
// by the constructor. Parts that import from this file (an import cycle) use what they
// import inside methods only, so load them through this file, never on their own.

import { FINAL_REFUSALS, FIRST_BACKOFF_MS, MAX_BACKOFF_MS, MAX_MOVING_WAITS, MAX_REDIRECTS,
         RESUME_WITHIN_MS, gatewayUrl, redirectTarget, resumeCandidates } from "./cluster.js";
import { install } from "./mixin.js";
import { RoomViewMethods } from "./client/room_view.js";
import { Hand, Presence, PresenceMethods } from "./client/presence.js";
import { LivestreamMethods, RecordingMethods } from "./client/recordings.js";
import { Host, Stage, Waitlist } from "./client/hosts.js";
import { Chat } from "./client/chat.js";
import { Polls, Qna } from "./client/polls.js";
import { Plugins, Stores } from "./client/plugins.js";
import { Connected } from "./client/breakout.js";

export const PROTOCOL_VERSION = 1;

/** Recording statuses that count as active (docs/protocol.md "Recordings"). */
export const ACTIVE_RECORDING = new Set(["INVOKED", "RECORDING", "PAUSED"]);
/** A livestream's statuses while it runs (`client.livestream` is null otherwise). */
export const ACTIVE_LIVESTREAM = new Set(["INVOKED", "LIVE"]);

/** The emoji a reaction may be (docs/protocol.md "Raised hands and reactions"), in the
 * server's order; anything else is refused with INVALID. "❤️" is U+2764 U+FE0F. */
export const REACTIONS = Object.freeze(["👍", "👏", "❤️", "😂", "😮", "🎉", "🤔", "👎"]);

/** How many final captions `client.transcripts` keeps by default (option `transcriptLimit`). */
export const TRANSCRIPT_LIMIT = 200;

/**
 * A live caption, RealtimeKit's `transcript` payload (docs/protocol.md "Captions"; the
 * `Transcript` of protocol.d.ts). The interim captions of one utterance and its final one
 * share `id`.
 * @typedef {{id: string, peerId: string, userId: string, customParticipantId: string | null,
 *            name: string, transcript: string, isPartialTranscript: boolean,
 *            timestamp: string}} Transcript
 */

/** An error reply: `code` from the protocol (FORBIDDEN, INVALID, …) and a message;
 * `retryAfterMs` for RATE_LIMITED (null otherwise); `details` the whole error object
 * (a REDIRECT's `url` and `address`). */
export class SalonError extends Error {
  constructor(code, message, retryAfterMs = null, details = null) {
    super(`${code}: ${message}`);
    this.name = "SalonError";
    this.code = code;
    this.reason = message;
    this.retryAfterMs = retryAfterMs;
    this.details = details || {};
  }
}

const PING_EVERY_MS = 20000;
const RESUMABLE_CLOSES = new Set([1001, 1006, 1009, 1011, 1012, 1013, 4007, 4008, 4013]);

export class SalonClient extends EventTarget {
  /** The gateway URL of a salon server given its HTTP origin. */
  static wsUrl(httpBase = location.origin) {
    return gatewayUrl(httpBase);
  }

  /**
   * Connect and join; rejects with SalonError when the server refuses.
   * options: {name, media: {audio, video}, device: "desktop"|"mobile", resume, autoResume,
   *           timeout, transcriptLimit}
   */
  static async join(url, token, options = {}) {
    const client = new SalonClient(url, token, options);
    await client._connect(url, options.resume || null);
    return client;
  }

  constructor(url, token, options = {}) {
    super();
    /** The cluster: the URL first connected to (the entry), the one connected to now
     * (where REDIRECTs led), and the live nodes' base URLs the last join reply named. */
    this.entryUrl = url;
    this.url = url;
    this.nodes = [];
    this.token = token;
    this.options = options;
    this.timeout = options.timeout || 10000;
    this.autoResume = options.autoResume !== false;
    this.ids = 1;
    this.pending = new Map();
    this.ws = null;
    this.closed = false;       // left, kicked, rejected, ended: no more resuming
    this.closeCode = null;
    this.joined = null;        // the last join (or resume) reply
    this.mediaConfig = null;   // the `media` object of the join reply / self.admitted
    this.self = null;
    this.peers = new Map();    // peer_id -> PeerView (others, joined): what the server told
    /** Large rooms (docs/large-rooms.md): `large` while this peer is audience in a large
     * room, where `peers` holds the stage, the hosts and a first page only; `counts`
     * {participants, on_stage, audience} from RoomState and each `audience.delta`;
     * `nextCursor` the `peers.list` cursor after the first page. Page with listPeers(). */
    this.audience = {large: false, counts: null, nextCursor: null};
    this.waiting = new Map();  // peer_id -> waiting view (waiting-room managers)
    this.stageRequests = [];
    this.pinnedPeerId = null;
    this.lastSpeakerPeerId = null;  // who spoke last: the room state's, then media.speaker
    this.recordings = new Map();  // recording id -> RecordingView, the meeting's active ones
    /** The meeting's livestream while INVOKED or LIVE (a LivestreamView), else null. */
    this.livestream = null;
    this.transcriptLimit = options.transcriptLimit || TRANSCRIPT_LIMIT;
    /** @type {Transcript[]} the final captions so far, oldest first (at most transcriptLimit) */
    this.transcripts = [];
    /** @type {Map<string, Transcript>} utterance id -> its latest interim caption, until its final */
    this.interimTranscripts = new Map();
    this.room = null;
    this.presence = new Presence(this);
    this.host = new Host(this);
    this.stage = new Stage(this);
    this.hand = new Hand(this);
    this.waitlist = new Waitlist(this);
    this.chat = new Chat(this);
    this.polls = new Polls(this);
    this.qna = new Qna(this);
    this.plugins = new Plugins(this);
    this.stores = new Stores(this);
    this.connected = new Connected(this);
    this.media = null;         // set by MediaSession.attach(client)
    this._pinger = null;
  }

  get peerId() { return this.joined ? this.joined.peer_id : null; }
  get status() { return this.self ? this.self.status : null; }
  get resumeInfo() {
    return this.joined ? {peer_id: this.joined.peer_id, resume_token: this.joined.resume_token} : null;
  }
  get meetingId() { return this.room && this.room.meeting ? this.room.meeting.id : null; }
  get permissions() { return this.self ? this.self.permissions : null; }
  get canPublish() {
    return this.self ? this.self.can_publish : {audio: false, video: false, screenshare: false};
  }
  // The room view's other getters and its upkeep (_applyState, _track, …): client/room_view.js.

  // --- connecting --------------------------------------------------------------------------

  /** Join (or resume) at `url`, following REDIRECTs to the node that runs the meeting
   * with the same join, at most MAX_REDIRECTS in a row, and waiting out MEETING_MOVING
   * (`retry_after` seconds) at most MAX_MOVING_WAITS times. */
  async _connect(url, resume) {
    let redirects = 0;
    let waits = 0;
    for (;;) {
      try {
        await this._open(url, resume);
        return this;
      } catch (error) {
        const code = error instanceof SalonError ? error.code : null;
        if (code === "MEETING_MOVING" && waits < MAX_MOVING_WAITS && !this.closed) {
          waits += 1;
          const seconds = Math.min(Number(error.details.retry_after) || 1, 5);
          await new Promise((r) => setTimeout(r, seconds * 1000));
          continue;
        }
        const target = code === "REDIRECT" ? redirectTarget(error.details) : null;
        if (!target || redirects >= MAX_REDIRECTS) throw error;
        redirects += 1;
        url = target;
      }
    }
  }

  _open(url, resume) {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(url);
      } catch (error) {
        reject(error);
        return;
      }
      this.ws = ws;
      let settled = false;
      ws.onopen = () => {
        const data = {token: this.token, protocol: PROTOCOL_VERSION};
        if (this.options.name) data.name = this.options.name;
        const media = {...(this.options.media || {})};
        if (this.options.device) media.device = this.options.device;
        if (Object.keys(media).length) data.media = media;
        if (resume) data.resume = resume;
        this._send("join", data).then((reply) => {
          settled = true;
          ws.salonJoined = true;
          this.url = url;
          this._joined(reply);
          resolve(this);
        }, (error) => {
          settled = true;
          reject(error);
        });
      };
      ws.onmessage = (message) => this._receive(message.data);
      ws.onclose = (event) => {
        this._dropped(ws, event.code, event.reason);
        if (!settled) {
          settled = true;
          reject(new SalonError("CLOSED", `the connection closed (${event.code}) before joining`));
        }
      };
      ws.onerror = () => {};  // onclose follows and says more
    });
  }

  _joined(reply) {
    this.joined = reply;
    this.nodes = (reply.nodes || []).filter((node) => typeof node === "string");
    if (reply.media) this.mediaConfig = reply.media;
    this._applyState(reply);
    this._startPinging();
    this._emit("joined", reply);
    this._recordingsChanged({});
  }

  _startPinging() {
    clearInterval(this._pinger);
    this._pinger = setInterval(() => {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.request("ping").catch(() => {});
    }, PING_EVERY_MS);
  }

  _dropped(ws, code, reason) {
    if (ws !== this.ws) return;
    this.closeCode = code;
    for (const {reject, timer} of this.pending.values()) {
      clearTimeout(timer);
      reject(new SalonError("CLOSED", `the connection closed (${code})`));
    }
    this.pending.clear();
    if (!ws.salonJoined) return;  // a join or resume that failed: its caller hears of it
    const resumable = !this.closed && this.autoResume && RESUMABLE_CLOSES.has(code);
    if (resumable) {
      this._emit("reconnecting", {code});
      this._resume();
      return;
    }
    clearInterval(this._pinger);
    this.closed = true;
    this._emit("closed", {code, reason});
  }

  /** Resume the dropped peer (docs/protocol.md "Clusters: redirects and failover"):
   * round after round, try the node it was on, the entry URL, then the other nodes it
   * was told of, following redirects, until one takes the resume, one refuses it for
   * good (RESUME_FAILED), or RESUME_WITHIN_MS pass (the server's grace window is 15 s). */
  async _resume() {
    const home = this.url;
    const deadline = Date.now() + RESUME_WITHIN_MS;
    let delay = FIRST_BACKOFF_MS;
    let failure = null;
    while (!this.closed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
      for (const url of resumeCandidates(home, this.entryUrl, this.nodes)) {
        if (this.closed || Date.now() >= deadline) break;
        try {
          await this._connect(url, this.resumeInfo);
          this._emit("resumed", this.joined);
          return;
        } catch (error) {
          failure = error;
          if (error instanceof SalonError && FINAL_REFUSALS.has(error.code)) {
            return this._giveUp(error);
          }
        }
      }
    }
    this._giveUp(failure);
  }

  _giveUp(error) {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this._pinger);
    this._emit("closed", {code: this.closeCode,
                          reason: error ? String(error.message || error) : "gave up resuming"});
  }

  /** Drop the connection without leaving (the server keeps the peer to resume). */
  close() {
    this.closed = true;
    clearInterval(this._pinger);
    if (this.media) this.media.close();
    if (this.ws) this.ws.close(1000);
  }

  /** Leave the session and close. */
  async leave() {
    try {
      await this.request("leave");
    } catch (_) { /* already gone */ }
    this.close();
  }

  // --- requests and events -----------------------------------------------------------------

  /** Send one request and resolve with its reply's `data` (reject with SalonError). */
  request(type, data = {}) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.ws.salonJoined) {
      return Promise.reject(new SalonError("CLOSED", "not connected"));
    }
    return this._send(type, data);
  }

  _send(type, data) {
    const id = this.ids++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SalonError("TIMEOUT", `no reply to ${type} in ${this.timeout} ms`));
      }, this.timeout);
      this.pending.set(id, {resolve, reject, timer});
      this.ws.send(JSON.stringify({id, type, data}));
    });
  }

  _receive(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch (_) {
      return;
    }
    if (message.type === "reply") {
      const waiter = this.pending.get(message.id);
      if (waiter) {
        this.pending.delete(message.id);
        clearTimeout(waiter.timer);
        if (message.ok) waiter.resolve(message.data || {});
        else waiter.reject(new SalonError(message.error.code, message.error.message,
                                          message.error.retry_after_ms ?? null, message.error));
      } else if (!message.ok) {
        this._emit("error", message.error);
      }
    } else if (message.type === "event") {
      const {recordings, transcripts, interimTranscripts} = this;
      this._track(message.event, message.data || {});
      this._emit(message.event, message.data || {});
      if (this.recordings !== recordings) {
        this._recordingsChanged(message.event === "recording.updated" ? message.data : {});
      }
      if (this.transcripts !== transcripts || this.interimTranscripts !== interimTranscripts) {
        this._emit("transcripts.changed", {
          transcript: message.event === "transcript" ? message.data : null,
          transcripts: this.transcripts, interim: [...this.interimTranscripts.values()]});
      }
    }
  }

  _emit(name, data) {
    this.dispatchEvent(new CustomEvent(name, {detail: data}));
    this.dispatchEvent(new CustomEvent("*", {detail: {event: name, data}}));
  }

  /** Listen to an event (or "*": every event, as {event, data}); returns a function that stops. */
  on(name, fn) {
    const listener = (event) => fn(event.detail, name);
    this.addEventListener(name, listener);
    return () => this.removeEventListener(name, listener);
  }

  /** The next event `name` for which `where(data)` holds. */
  waitFor(name, where = () => true, timeout = 10000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { off(); reject(new SalonError("TIMEOUT", `no ${name}`)); }, timeout);
      const off = this.on(name, (data) => {
        if (!where(data)) return;
        clearTimeout(timer);
        off();
        resolve(data);
      });
    });
  }

  // Presence and self, the livestream and recordings: client/presence.js, recordings.js.
}

install(SalonClient, RoomViewMethods, PresenceMethods, LivestreamMethods, RecordingMethods);
