// salon browser SDK, media: local devices and the two peer connections of a peer
// (docs/media-design.md §4).
//
//   import { MediaSession } from "/sdk/v1/media.js";
//   const media = MediaSession.attach(client);           // right after SalonClient.join
//   await media.startDevices({audio: true, video: true});
//   await media.publish();                               // the local tracks we may send
//   media.on("track", ({peerId, kind, trackId, track}) => …);
//   media.on("trackended", ({peerId, kind, trackId}) => …);
//   await media.setEnabled("video", false);
//
// The latest choice wins: `setEnabled`, `publish` and `unpublish` note what the caller
// wants the moment they are called (`wanted`), and a publish still opening devices or
// negotiating sends only the kinds still wanted when its offer goes out. A kind turned
// off stops sending at once (its sender's track is removed), and the server is told once
// whatever was in flight has settled, so a later publish can never turn it back on.
//
// Publish connection: the client offers (audio, video, screenshare m-lines, reused across
// unpublish/publish). Subscribe connection: the server offers (`media.subscribe_offer`),
// and remote tracks are known by the offer's mid -> track_id map, never by the identity
// of a MediaStreamTrack (a receiver's track is reused when its m-line carries another
// track). Both connections use `bundlePolicy: "max-bundle"` and the ICE servers of the
// join reply, exactly as given (an empty list means no STUN at all). The SDP goes out once
// ICE gathering is complete (instant for host candidates, bounded for slow TURN), so it
// carries the candidates; any that come later are trickled with `media.ice`.
//
// The class is split by concern into media/*.js: negotiation.js (gathered, Serial,
// Trickle), devices.js, publishing.js, subscribing.js, moves.js (reset and moves between
// meetings) and stats.js. Each part is a set of methods installed on
// MediaSession.prototype (a mixin), not a helper object: `this` stays the session, so
// every `this.x` is exactly what it was in one class. The race handling around moves
// (`_leaving`, `Serial.kill`, connections replaced or closed under a step, whose promises
// may never settle) reads and replaces the same fields from every part (pubSerial, pubPc,
// pubTx, published, subPc, …); helper objects would each need the session anyway and
// split that shared state across owners. Tests and the page also reach these fields and
// methods on the session itself (`media.pubPc`, `media._constraints(…)`).

import { Serial, Trickle } from "./media/negotiation.js";
import { DeviceMethods } from "./media/devices.js";
import { PublishMethods } from "./media/publishing.js";
import { SubscribeMethods } from "./media/subscribing.js";
import { MoveMethods } from "./media/moves.js";
import { StatsMethods } from "./media/stats.js";
import { install } from "./mixin.js";

export class MediaSession extends EventTarget {
  /** The session of a joined client (one per client; `client.media` afterwards). */
  static attach(client, options = {}) {
    if (client.media) return client.media;
    const session = new MediaSession(client, options);
    client.media = session;
    return session;
  }

  constructor(client, {codecPreference = "vp8", screenshareFrameRate = null, cameraLayers = "L1T3",
                       simulcast = true} = {}) {
    super();
    this.client = client;
    this.codecPreference = codecPreference;
    // null: the preset's `config.media.screenshare.frame_rate` (the join reply's media.screenshare)
    this.screenshareFrameRate = screenshareFrameRate;
    // The camera's temporal layers (a WebRTC scalability mode, or null for one layer):
    // the server gives each subscriber the layers its link and its tile take.
    this.cameraLayers = cameraLayers;
    // Send the camera as simulcast (three encodings, rids q/h/f) when the server accepts
    // it (`media.simulcast` in the join reply); each keeps `cameraLayers` if it can.
    this.simulcast = simulcast;
    this.dataSaver = false;
    this._heights = new Map();    // track_id -> CSS px, as last told to the server
    this._tiles = new Map();      // element -> track_id (observeTile)
    this._sizeTimer = null;
    this._sizes = typeof ResizeObserver === "function"
      ? new ResizeObserver(() => this._sizesChanged()) : null;
    this.local = {audio: null, video: null, screenshare: null};  // MediaStreamTracks
    this.deviceIds = {audio: null, video: null};  // chosen input devices (null: the default)
    this.audioProcessing = {};  // {noiseSuppression, echoCancellation, autoGainControl} (setAudioProcessing)
    this.videoEffects = {};     // {backgroundBlur} (setVideoEffects): the browser's own camera effects
    this.enabled = {audio: false, video: false, screenshare: false};
    // kind -> true | false | undefined: the caller's latest choice (undefined: none yet).
    this.wanted = {audio: undefined, video: undefined, screenshare: undefined};
    this.published = {};       // kind -> {track_id, mid, kind, codec}
    this.pubPc = null;
    this.pubTx = {};           // kind -> RTCRtpTransceiver (kept and reused)
    this.subPc = null;
    this.subMids = {};         // mid -> {track_id, peer_id, kind} | null, from the last offer
    this.remote = new Map();   // track_id -> {trackId, peerId, kind, mid, track, transceiver}
    this.pubSerial = new Serial();
    this.subSerial = new Serial();
    this.pubTrickle = new Trickle(client, "publish");
    this.subTrickle = new Trickle(client, "subscribe");
    this.closed = false;
    this.resetting = {};
    this._leaving = false;      // between meeting.changing and meeting.changed (or change_failed)
    this._freshOffer = false;   // after a reset or a move: only a revision-1 offer is the server's new one
    this._subRevision = 0;      // the revision of the last offer answered
    this._answerLost = false;   // an answer the WebSocket lost: reset once resumed
    // The node that runs our meeting (cluster mode), as the last join or resume said.
    this._node = (client && client.joined && client.joined.nodes && client.joined.nodes[0]) || null;
    this.offs = !client ? [] : [  // without a client: local devices only (a preview)
      client.on("media.subscribe_offer", (data) => this._offered(data)),
      client.on("media.ice", (data) => this._remoteCandidate(data)),
      client.on("media.transport", ({pc, state}) => {
        if (this._leaving) return;  // the old room's connection, closed already
        this._emit("transport", {pc, state, by: "server"});
        if (state === "failed") this.reset(pc).catch(() => {});  // tried again on the next failure
      }),
      client.on("media.unpublished", ({track_id: trackId}) => this._ended(trackId)),
      client.on("media.disabled", (data) => this._disabledByHost(data)),
      client.on("media.encodings", (data) => this._encodingsAsked(data)),
      client.on("self.updated", ({self}) => this._rightsChanged(self.can_publish || {})),
      client.on("meeting.changing", () => this._moving({leaving: true})),
      client.on("meeting.changed", () => this._moved()),
      client.on("meeting.change_failed", () => this._stayed()),
      // A resume answered by another node (cluster failover: the meeting's node died or
      // was drained): that node's media server knows nothing of us; start over there.
      client.on("resumed", (reply) => {
        const node = (reply && reply.nodes && reply.nodes[0]) || null;
        if (node && this._node && node !== this._node) this._moved();
        // Dropped mid-move: the server moved nothing, and we are the old room's peer.
        else if (this._leaving) this._stayed();
        // An answer lost with the connection: the server still waits for it.
        else if (this._answerLost) this.reset("subscribe").catch(() => {});
        this._answerLost = false;
        this._node = node || this._node;
      }),
      client.on("peer.left", ({peer_id: peerId}) => {
        for (const rec of [...this.remote.values()]) if (rec.peerId === peerId) this._ended(rec.trackId);
      }),
    ];
    // An offer that came before we were attached (the join reply's microtask raced it).
    if (client && client._lastOffer) this._offered(client._lastOffer);
  }

  /** False when the server runs without media (`media.enabled` false in the join reply). */
  get available() { return !this.client || !this.client.mediaConfig || this.client.mediaConfig.enabled !== false; }

  get config() {
    return this.client.mediaConfig || {ice_servers: [], ice_transport_policy: "all",
                                       codecs: {audio: ["opus"], video: ["VP8", "H264"]}};
  }

  on(name, fn) {
    const listener = (event) => fn(event.detail, name);
    this.addEventListener(name, listener);
    return () => this.removeEventListener(name, listener);
  }

  _emit(name, data) { this.dispatchEvent(new CustomEvent(name, {detail: data})); }

  _rtcConfig() {
    const config = this.config;
    return {
      iceServers: config.ice_servers || [],
      iceTransportPolicy: config.ice_transport_policy || "all",
      bundlePolicy: "max-bundle",
      rtcpMuxPolicy: "require",
    };
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    if (this._sizes) this._sizes.disconnect();
    clearTimeout(this._sizeTimer);
    for (const off of this.offs) off();
    for (const trackId of [...this.remote.keys()]) this._ended(trackId);
    if (this.pubPc) this.pubPc.close();
    if (this.subPc) this.subPc.close();
    this.pubPc = this.subPc = null;
    this.stopDevices();
  }
}

install(MediaSession, DeviceMethods, PublishMethods, SubscribeMethods, MoveMethods, StatsMethods);
