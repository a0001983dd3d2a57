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

import { SalonError } from "./salon.js";
import { applyEncodings, resetEncodings } from "./encodings.js";

/**
 * Throw a SalonError (code MEDIA_UNAVAILABLE) when the browser offers no
 * `navigator.mediaDevices[method]`: a page that is not a secure context (plain http from
 * another machine) gets no mediaDevices at all, and phones have no getDisplayMedia. Said
 * in words instead of a TypeError about `undefined`.
 */
function mediaDevices(method) {
  if (navigator.mediaDevices && typeof navigator.mediaDevices[method] === "function") return;
  const reason = typeof window !== "undefined" && window.isSecureContext === false
    ? "Camera, microphone and screen sharing need a secure page: open it over HTTPS (or on localhost)."
    : method === "getDisplayMedia" ? "This browser cannot share a screen." : "This browser cannot open a camera or microphone.";
  throw new SalonError("MEDIA_UNAVAILABLE", reason);
}

const KINDS = ["audio", "video", "screenshare"];
const GATHER_WAIT_MS = 3000;

function gathered(pc, timeout = GATHER_WAIT_MS) {
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
class Serial {
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
class Trickle {
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

/** The camera's simulcast encodings, low to high: [rid, scaleResolutionDownBy]. */
const SIMULCAST = [["q", 4], ["h", 2], ["f", 1]];
/** A preset's `quality` as the largest picture, [width, height] (api.md, presets). */
const QUALITY = {qvga: [320, 240], vga: [640, 480], hd: [1280, 720], fhd: [1920, 1080], uhd: [3840, 2160]};
/** 960x540 is the least Chromium sends three simulcast encodings of (540p, 270p,
 * 135p; 640x360 gives two): a simulcast camera is captured at least that large. */
const SIMULCAST_CAPTURE = [960, 540];
/** The preset's defaults, for a server that does not say (protocol.md, MediaConfig). */
const CAPTURE = {video: {quality: "vga", frame_rate: 30}, screenshare: {quality: "hd", frame_rate: 5}};

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
        if (state === "failed") this.reset(pc);
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

  // --- local devices -----------------------------------------------------------------------

  /**
   * Open the microphone and/or camera; resolves with a MediaStream of what opened.
   * A chosen device (`deviceIds`) that is gone (unplugged, or a choice kept from another
   * day) falls back to the default and emits `devicefallback {kind, deviceId}`, so a
   * stale choice never keeps someone from joining.
   */
  async startDevices({audio = true, video = true, videoConstraints} = {}) {
    const kinds = [];
    if (audio && !this._live("audio")) kinds.push("audio");
    if (video && !this._live("video")) kinds.push("video");
    if (!kinds.length) return this.localStream();
    const constraints = (exact) => Object.fromEntries(kinds.map((k) => [k, this._constraints(k, {exact, videoConstraints})]));
    mediaDevices("getUserMedia");
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(constraints(true));
    } catch (error) {
      const lost = kinds.filter((k) => this.deviceIds[k]);
      if (!lost.length || !["OverconstrainedError", "NotFoundError"].includes(error.name)) throw error;
      for (const kind of lost) {
        this._emit("devicefallback", {kind, deviceId: this.deviceIds[kind]});
        this.deviceIds[kind] = null;
      }
      stream = await navigator.mediaDevices.getUserMedia(constraints(true));
    }
    for (const track of stream.getTracks()) this._setLocal(track.kind, track);
    return this.localStream();
  }

  /** getUserMedia constraints of a kind: the chosen device (`exact`), the audio processing. */
  _constraints(kind, {exact = true, videoConstraints} = {}) {
    const id = this.deviceIds[kind];
    const device = id ? {deviceId: exact ? {exact: id} : id} : {};
    // Effects are plain (not `exact`) constraints: a browser without them opens the camera anyway.
    // The preset's quality and frame rate; a simulcast camera is captured at least
    // SIMULCAST_CAPTURE and its top encoding scaled down to the quality (_addSender).
    // Ideal values, so any camera still opens (a `max` would refuse one that cannot
    // slow down); the encodings' maxFramerate is the ceiling.
    if (kind === "video") {
      const {size: [width, height], frameRate} = this.capture("video");
      const size = this._simulcastCamera()
        ? {width: Math.max(width, SIMULCAST_CAPTURE[0]), height: Math.max(height, SIMULCAST_CAPTURE[1])}
        : {width, height};
      return {frameRate, ...(videoConstraints || size), ...this.videoEffects, ...device};
    }
    const processing = this.audioProcessing || {};
    return Object.keys(device).length || Object.keys(processing).length ? {...processing, ...device} : true;
  }

  /** The microphones and cameras ({audio: [{deviceId, label}], video: […]}); labels once allowed. */
  static async devices() {
    // No mediaDevices (a page over plain http): no devices, rather than a TypeError.
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return {audio: [], video: []};
    const all = await navigator.mediaDevices.enumerateDevices();
    const pick = (kind) => all.filter((d) => d.kind === kind && d.deviceId)
      .map((d, i) => ({deviceId: d.deviceId, label: d.label || `${kind === "audioinput" ? "Microphone" : "Camera"} ${i + 1}`}));
    return {audio: pick("audioinput"), video: pick("videoinput")};
  }

  /**
   * Use another microphone or camera (`deviceId` null: the default). An open device is
   * replaced: the new one opens first (a device that cannot open leaves the old one in
   * use and rejects), a published and enabled kind's sender switches over with
   * `replaceTrack` (no renegotiation: the server keeps the same track), then the old
   * device is stopped. A muted kind stays muted: its sender gets no track.
   */
  async useDevice(kind, deviceId) {
    this.deviceIds[kind] = deviceId || null;
    await this._reopen(kind);
  }

  /**
   * The microphone's processing: `{noiseSuppression, echoCancellation, autoGainControl}`
   * (booleans; a key left out keeps the browser's default). An open microphone is opened
   * again with them and replaces the published track the way `useDevice` does, so the
   * others hear the change without a renegotiation.
   */
  async setAudioProcessing(options) {
    const processing = {...(this.audioProcessing || {})};
    for (const key of ["noiseSuppression", "echoCancellation", "autoGainControl"]) {
      if (typeof options[key] === "boolean") processing[key] = options[key];
    }
    this.audioProcessing = processing;
    await this._reopen("audio");
  }

  /**
   * What the open camera's own platform can do: `{backgroundBlur: bool}`. Some browsers
   * and systems blur the background themselves (Chrome with the system's camera effects);
   * a camera track lists it in `getCapabilities().backgroundBlur` when it can be turned on.
   */
  videoEffectsAvailable() {
    const track = this.local.video;
    const caps = track && typeof track.getCapabilities === "function" ? track.getCapabilities() : {};
    return {backgroundBlur: Array.isArray(caps.backgroundBlur) && caps.backgroundBlur.includes(true)};
  }

  /**
   * Turn the browser's own camera effects on or off (`{backgroundBlur}`): applied to the
   * open camera with `applyConstraints` (the sender keeps its track, nothing is
   * renegotiated) where `videoEffectsAvailable()` says it can, and kept in `videoEffects`
   * for every later opening. Resolves with what the camera reports afterwards.
   */
  async setVideoEffects({backgroundBlur} = {}) {
    if (typeof backgroundBlur === "boolean") this.videoEffects = {...this.videoEffects, backgroundBlur};
    const track = this.local.video;
    if (track && this.videoEffectsAvailable().backgroundBlur) {
      await track.applyConstraints({...track.getConstraints(), ...this.videoEffects});
    }
    const settings = track ? track.getSettings() : {};
    return {backgroundBlur: settings.backgroundBlur === true};
  }

  /** Open `kind` again with the current choice and put it where the old track was. */
  async _reopen(kind) {
    // Closed (a camera turned off): the choice applies when it opens. An open track that
    // ended by itself (its device unplugged) is opened again.
    if (!this.local[kind]) return;
    mediaDevices("getUserMedia");
    const stream = await navigator.mediaDevices.getUserMedia({[kind]: this._constraints(kind)});
    const [track] = stream.getTracks();
    await this.pubSerial.run(async () => {
      if (!this.local[kind]) { track.stop(); return; }  // turned off meanwhile: stays off
      const tx = this.pubTx[kind];
      if (tx && this.published[kind] && this.enabled[kind]) await tx.sender.replaceTrack(track);
      this._setLocal(kind, track);
    });
  }

  stopDevices() {
    for (const kind of KINDS) this._setLocal(kind, null);
  }

  /** A MediaStream of the local microphone and camera (for a preview). */
  localStream() {
    return new MediaStream([this.local.audio, this.local.video].filter((t) => t && t.readyState === "live"));
  }

  _live(kind) { return this.local[kind] && this.local[kind].readyState === "live"; }

  _setLocal(kind, track) {
    if (this.closed && track) {  // opened while the session closed (Leave during a prompt)
      track.stop();
      return;
    }
    const old = this.local[kind];
    if (old && old !== track) old.stop();
    this.local[kind] = track;
    this._emit("localtrack", {kind, track});
  }

  async _openDevice(kind) {
    if (this._live(kind)) return this.local[kind];
    if (kind === "screenshare") {
      mediaDevices("getDisplayMedia");
      const {size: [width, height], frameRate} = this.capture("screenshare");
      const stream = await navigator.mediaDevices.getDisplayMedia({
        video: {frameRate: this.screenshareFrameRate ?? frameRate, width: {max: width}, height: {max: height}},
        audio: false});
      const track = stream.getVideoTracks()[0];
      track.addEventListener("ended", () => {  // "Stop sharing" in the browser's own UI
        if (this.published.screenshare && this.local.screenshare === track) this.unpublish("screenshare").catch(() => {});
      });
      this._setLocal("screenshare", track);
      return track;
    }
    await this.startDevices({audio: kind === "audio", video: kind === "video"});
    return this.local[kind];
  }

  // --- publishing --------------------------------------------------------------------------

  _ensurePubPc() {
    if (this.closed) throw new SalonError("CLOSED", "the media session is closed");
    if (this.pubPc) return this.pubPc;
    const pc = new RTCPeerConnection(this._rtcConfig());
    pc.addEventListener("icecandidate", (e) => this.pubTrickle.candidate(e.candidate));
    pc.addEventListener("connectionstatechange", () => {
      this._emit("transport", {pc: "publish", state: pc.connectionState, by: "client"});
    });
    this.pubPc = pc;
    return pc;
  }

  /**
   * What the peer's preset says `kind` ("video" or "screenshare") is captured at: `size`
   * [width, height], the largest picture, and `frameRate`, the most frames a second
   * (the join reply's media.video / media.screenshare, RealtimeKit's preset
   * config.media).
   */
  capture(kind) {
    const config = this.client && this.client.mediaConfig;
    const {quality, frame_rate: frameRate} = (config && config[kind]) || CAPTURE[kind];
    return {size: QUALITY[quality] || QUALITY[CAPTURE[kind].quality], frameRate};
  }

  /**
   * A camera opened before the join reply named the preset (the page's pre-join
   * preview) is asked again for the preset's size and frame rate; one that cannot
   * change keeps what it has (the encodings are scaled from what it gives).
   */
  async _fitCamera(track) {
    if (!track || track.readyState !== "live" || typeof track.applyConstraints !== "function") return;
    const {deviceId, ...wanted} = this._constraints("video", {exact: false});
    const now = track.getSettings();
    if (now.width === wanted.width && now.height === wanted.height
        && !(now.frameRate > wanted.frameRate + 0.5)) return;
    try {
      await track.applyConstraints(wanted);
    } catch {
      // this camera cannot: it is sent as it is
    }
  }

  /** Whether the camera goes out as simulcast: the server accepts it (VP8 or H.264). */
  _simulcastCamera() {
    const config = this.client && this.client.mediaConfig;
    return Boolean(this.simulcast && config && config.simulcast);
  }

  /**
   * A sending transceiver for `kind`. The camera: as simulcast when the server accepts it
   * (three encodings, `q` a quarter of the size, `h` half, `f` whole: the server forwards
   * each subscriber the one that fits), each with temporal layers (`cameraLayers`, L1T3
   * by default: 7.5, 15 and 30 fps in one stream, so the server can also drop frames
   * without re-encoding); a browser that refuses a mode gets the next simpler one (no
   * temporal layers, then one encoding). Screenshare: one encoding, detail over frame
   * rate (`contentHint`, `degradationPreference`).
   */
  _addSender(pc, kind, track) {
    const tries = [];
    const {size: [, height], frameRate: maxFramerate} = this.capture("video");
    const layers = this.cameraLayers ? {scalabilityMode: this.cameraLayers} : {};
    if (kind === "video" && this._simulcastCamera()) {
      // the top encoding at the preset's quality, scaled from what the camera gives
      const captured = (track && track.getSettings && track.getSettings().height) || SIMULCAST_CAPTURE[1];
      const top = Math.max(1, captured / height);
      const encodings = (extra) => SIMULCAST.map(([rid, scale]) => ({rid, scaleResolutionDownBy: scale * top,
                                                                     maxFramerate, ...extra}));
      // H.264 (OpenH264 in Chromium) gets no temporal layers: the encodings alone
      if (this.cameraLayers && this.codecPreference !== "h264") tries.push(encodings(layers));
      tries.push(encodings({}));
    }
    if (kind === "video" && this.cameraLayers && this.codecPreference !== "h264") tries.push([{...layers, maxFramerate}]);
    if (kind === "video") tries.push([{maxFramerate}]);
    tries.push(null);
    if (kind === "screenshare" && track && "contentHint" in track) track.contentHint = "detail";
    let tx;
    for (const sendEncodings of tries) {
      try {
        tx = pc.addTransceiver(track || (kind === "audio" ? "audio" : "video"),
          sendEncodings ? {direction: "sendonly", sendEncodings} : {direction: "sendonly"});
        break;
      } catch (error) {
        if (!sendEncodings) throw error;  // this browser cannot send these encodings
      }
    }
    if (kind === "screenshare") this._keepResolution(tx.sender);
    this._preferCodecs(tx, kind);
    return tx;
  }

  /** The server pauses the camera's simulcast encodings nobody receives and resumes one
   * as soon as someone does (`media.encodings`; encodings.js). */
  _encodingsAsked({track_id: trackId, encodings}) {
    const kind = Object.keys(this.published).find((k) => this.published[k] && this.published[k].track_id === trackId);
    const tx = kind && this.pubTx[kind];
    if (!tx) return;
    this.pubSerial.run(() => applyEncodings(tx.sender, encodings))
      .catch((error) => this._emit("error", {during: "media.encodings", error}));
  }

  /** A congested screenshare drops frames, never resolution (text must stay legible). */
  _keepResolution(sender) {
    try {
      const params = sender.getParameters();
      params.degradationPreference = "maintain-resolution";
      sender.setParameters(params).catch(() => {});
    } catch (error) { /* a browser without the setting: contentHint still asks for it */ }
  }

  // --- what this peer receives: data saver and rendered sizes -------------------------------

  /**
   * Data saver: receive every camera at its lowest layer only (the server's choice
   * otherwise follows this peer's bandwidth and tile sizes). Sent as `media.prefer`.
   */
  async setDataSaver(on) {
    this.dataSaver = Boolean(on);
    if (this.client) await this.client.request("media.prefer", {data_saver: this.dataSaver});
  }

  /**
   * Tell the server how tall `element` shows the remote track `trackId` (followed with a
   * ResizeObserver until `unobserveTile`): a thumbnail never gets the top layer, a hidden
   * tile only the base layer. Changes are sent at most every 500 ms, in 60 px steps.
   */
  observeTile(trackId, element) {
    if (!element) return;
    this._tiles.set(element, trackId);
    if (this._sizes) this._sizes.observe(element);
    this._sizesChanged();
  }

  unobserveTile(element) {
    if (!element || !this._tiles.has(element)) return;
    this._tiles.delete(element);
    if (this._sizes) this._sizes.unobserve(element);
  }

  _sizesChanged() {
    if (this._sizeTimer || this.closed || !this.client) return;
    this._sizeTimer = setTimeout(() => {
      this._sizeTimer = null;
      const heights = {};
      for (const [element, trackId] of this._tiles) {
        const shown = element.isConnected && element.getClientRects().length > 0;
        const px = shown ? Math.round(element.getBoundingClientRect().height / 60) * 60 : 0;
        heights[trackId] = Math.max(heights[trackId] || 0, Math.min(px, 10000));
      }
      const changed = Object.entries(heights).filter(([t, px]) => this._heights.get(t) !== px);
      if (!changed.length) return;
      for (const [t, px] of changed) this._heights.set(t, px);
      this.client.request("media.prefer", {heights: Object.fromEntries(changed.slice(0, 100))})
        .catch(() => this._heights.clear());  // told again on the next change
    }, 500);
  }

  _preferCodecs(transceiver, kind) {
    if (typeof RTCRtpSender.getCapabilities !== "function" || !transceiver.setCodecPreferences) return;
    const media = kind === "audio" ? "audio" : "video";
    const allowed = (this.config.codecs || {})[media] || (media === "audio" ? ["opus"] : ["VP8", "H264"]);
    let names = allowed.map((n) => `${media}/${n}`.toLowerCase());
    if (media === "video" && this.codecPreference === "h264") {
      names = [...names.filter((n) => n.endsWith("h264")), ...names.filter((n) => !n.endsWith("h264"))];
    }
    const caps = (RTCRtpSender.getCapabilities(media) || {codecs: []}).codecs;
    const chosen = [];
    for (const name of names) {
      for (const codec of caps) {
        if (codec.mimeType.toLowerCase() !== name) continue;
        if (name.endsWith("h264")) {
          const fmtp = codec.sdpFmtpLine || "";
          if (!/packetization-mode=1/.test(fmtp) || !/profile-level-id=42(00|e0)1f/.test(fmtp)) continue;
        }
        chosen.push(codec);
      }
    }
    chosen.push(...caps.filter((c) => c.mimeType.toLowerCase() === `${media}/rtx`));
    try {
      if (chosen.length) transceiver.setCodecPreferences(chosen);
    } catch (_) { /* the browser keeps its own order; the server picks what it supports */ }
  }

  /**
   * Publish kinds (default: the open microphone and camera). Only kinds the peer may
   * publish now (`self.can_publish`) are offered; resolves with the kinds published.
   * Devices are opened as needed (screenshare: the browser's picker).
   */
  publish(kinds) {
    let asked = kinds || ["audio", "video"].filter((k) => this._live(k));
    if (typeof asked === "string") asked = [asked];
    asked = asked.filter((k) => KINDS.includes(k));
    for (const kind of asked) this.wanted[kind] = true;
    return this.pubSerial.run(() => this._publishNow(asked));
  }

  /** Whether the caller still wants this kind sent (its latest choice is not "off"). */
  _stillWanted(kind) { return this.wanted[kind] !== false; }

  async _publishNow(asked) {
    if (!this.available) throw new SalonError("CONFLICT", "Media is disabled on this server.");
    const serial = this.pubSerial;  // the queue this step runs in
    const rights = this.client.canPublish;
    let wanted = asked.filter((k) => rights[k] && !this.published[k] && this._stillWanted(k));
    if (!wanted.length) return [];
    const devices = wanted.filter((k) => k !== "screenshare" && !this._live(k));
    if (devices.length) await this.startDevices({audio: devices.includes("audio"), video: devices.includes("video")});
    if (wanted.includes("screenshare")) await this._openDevice("screenshare");
    // Turned off while the devices opened: the camera closes again, nothing is offered.
    if (wanted.includes("video") && !this._stillWanted("video") && !this.enabled.video) this._setLocal("video", null);
    wanted = wanted.filter((k) => this._stillWanted(k));
    if (!wanted.length) return [];
    if (wanted.includes("video")) await this._fitCamera(this.local.video);
    // A move (or close) while the devices opened: the connection to offer on is gone,
    // and the move publishes again what is wanted.
    if (serial.dead || this.closed || this._leaving) return [];
    const pc = this._ensurePubPc();
    for (const kind of wanted) {
      const track = this.local[kind];
      let tx = this.pubTx[kind];
      if (tx && tx.currentDirection !== "stopped" && !tx.stopped) {
        await tx.sender.replaceTrack(track);
        tx.direction = "sendonly";
        // published again: the server's new track has every encoding active (encodings.js)
        await resetEncodings(tx.sender).catch(() => {});
      } else {
        // (no track: turned off during an await above; dropped before the offer goes out)
        tx = this._addSender(pc, kind, track);
        this.pubTx[kind] = tx;
      }
    }
    let sent;
    try {
      sent = await this._negotiatePublish(Object.keys(this.published), wanted);
    } catch (error) {
      if (pc !== this.pubPc) return [];  // closed under us (a move): the senders are gone
      for (const kind of wanted) await this._park(kind);
      throw error;
    }
    if (pc !== this.pubPc) return [];
    for (const kind of wanted) if (!sent.includes(kind)) await this._park(kind);
    // A kind turned off while its offer was in flight stays off: `enabled` false and no
    // track on its sender; the `self.media` of that setEnabled(…, false) follows.
    for (const kind of sent) this.enabled[kind] = this._stillWanted(kind);
    if (sent.length) this._emit("published", {kinds: sent, tracks: {...this.published}});
    return sent;
  }

  /** A sender that will not send: no track, its m-line inactive (reused later). */
  async _park(kind) {
    const tx = this.pubTx[kind];
    if (!tx) return;
    tx.direction = "inactive";
    await tx.sender.replaceTrack(null).catch(() => {});
  }

  /**
   * Offer the `kept` kinds (already published) and the `fresh` ones; resolves with the
   * fresh kinds that went out. Fresh kinds turned off while the offer was being made are
   * dropped and the offer made again, so what goes to the server is the latest choice at
   * the moment it is sent (nothing is offered when no kind is left).
   */
  async _negotiatePublish(kept, fresh = []) {
    const pc = this.pubPc;
    for (;;) {
      if (!kept.length && !fresh.length) return [];
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      await gathered(pc);  // resolves on its timer even for a connection closed meanwhile
      if (pc !== this.pubPc || this.closed) return [];
      const dropped = fresh.filter((k) => !this._stillWanted(k));
      if (dropped.length) {
        await pc.setLocalDescription({type: "rollback"}).catch(() => {});
        for (const kind of dropped) await this._park(kind);
        fresh = fresh.filter((k) => !dropped.includes(k));
        continue;
      }
      // From here to the request nothing awaits: the choice checked is the one sent.
      const sdp = pc.localDescription.sdp;
      const tracks = {};
      for (const kind of [...kept, ...fresh]) {
        const tx = this.pubTx[kind];
        if (tx && tx.mid !== null) tracks[tx.mid] = kind;
      }
      this.pubTrickle.offered(sdp);
      let reply;
      try {
        reply = await this.client.request("media.publish", {sdp, tracks});
      } catch (error) {
        if (pc.signalingState === "have-local-offer") await pc.setLocalDescription({type: "rollback"}).catch(() => {});
        throw error;
      }
      if (pc !== this.pubPc) return [];  // closed while the server answered (a move)
      await pc.setRemoteDescription({type: "answer", sdp: reply.sdp});
      this.pubTrickle.signalled();
      for (const track of reply.tracks || []) {
        const kind = track.kind || tracks[track.mid];
        if (kind) this.published[kind] = track;
      }
      return fresh;
    }
  }

  /** Share the screen (the browser asks which); `publish(["screenshare"])`. */
  publishScreen() { return this.publish(["screenshare"]); }

  /** Stop publishing a kind: the m-line goes inactive and is reused next time. */
  unpublish(kind, {request = true} = {}) {
    this.wanted[kind] = false;
    return this.pubSerial.run(async () => {
      if (!this.published[kind]) return;
      delete this.published[kind];
      this.enabled[kind] = false;
      const tx = this.pubTx[kind];
      if (tx) {
        await tx.sender.replaceTrack(null).catch(() => {});
        tx.direction = "inactive";
      }
      if (kind === "screenshare") this._setLocal("screenshare", null);
      this._emit("unpublished", {kind});
      if (request) await this.client.request("media.unpublish", {kinds: [kind]}).catch(() => {});
    });
  }

  /**
   * Turn a kind on or off; the latest call wins. On: publishes it if it is not yet (or
   * re-opens the device), then `self.media`; off: the sender stops at once (the camera
   * is closed, the microphone kept for a quick unmute), then `self.media` once any
   * publish in flight has settled.
   */
  async setEnabled(kind, on) {
    if (on) {
      if (!this.client.canPublish[kind]) {
        throw new SalonError("FORBIDDEN", `this peer may not publish ${kind} now`);
      }
      this.wanted[kind] = true;
      const serial = this.pubSerial;
      await serial.run(async () => {
        if (!this._stillWanted(kind)) return;  // turned off again meanwhile: that wins
        if (!this.published[kind]) {
          await this._publishNow([kind]);
          return;
        }
        const track = await this._openDevice(kind);
        if (serial.dead) return;  // moved meanwhile: the move publishes what is wanted
        if (!this._stillWanted(kind)) {
          if (kind === "video") this._setLocal("video", null);
          return;
        }
        await this.pubTx[kind].sender.replaceTrack(track);
        this.pubTx[kind].direction = "sendonly";
        await this.client.setMedia({[kind]: true});
        if (!this._stillWanted(kind)) return;
        this.enabled[kind] = true;
        this._emit("enabled", {kind, on: true});
      });
    } else {
      if (kind === "screenshare") {
        await this.unpublish("screenshare");
        return;
      }
      // At once, whatever is in flight: nothing more is sent, the camera light goes off.
      this.wanted[kind] = false;
      this.enabled[kind] = false;
      await this._silence(kind);
      this._emit("enabled", {kind, on: false});
      // Then the server, after any publish in flight (which may just have turned it on).
      await this.pubSerial.run(async () => {
        if (this._stillWanted(kind)) return;  // turned on again meanwhile
        await this._silence(kind);
        const serverOn = this.published[kind] || (this.client.self && this.client.self[kind]);
        if (serverOn) await this.client.setMedia({[kind]: false}).catch(() => {});
      });
    }
  }

  async _silence(kind) {
    const tx = this.pubTx[kind];
    if (tx) await tx.sender.replaceTrack(null).catch(() => {});
    if (kind === "video") this._setLocal("video", null);  // the camera light goes off
  }

  _disabledByHost({kinds}) {
    for (const kind of kinds || []) {
      if (kind === "screenshare") {
        this.unpublish("screenshare", {request: false}).catch(() => {});
        continue;
      }
      this.wanted[kind] = false;
      if (!this.enabled[kind]) continue;
      this.enabled[kind] = false;
      this._silence(kind);
      this._emit("enabled", {kind, on: false, byHost: true});
    }
  }

  _rightsChanged(canPublish) {
    for (const kind of KINDS) {
      if (this.published[kind] && canPublish[kind] === false) {
        this.unpublish(kind).catch(() => {});
        if (kind !== "screenshare") this._setLocal(kind, null);
        this._emit("revoked", {kind});
      }
    }
  }

  // --- subscribing -------------------------------------------------------------------------

  _ensureSubPc() {
    if (this.closed) throw new SalonError("CLOSED", "the media session is closed");
    if (this.subPc) return this.subPc;
    const pc = new RTCPeerConnection(this._rtcConfig());
    pc.addEventListener("icecandidate", (e) => this.subTrickle.candidate(e.candidate));
    pc.addEventListener("connectionstatechange", () => {
      this._emit("transport", {pc: "subscribe", state: pc.connectionState, by: "client"});
    });
    this.subPc = pc;
    return pc;
  }

  _offered(data) {
    this.client._lastOffer = null;
    // Between meeting.changing and meeting.changed an offer is the old room's, made
    // before the move began; the new room offers after meeting.changed.
    if (this._leaving) return Promise.resolve();
    return this.subSerial.run(() => this._answer(data)).catch((error) => {
      if (error instanceof SalonError && error.code === "CLOSED") {
        this._answerLost = true;  // the WebSocket dropped: start over once resumed
        return;
      }
      this._emit("error", {during: "media.subscribe_offer", error});
      // The server waits for an answer that will not come: start the connection over,
      // at most twice a minute so a persistent problem cannot loop.
      const now = Date.now();
      this.subFailures = (this.subFailures || []).filter((t) => now - t < 60000);
      if (this.subFailures.length < 2 && !this.closed) {
        this.subFailures.push(now);
        this.reset("subscribe").catch(() => {});
      }
    });
  }

  async _answer(offer) {
    if (this.closed) return;
    // After a reset or a move the server numbers its offers from 1 on a new connection:
    // one made for the connection before (sent before the server saw the reset) is stale.
    if (this._freshOffer && offer.revision !== 1) return;
    this._freshOffer = false;
    if (this.subPc && offer.revision <= this._subRevision) {
      // The server started over (a new connection at revision 1) without our reset.
      this.subPc.close();
      this.subPc = null;
      for (const trackId of [...this.remote.keys()]) this._ended(trackId);
    }
    this._subRevision = offer.revision;
    const pc = this._ensureSubPc();
    try {
      await this._answerOn(pc, offer);
    } catch (error) {
      if (pc === this.subPc) throw error;  // else it closed under us (a move or a reset)
    }
  }

  async _answerOn(pc, {sdp, revision, tracks}) {
    await pc.setRemoteDescription({type: "offer", sdp});
    if (pc !== this.subPc) return;
    this.subMids = tracks || {};
    this._reconcile();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await gathered(pc);
    if (pc !== this.subPc) return;  // an answer from a closed connection would only mislead
    const local = pc.localDescription.sdp;
    this.subTrickle.offered(local);
    try {
      await this.client.request("media.subscribe_answer", {sdp: local, revision});
    } catch (error) {
      if (!(error instanceof SalonError && error.code === "CONFLICT")) throw error;
      return;  // a newer offer is on its way
    }
    this.subTrickle.signalled();
  }

  /** Remote tracks from the offer's mid map: new ones `track`, gone or replaced `trackended`. */
  _reconcile() {
    const byMid = new Map();
    for (const tx of this.subPc.getTransceivers()) if (tx.mid !== null) byMid.set(tx.mid, tx);
    const current = new Map();
    for (const [mid, entry] of Object.entries(this.subMids)) {
      if (entry && byMid.has(mid)) current.set(entry.track_id, {mid, entry});
    }
    for (const rec of [...this.remote.values()]) {
      const now = current.get(rec.trackId);
      if (!now || now.mid !== rec.mid) this._ended(rec.trackId);
    }
    for (const [trackId, {mid, entry}] of current) {
      if (this.remote.has(trackId)) continue;
      const tx = byMid.get(mid);
      const rec = {trackId, peerId: entry.peer_id, kind: entry.kind, mid,
                   track: tx.receiver.track, transceiver: tx};
      this.remote.set(trackId, rec);
      this._emit("track", rec);
    }
  }

  _ended(trackId) {
    const rec = this.remote.get(trackId);
    if (!rec) return;
    this.remote.delete(trackId);
    this._emit("trackended", rec);
  }

  /** Remote tracks now: [{trackId, peerId, kind, mid, track}]. */
  tracks() { return [...this.remote.values()]; }

  /** {mode: "auto"|"manual", trackIds?, device?} → what will be received. */
  subscribe({mode = "auto", trackIds, device} = {}) {
    const data = {mode};
    if (trackIds) data.track_ids = trackIds;
    if (device) data.device = device;
    return this.client.request("media.subscribe", data);
  }

  _remoteCandidate({pc, candidate}) {
    const target = pc === "publish" ? this.pubPc : this.subPc;
    if (!target) return;
    target.addIceCandidate(candidate || null).catch(() => {});
  }

  /** Replace a failed connection (media.reset): publish again on a new one, or await a new offer. */
  async reset(which) {
    if (this.resetting[which] || this.closed) return;
    this.resetting[which] = true;
    try {
      if (which === "subscribe") {
        // Inside the subscribe queue, so the server's new offer (revision 1), which may
        // come before the reply, is applied to a new connection.
        await this.subSerial.run(async () => {
          if (this.subPc) this.subPc.close();
          this.subPc = null;
          this.subMids = {};
          this._subRevision = 0;
          this._freshOffer = true;
          this.subTrickle = new Trickle(this.client, "subscribe");
          for (const trackId of [...this.remote.keys()]) this._ended(trackId);
          await this.client.request("media.reset", {pc: "subscribe"});
        });
      } else {
        const serial = this.pubSerial;
        await serial.run(async () => {
          const kinds = Object.keys(this.published);
          if (this.pubPc) this.pubPc.close();
          this.pubPc = null;
          this.pubTx = {};
          this.pubTrickle = new Trickle(this.client, "publish");
          await this.client.request("media.reset", {pc: "publish"});
          if (!kinds.length || serial.dead) return;
          const pc = this._ensurePubPc();
          for (const kind of kinds) {
            const track = this.enabled[kind] ? this.local[kind] : null;
            const tx = this._addSender(pc, kind, track);
            this.pubTx[kind] = tx;
          }
          this.published = {};
          await this._negotiatePublish(kinds);
          // The new connection's publish turned every kind on at the server: the
          // muted ones go off again.
          const muted = kinds.filter((k) => k !== "screenshare" && !this.enabled[k]);
          if (muted.length) await this.client.setMedia(Object.fromEntries(muted.map((k) => [k, false]))).catch(() => {});
        });
      }
    } finally {
      this.resetting[which] = false;
    }
  }

  // --- moving to another meeting (breakout rooms) -----------------------------------------

  /** Our old peer's connections close on the server: drop ours, keep the devices.
   * `leaving`: on meeting.changing, until meeting.changed or meeting.change_failed. */
  _moving({leaving = false} = {}) {
    this._leaving = leaving;
    this._freshOffer = true;
    this._subRevision = 0;
    if (this._wasPublishing === undefined || this._wasPublishing === null) {
      this._wasPublishing = Object.keys(this.published).filter((k) => k !== "screenshare" && this.enabled[k]);
    }
    for (const trackId of [...this.remote.keys()]) this._ended(trackId);
    if (this.pubPc) this.pubPc.close();
    if (this.subPc) this.subPc.close();
    this.pubPc = this.subPc = null;
    this.pubTx = {};
    this.subMids = {};
    for (const kind of Object.keys(this.published)) this._emit("unpublished", {kind});
    this.published = {};
    this._setLocal("screenshare", null);
    this.pubTrickle = new Trickle(this.client, "publish");
    this.subTrickle = new Trickle(this.client, "subscribe");
    // A promise of a connection closed mid-operation may never settle (the WebRTC spec
    // abandons it): the new connections must not queue behind the old ones' steps, and
    // the old steps must not act on the new connections.
    this.pubSerial.kill();
    this.subSerial.kill();
    this.pubSerial = new Serial();
    this.subSerial = new Serial();
    this.resetting = {};
  }

  /** What to publish again after a move: what was sent, and what was being turned on,
   * but never what the person has turned off since. */
  _republishing() {
    const kinds = new Set(this._wasPublishing || []);
    for (const kind of ["audio", "video"]) if (this.wanted[kind] === true) kinds.add(kind);
    this._wasPublishing = null;
    return [...kinds].filter((k) => this.wanted[k] !== false);
  }

  /** The move failed (meeting.change_failed): we are still the old room's peer, whose
   * connections the server kept while ours closed. Start both over there. */
  _stayed() {
    if (!this._leaving) return;
    this._leaving = false;
    const kinds = this._republishing();
    this.reset("subscribe").catch(() => {});  // the server offers again, at revision 1
    this.pubSerial.run(async () => {
      await this.client.request("media.reset", {pc: "publish"});
      if (kinds.length) await this._publishNow(kinds);
    }).catch((error) => this._emit("error", {during: "republish", error}));
  }

  /** The new meeting's peer: publish again what we were sending, where it is allowed. */
  _moved() {
    this._moving();  // synchronous: the new room's offers come after this event
    const kinds = this._republishing();
    this._emit("moved", {republish: kinds});
    if (kinds.length) {
      this.pubSerial.run(() => this._publishNow(kinds))
        .catch((error) => this._emit("error", {during: "republish", error}));
    }
  }

  // --- stats ---------------------------------------------------------------------------------

  /** Client-side counters: {inbound: [...per remote track], outbound: [...per published kind]}. */
  async stats() {
    const inbound = [];
    for (const rec of this.remote.values()) {
      const report = await rec.transceiver.receiver.getStats().catch(() => null);
      const row = {trackId: rec.trackId, peerId: rec.peerId, kind: rec.kind, mid: rec.mid,
                   framesDecoded: 0, packetsReceived: 0, bytesReceived: 0, packetsLost: 0};
      if (report) {
        report.forEach((s) => {
          if (s.type !== "inbound-rtp") return;
          row.framesDecoded = s.framesDecoded || 0;
          row.framesReceived = s.framesReceived || 0;
          row.framesPerSecond = s.framesPerSecond || 0;
          row.framesDropped = s.framesDropped || 0;
          row.packetsReceived = s.packetsReceived || 0;
          row.bytesReceived = s.bytesReceived || 0;
          row.packetsLost = s.packetsLost || 0;
          row.jitter = s.jitter || 0;
          row.codec = s.codecId || null;
        });
      }
      inbound.push(row);
    }
    const outbound = [];
    for (const [kind, info] of Object.entries(this.published)) {
      const tx = this.pubTx[kind];
      const report = tx ? await tx.sender.getStats().catch(() => null) : null;
      const row = {kind, trackId: info.track_id, packetsSent: 0, bytesSent: 0, framesEncoded: 0};
      if (report) {
        report.forEach((s) => {
          if (s.type !== "outbound-rtp") return;
          row.packetsSent = s.packetsSent || 0;
          row.bytesSent = s.bytesSent || 0;
          row.framesEncoded = s.framesEncoded || 0;
        });
      }
      outbound.push(row);
    }
    return {inbound, outbound, uplink: await this._uplink()};
  }

  /**
   * The publish connection's path now: `{roundTripTime, availableOutgoingBitrate}` of
   * its selected candidate pair (seconds, bits/s) and `fractionLost` as the server
   * reports it back (RTCP, the worst published kind); null before publishing.
   */
  async _uplink() {
    if (!this.pubPc || !Object.keys(this.published).length) return null;
    const report = await this.pubPc.getStats().catch(() => null);
    if (!report) return null;
    const out = {roundTripTime: null, availableOutgoingBitrate: null, fractionLost: null};
    let pairId = null;
    report.forEach((s) => { if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
    report.forEach((s) => {
      if (s.type === "candidate-pair" && (s.id === pairId || (!pairId && s.nominated && s.state === "succeeded"))) {
        if (typeof s.currentRoundTripTime === "number") out.roundTripTime = s.currentRoundTripTime;
        if (typeof s.availableOutgoingBitrate === "number") out.availableOutgoingBitrate = s.availableOutgoingBitrate;
      }
      if (s.type === "remote-inbound-rtp" && typeof s.fractionLost === "number") {
        out.fractionLost = Math.max(out.fractionLost || 0, s.fractionLost);
      }
    });
    return out;
  }

  /** Server-side counters of this peer's tracks (or another's, with kick_participant). */
  serverStats(peerId) {
    return this.client.request("media.stats", peerId ? {peer_id: peerId} : {});
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
