// salon browser SDK, media: local devices. Opening the microphone, camera and screen
// (`startDevices`, `_openDevice`), choosing and reopening them (`useDevice`, audio
// processing, the browser's own video effects), the getUserMedia constraints and the
// preset's capture size and frame rate (`capture`, fitting a camera opened before the join).

import { SalonError } from "../salon.js";

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

/** The kinds a peer publishes, each from a local device (screenshare: the screen). */
export const KINDS = ["audio", "video", "screenshare"];
/** A preset's `quality` as the largest picture, [width, height] (api.md, presets). */
const QUALITY = {qvga: [320, 240], vga: [640, 480], hd: [1280, 720], fhd: [1920, 1080], uhd: [3840, 2160]};
/** 960x540 is the least Chromium sends three simulcast encodings of (540p, 270p,
 * 135p; 640x360 gives two): a simulcast camera is captured at least that large. */
export const SIMULCAST_CAPTURE = [960, 540];
/** The preset's defaults, for a server that does not say (protocol.md, MediaConfig). */
const CAPTURE = {video: {quality: "vga", frame_rate: 30}, screenshare: {quality: "hd", frame_rate: 5}};

// MediaSession's methods: media.js copies them onto MediaSession.prototype (this class is
// never instantiated), so `this` is the session and every field is the session's.
export class DeviceMethods {
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
}
