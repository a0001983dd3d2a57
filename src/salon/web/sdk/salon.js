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

import { FINAL_REFUSALS, FIRST_BACKOFF_MS, MAX_BACKOFF_MS, MAX_MOVING_WAITS, MAX_REDIRECTS,
         RESUME_WITHIN_MS, gatewayUrl, redirectTarget, resumeCandidates } from "./cluster.js";

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
  /** What a recording indicator shows: "RECORDING" while any active recording records,
   * else "PAUSED" while one is paused, else "INVOKED" while one is starting, else null. */
  get recordingStatus() {
    const statuses = new Set([...this.recordings.values()].map((r) => r.status));
    return ["RECORDING", "PAUSED", "INVOKED"].find((s) => statuses.has(s)) || null;
  }
  /** Every joined peer with a hand up (this one included), first raised first: the
   * server keeps raise times distinct, so their order is the raise order. */
  get raisedHands() {
    const all = [...(this.self && this.self.status === "joined" ? [this.self] : []), ...this.peers.values()];
    return all.filter((p) => p.hand_raised_at)
      .sort((a, b) => String(a.hand_raised_at).localeCompare(String(b.hand_raised_at)));
  }
  /** Whether anyone in the meeting (this peer included) is captioned live: a PeerView
   * with `transcribed: true`. */
  get captionsAvailable() {
    return Boolean((this.self && this.self.transcribed) ||
                   [...this.peers.values()].some((p) => p.transcribed));
  }

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

  /** `recordings.changed` {recordings, recording, by_peer_id}: the active recordings
   * (`client.recordings`) changed, after the event that changed them (recording.updated,
   * meeting.changed, self.admitted), a join or resume, or a `state` reply. */
  _recordingsChanged({recording = null, by_peer_id: byPeerId = null}) {
    this._emit("recordings.changed", {recordings: [...this.recordings.values()], recording,
                                      by_peer_id: byPeerId});
  }

  _applyState({self, room, media}) {
    if (self) this.self = self;
    if (media) this.mediaConfig = media;
    if (room) {
      this.room = room;
      this.peers = new Map((room.peers || [])
        .filter((p) => p.peer_id !== this.peerId).map((p) => [p.peer_id, p]));
      this.pinnedPeerId = room.pinned_peer_id || null;
      this.lastSpeakerPeerId = room.last_speaker_peer_id || null;
      this.audience = {large: Boolean(room.large), counts: room.counts || null,
                       nextCursor: room.peers_next_cursor ?? null};
      this.waiting = new Map((room.waiting || []).map((p) => [p.peer_id, p]));
      this.stageRequests = room.stage_requests || [];
      // A new Map whenever it changes: _receive and _joined compare to tell views.
      this.recordings = new Map((room.recordings || [])
        .filter((r) => ACTIVE_RECORDING.has(r.status)).map((r) => [r.id, r]));
      this.livestream = room.livestream || null;
    }
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

  /** Keep the room view current before listeners see the event. */
  _track(event, data) {
    switch (event) {
      case "peer.joined":
      case "peer.updated":
        if (data.peer && data.peer.peer_id !== this.peerId) this.peers.set(data.peer.peer_id, data.peer);
        break;
      case "peer.left":
        this.peers.delete(data.peer_id);
        if (this.lastSpeakerPeerId === data.peer_id) this.lastSpeakerPeerId = null;
        this._dropInterims((t) => t.peerId === data.peer_id);  // they will never be final
        break;
      case "audience.delta": {
        // Batched audience presence: counts, and leavers dropped from what we hold.
        // Joiners are not added: the list is paged (listPeers), not pushed whole.
        for (const id of data.left || []) this.peers.delete(id);
        const wasLarge = this.audience.large;
        this.audience = {...this.audience, large: Boolean(data.large), counts: data.counts};
        if (wasLarge && !data.large) this.state().catch(() => {});  // small again: everyone
        break;
      }
      case "self.updated":
        this.self = data.self;
        break;
      case "self.admitted":
        this._applyState(data);
        break;
      case "media.speaker":
        if (data.peer_id) this.lastSpeakerPeerId = data.peer_id;
        break;
      case "room.pinned":
        this.pinnedPeerId = data.peer_id || null;
        for (const [id, peer] of this.peers) this.peers.set(id, {...peer, pinned: id === this.pinnedPeerId});
        if (this.self) this.self = {...this.self, pinned: this.self.peer_id === this.pinnedPeerId};
        break;
      case "waitlist.added":
        this.waiting.set(data.peer.peer_id, data.peer);
        break;
      case "waitlist.removed":
        this.waiting.delete(data.peer_id);
        break;
      case "stage.requests":
        this.stageRequests = data.requests || [];
        break;
      case "livestream.updated": {
        const view = data.livestream;
        this.livestream = view && ACTIVE_LIVESTREAM.has(view.status) ? view : null;
        break;
      }
      case "recording.updated": {
        const rec = data.recording;
        if (!rec) break;
        this.recordings = new Map(this.recordings);
        if (ACTIVE_RECORDING.has(rec.status)) this.recordings.set(rec.id, rec);
        else this.recordings.delete(rec.id);
        break;
      }
      case "meeting.changed":
        // Moved to another meeting on this connection: from now on we are its new peer.
        this.joined = {protocol: PROTOCOL_VERSION, resumed: false, peer_id: data.peer_id,
                       resume_token: data.resume_token, status: data.status, self: data.self,
                       room: data.room, media: data.media};
        if (data.token) this.token = data.token;
        this._lastOffer = null;
        this._applyState(data);
        // The captions were the old room's.
        if (this.transcripts.length) this.transcripts = [];
        this._dropInterims(() => true);
        break;
      case "transcript":
        this._caption(data);
        break;
      case "media.subscribe_offer":
        if (!this.media) this._lastOffer = data;  // MediaSession.attach answers it
        break;
      case "self.rejected":
      case "self.kicked":
      case "room.ended":
        this.closed = true;  // the server closes the socket next: do not resume
        break;
      default:
        break;
    }
  }

  /** One `transcript` event: an interim replaces the utterance's previous interim, and
   * its final one ends the utterance (appended to `transcripts`). A final with no interim
   * before it whose id is already among the finals corrects that final in place. New
   * array / Map on each change. */
  _caption(caption) {
    if (!caption || typeof caption.id !== "string") return;
    if (caption.isPartialTranscript) {
      this.interimTranscripts = new Map(this.interimTranscripts).set(caption.id, caption);
      return;
    }
    const finals = [...this.transcripts];
    const at = this.interimTranscripts.has(caption.id) ? -1 : finals.findIndex((t) => t.id === caption.id);
    this._dropInterims((t) => t.id === caption.id);
    if (at >= 0) finals[at] = caption;
    else finals.push(caption);
    this.transcripts = finals.slice(-this.transcriptLimit);
  }

  _dropInterims(which) {
    const kept = [...this.interimTranscripts.values()].filter((t) => !which(t));
    if (kept.length !== this.interimTranscripts.size) {
      this.interimTranscripts = new Map(kept.map((t) => [t.id, t]));
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

  // --- presence and self (also as client.presence.*) -------------------------------------

  state() { return this.presence.state(); }
  ping() { return this.presence.ping(); }
  rename(name) { return this.presence.rename(name); }
  setMedia(kinds) { return this.presence.setMedia(kinds); }
  pin(peerId) { return this.presence.pin(peerId); }
  broadcast(type, payload, options) { return this.presence.broadcast(type, payload, options); }
  /** Send one of REACTIONS to everyone joined (you get it back as a `reaction` event too). */
  react(emoji) { return this.request("reaction.send", {emoji}); }
  /** One page of the participant list, in joining order: resolves with {peers,
   * next_cursor, counts}; pass `next_cursor` back as `cursor` for the next page (null:
   * the last). `search`: a case-insensitive part of the name. Needs host rights or
   * `show_participant_list`. */
  listPeers({cursor, limit, search} = {}) {
    return this.request("peers.list", only({cursor: cursor ?? undefined, limit,
                                            search: search || undefined}));
  }

  // --- the livestream (needs the preset's `can_livestream`; the server checks) -------------

  /** Start livestreaming the meeting; resolves with the LivestreamView (INVOKED).
   * `videoConfig` `{width, height}`; `CONFLICT` while one runs. */
  async startLivestream({name, videoConfig} = {}) {
    return (await this.request("livestream.start", only({name, video_config: videoConfig}))).livestream;
  }
  /** Stop the meeting's livestream; resolves with its LivestreamView. `NOT_FOUND` if none runs. */
  async stopLivestream() {
    return (await this.request("livestream.stop")).livestream;
  }

  // --- recordings (needs the preset's `can_record`; the server checks) --------------------

  /** Start recording the meeting; resolves with the RecordingView (INVOKED). `CONFLICT`
   * while one is active unless `allowMultiple`. */
  async startRecording({allowMultiple = false} = {}) {
    return (await this.request("recording.start", {allow_multiple_recordings: allowMultiple})).recording;
  }
  /** Stop one recording, or every active one; resolves with the changed RecordingViews. */
  async stopRecording(recordingId) { return this._steerRecording("stop", recordingId); }
  async pauseRecording(recordingId) { return this._steerRecording("pause", recordingId); }
  async resumeRecording(recordingId) { return this._steerRecording("resume", recordingId); }
  async _steerRecording(action, recordingId) {
    return (await this.request(`recording.${action}`, only({recording_id: recordingId}))).recordings;
  }
}

function only(data) {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
}

class Presence {
  constructor(client) { this.c = client; }
  async state() {
    const reply = await this.c.request("state");
    this.c._applyState(reply);
    this.c._recordingsChanged({});
    return reply;
  }
  ping() { return this.c.request("ping"); }
  rename(name) { return this.c.request("self.rename", {name}); }
  /** {audio?, video?, screenshare?}: what this peer says it is sending. */
  setMedia(kinds) { return this.c.request("self.media", only(kinds)); }
  pin(peerId) { return this.c.request("peer.pin", {peer_id: peerId ?? null}); }
  broadcast(type, payload = null, {participantIds, presetNames} = {}) {
    return this.c.request("broadcast", only({type, payload, participant_ids: participantIds,
                                             preset_names: presetNames}));
  }
}

class Host {
  constructor(client) { this.c = client; }
  kick(peerIds) { return this.c.request("host.kick", {peer_ids: peerIds}); }
  kickAll() { return this.c.request("host.kick_all"); }
  disableMedia(peerIds, kinds) { return this.c.request("host.disable_media", {peer_ids: peerIds, kinds}); }
  allowMedia(peerIds, kinds) { return this.c.request("host.allow_media", {peer_ids: peerIds, kinds}); }
  muteAll(allowUnmute = true) { return this.c.request("host.mute_all", {allow_unmute: allowUnmute}); }
  disableAllVideo() { return this.c.request("host.disable_all_video"); }
  updatePermissions(peerIds, patch) {
    return this.c.request("host.update_permissions", {peer_ids: peerIds, patch});
  }
  pin(peerId) { return this.c.request("peer.pin", {peer_id: peerId ?? null}); }
  /** Lower the named peers' hands, or every raised hand (null). */
  lowerHands(peerIds = null) {
    return this.c.request("host.lower_hands", peerIds ? {peer_ids: peerIds} : {all: true});
  }
}

/** Your own hand: `client.hand.raise()`, `lower()`, `raised` (the reply's
 * `hand_raised_at` lands in `client.self` with the `self.updated` that follows). */
class Hand {
  constructor(client) { this.c = client; }
  get raised() { return Boolean(this.c.self && this.c.self.hand_raised_at); }
  raise() { return this.c.request("self.hand", {raised: true}); }
  lower() { return this.c.request("self.hand", {raised: false}); }
  toggle() { return this.raised ? this.lower() : this.raise(); }
}

class Stage {
  constructor(client) { this.c = client; }
  request() { return this.c.request("stage.request"); }
  cancelRequest() { return this.c.request("stage.cancel_request"); }
  async listRequests() { return (await this.c.request("stage.list_requests")).requests; }
  grant(peerIds) { return this.c.request("stage.grant", {peer_ids: peerIds}); }
  deny(peerIds) { return this.c.request("stage.deny", {peer_ids: peerIds}); }
  join() { return this.c.request("stage.join"); }
  leave() { return this.c.request("stage.leave"); }
  kick(peerIds) { return this.c.request("stage.kick", {peer_ids: peerIds}); }
}

class Waitlist {
  constructor(client) { this.c = client; }
  async list() { return (await this.c.request("waitlist.list")).waiting; }
  /** Admit some peers, or everyone waiting when `peerIds` is omitted. */
  admit(peerIds) {
    return this.c.request("waitlist.admit", peerIds ? {peer_ids: peerIds} : {all: true});
  }
  reject(peerIds) {
    return this.c.request("waitlist.reject", peerIds ? {peer_ids: peerIds} : {all: true});
  }
}

class Chat {
  constructor(client) { this.c = client; }
  /** A text message; `to` (participant ids) makes it private. Resolves with the message. */
  async send(text, {to, replyTo} = {}) {
    return (await this.c.request("chat.send", only({type: "text", text, to, reply_to: replyTo}))).message;
  }
  async sendCustom(payload, {to, replyTo} = {}) {
    return (await this.c.request("chat.send", only({type: "custom", payload, to, reply_to: replyTo}))).message;
  }
  /** Upload a Blob/File over HTTP first (POST /realtime/v1/files); resolves with {id, link, …}. */
  async uploadFile(blob, name = blob.name || "file") {
    // The entry's origin, not the node a redirect led to: any node answers, and the
    // entry is usually the page's own (no cross-origin request).
    const base = this.c.entryUrl.replace(/^ws/, "http").replace(/\/realtime\/v1$/, "");
    const response = await fetch(`${base}/realtime/v1/files?name=${encodeURIComponent(name)}`, {
      method: "POST", body: blob,
      headers: {"Authorization": `Bearer ${this.c.token}`,
                "Content-Type": blob.type || "application/octet-stream"},
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new SalonError(`HTTP_${response.status}`, (body.error && body.error.message) || response.statusText);
    return body.data;
  }
  /** `type`: "image" or "file"; `fileId` from uploadFile. */
  async sendFile(type, fileId, {to, replyTo} = {}) {
    return (await this.c.request("chat.send_file", only({type, file_id: fileId, to, reply_to: replyTo}))).message;
  }
  async edit(messageId, change) {
    return (await this.c.request("chat.edit", {message_id: messageId, ...change})).message;
  }
  delete(messageId) { return this.c.request("chat.delete", {message_id: messageId}); }
  async pin(messageId) { return (await this.c.request("chat.pin", {message_id: messageId})).message; }
  async unpin(messageId) { return (await this.c.request("chat.unpin", {message_id: messageId})).message; }
  /** {before, after, limit, filter, participantId} → {messages, has_more}, oldest first. */
  history({before, after, limit, filter, participantId} = {}) {
    return this.c.request("chat.history", only({before, after, limit, filter, participant_id: participantId}));
  }
  async pinned(limit) { return (await this.c.request("chat.pinned", only({limit}))).messages; }
}

class Polls {
  constructor(client) { this.c = client; }
  async create(question, options, {anonymous = false, hideVotes = false} = {}) {
    return (await this.c.request("poll.create", {question, options, anonymous, hide_votes: hideVotes})).poll;
  }
  vote(pollId, index) { return this.c.request("poll.vote", {poll_id: pollId, index}); }
  async list() { return (await this.c.request("poll.list")).polls; }
}

class Qna {
  constructor(client) { this.c = client; }
  async ask(text) { return (await this.c.request("qna.ask", {text})).question; }
  /** The question; for the audience of a large room, `{question_id, upvotes}` (a whole
   * question lists every upvoter). */
  async upvote(questionId) {
    const reply = await this.c.request("qna.upvote", {question_id: questionId});
    return reply.question ?? reply;
  }
  async answer(questionId, answer) {
    return (await this.c.request("qna.answer", only({question_id: questionId, answer}))).question;
  }
  async dismiss(questionId) { return (await this.c.request("qna.dismiss", {question_id: questionId})).question; }
  async list() { return (await this.c.request("qna.list")).questions; }
}

class Plugins {
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

class Connected {
  constructor(client) { this.c = client; }
  list() { return this.c.request("connected.list"); }
  /** New child meetings (breakout rooms); `titles`: a list of titles (or nulls). */
  async create(titles) {
    return (await this.c.request("connected.create", {meetings: titles.map((title) => ({title}))})).meetings;
  }
  /** {meetingId: title} */
  async update(titles) {
    return (await this.c.request("connected.update", {meetings: Object.entries(titles).map(([id, title]) => ({id, title}))})).meetings;
  }
  delete(meetingIds) { return this.c.request("connected.delete", {meeting_ids: meetingIds}); }
  /** Move peers (or participants, or a preset's peers) to a meeting of the family. */
  move(toMeetingId, {peerIds, participantIds, presetName} = {}) {
    return this.c.request("connected.move", only({to_meeting_id: toMeetingId, peer_ids: peerIds,
                                                  participant_ids: participantIds, preset_name: presetName}));
  }
  switch(toMeetingId) { return this.c.request("connected.switch", {to_meeting_id: toMeetingId}); }
  /** "round_robin" ({meetingIds}) or "manual" ({assignments: {meetingId: [peerIds]}}). */
  assign(mode = "round_robin", {meetingIds, assignments} = {}) {
    return this.c.request("connected.assign", only({mode, meeting_ids: meetingIds, assignments}));
  }
  broadcast(message, payload = null) { return this.c.request("connected.broadcast", {message, payload}); }
  closeAll(deleteRooms = false) { return this.c.request("connected.close_all", {delete: deleteRooms}); }
  timer(closeInSecs, warnSecs = 60) {
    return this.c.request("connected.timer", {close_in_secs: closeInSecs, warn_secs: warnSecs});
  }
}

class Stores {
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
