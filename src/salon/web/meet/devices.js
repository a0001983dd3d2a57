// Device logic of the meeting page: the remembered choices, the microphone level meter,
// the speaker (audio output) and the pre-join screen's additions. The settings sheet
// (settings.js) and the pre-join screen (prejoin.js) both use it.
//
// Choices are kept in localStorage (`salon.devices`: {audio, video, speaker,
// noiseSuppression, backgroundBlur}) so the next join starts with them; one that no longer names a
// device falls back to the default (the SDK's `devicefallback`, or `devicechange` here)
// with a notice.

import { h } from "/sdk/v1/ui/dom.js";
import { message } from "/meet/messages.js";

const STORE = "salon.devices";

/** The remembered choices ({audio, video, speaker, noiseSuppression, backgroundBlur}; missing: none). */
export function loadChoices() {
  try {
    return JSON.parse(localStorage.getItem(STORE) || "{}") || {};
  } catch (_) {
    return {};  // storage off (private mode) or unreadable: no choices
  }
}

/** Remember `changes` on top of the earlier choices (null forgets a device). */
export function saveChoices(changes) {
  const next = {...loadChoices(), ...changes};
  try { localStorage.setItem(STORE, JSON.stringify(next)); } catch (_) { /* not kept: fine */ }
  return next;
}

/** Put the remembered choices into a MediaSession before it opens devices. */
export function restoreChoices(media) {
  const choices = loadChoices();
  for (const kind of ["audio", "video"]) if (choices[kind] && !media.deviceIds[kind]) media.deviceIds[kind] = choices[kind];
  if (typeof choices.noiseSuppression === "boolean") media.audioProcessing = {...media.audioProcessing, noiseSuppression: choices.noiseSuppression};
  if (typeof choices.backgroundBlur === "boolean") media.videoEffects = {...media.videoEffects, backgroundBlur: choices.backgroundBlur};
}

/** Whether this browser can choose where audio plays (Chromium's `setSinkId`). */
export const canChooseSpeaker = () => typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;

/** Inputs and outputs: {audio, video, speaker: [{deviceId, label}]} (labels once allowed). */
export async function listDevices() {
  // No mediaDevices (a page over plain http, secure_origin.js): no devices to list.
  const all = navigator.mediaDevices ? await navigator.mediaDevices.enumerateDevices().catch(() => []) : [];
  const names = {audioinput: "device.mic", videoinput: "device.camera", audiooutput: "device.speaker"};
  const pick = (kind) => all.filter((d) => d.kind === kind && d.deviceId)
    .map((d, i) => ({deviceId: d.deviceId, label: d.label || `${message(names[kind])} ${i + 1}`}));
  return {audio: pick("audioinput"), video: pick("videoinput"), speaker: pick("audiooutput")};
}

/** Fill a <select> with devices, the `current` one chosen (else the first). */
export function fillSelect(select, devices, current) {
  select.replaceChildren(...devices.map((d) => h("option", {value: d.deviceId, selected: d.deviceId === current}, d.label)));
}

/**
 * The chosen speaker for every <audio> in `sinks`, now and as they are added (app.js's
 * `attachTrack` adds one per remote audio track). Returns {set(deviceId), get()}.
 */
export function speakerFor(sinks) {
  let chosen = loadChoices().speaker || "";
  const apply = (el) => {
    if (!canChooseSpeaker() || el.sinkId === chosen) return;
    el.setSinkId(chosen).catch(() => {
      // The device is gone: the default output, and forget the choice.
      if (chosen) { chosen = ""; saveChoices({speaker: null}); el.setSinkId("").catch(() => {}); }
    });
  };
  const all = () => sinks.querySelectorAll("audio").forEach(apply);
  new MutationObserver(all).observe(sinks, {childList: true, subtree: true});
  all();
  return {
    get: () => chosen,
    set(deviceId) {
      chosen = deviceId || "";
      saveChoices({speaker: chosen || null});
      all();
    },
  };
}

/** A short tone through `deviceId` (the "Test speaker" button); resolves when it ends. */
export async function playTestTone(deviceId, ms = 600) {
  const context = new AudioContext();
  try {
    const tone = context.createOscillator();
    const gain = context.createGain();
    const out = context.createMediaStreamDestination();
    tone.frequency.value = 660;
    gain.gain.value = 0.2;
    tone.connect(gain).connect(out);
    const el = new Audio();
    el.srcObject = out.stream;
    if (deviceId && canChooseSpeaker()) await el.setSinkId(deviceId);
    tone.start();
    await el.play();
    await new Promise((resolve) => setTimeout(resolve, ms));
    tone.stop();
    el.srcObject = null;
  } finally {
    context.close();
  }
}

/**
 * A microphone level meter: the loudness of `track()` (called each tick: the track may be
 * replaced by a device switch), 0 to 1, in `meter` (a <meter>, and aria-valuenow for
 * assistive tech), ten times a second. 0 when `muted()` says so, because a muted
 * microphone stays open for a quick unmute and would otherwise look like it is heard.
 * Runs until `stop()` or until `running()` turns false.
 */
export class MicLevel {
  constructor(meter, {track, muted = () => false, running = () => true}) {
    this.meter = meter;
    this.track = track;
    this.muted = muted;
    this.running = running;
    this.context = null;
    this.source = null;
    this.sourceTrack = null;
    this.analyser = null;
    this.timer = setInterval(() => this.tick(), 100);
  }

  tick() {
    if (!this.running()) { this.stop(); return; }
    const track = this.track();
    const live = track && track.readyState === "live" ? track : null;
    let level = 0;
    if (live && !this.muted()) {
      this.listen(live);
      const samples = new Float32Array(this.analyser.fftSize);
      this.analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const v of samples) sum += v * v;
      // RMS scaled so speech sits mid-scale (about -30 dBFS reads 0.5).
      level = Math.min(1, Math.sqrt(sum / samples.length) * 16);
    }
    this.show(level);
  }

  /** Analyse `track` (a new AudioContext source when the track changed). */
  listen(track) {
    if (this.sourceTrack === track) return;
    this.context ||= new AudioContext();
    if (this.context.state === "suspended") this.context.resume().catch(() => {});
    if (this.source) this.source.disconnect();
    this.analyser ||= Object.assign(this.context.createAnalyser(), {fftSize: 1024});
    this.source = this.context.createMediaStreamSource(new MediaStream([track]));
    this.source.connect(this.analyser);
    this.sourceTrack = track;
  }

  show(level) {
    const value = Math.round(level * 100) / 100;
    this.meter.value = value;
    this.meter.setAttribute("aria-valuenow", String(value));
  }

  stop() {
    clearInterval(this.timer);
    if (this.source) this.source.disconnect();
    if (this.context) this.context.close().catch(() => {});
    this.context = this.source = this.sourceTrack = this.analyser = null;
    this.show(0);
  }
}

/** A level <meter> labelled for assistive tech. */
export function levelMeter(testid) {
  return h("meter", {class: "mic-level", min: 0, max: 1, low: 0.1, high: 0.85, optimum: 0.5, value: 0,
                     "aria-valuemin": "0", "aria-valuemax": "1", "aria-valuenow": "0",
                     "aria-label": message("device.level"), dataset: {testid}});
}

/**
 * The pre-join screen's additions: a Speaker select with "Test speaker" (where the
 * browser can choose), a microphone level meter, and the remembered choices: the
 * preview session starts with them, and the Microphone / Camera selects' changes are
 * remembered. `after`: the row of those selects; `muted()`: the microphone is off.
 */
export function prejoinDevices(preview, {after, muted}) {
  restoreChoices(preview);
  const notice = h("p", {class: "hint", role: "status", dataset: {testid: "device-notice"}});
  preview.on("devicefallback", ({kind}) => {
    saveChoices({[kind]: null});  // gone: not tried again next time
    notice.textContent = message(`device.fallback.${kind}`);
  });
  for (const [id, kind] of [["prejoin-mic-device", "audio"], ["prejoin-cam-device", "video"]]) {
    const select = document.getElementById(id);
    if (select) select.addEventListener("change", () => { notice.textContent = ""; saveChoices({[kind]: select.value || null}); });
  }
  const meter = levelMeter("prejoin-mic-level");
  const speaker = h("select", {id: "prejoin-speaker-device", dataset: {testid: "prejoin-speaker-device"}});
  const test = h("button", {type: "button", class: "small", dataset: {testid: "prejoin-speaker-test"}}, message("device.test_speaker"));
  const speakerField = h("label", {class: "field"}, message("settings.speaker"), speaker);
  const row = h("div", {class: "prejoin-devices", dataset: {testid: "prejoin-devices"}},
    h("div", {class: "field mic-level-field"}, h("span", {}, message("device.level")), meter),
    canChooseSpeaker() ? h("div", {class: "speaker-field"}, speakerField, test) : null, notice);
  after.after(row);
  speaker.onchange = () => saveChoices({speaker: speaker.value || null});
  test.onclick = () => {
    test.disabled = true;
    playTestTone(speaker.value).catch(() => {}).finally(() => { test.disabled = false; });
  };
  const prejoinScreen = document.getElementById("prejoin");
  const paintSpeakers = async () => {
    if (prejoinScreen.hidden) return;  // joined: the settings sheet has it now
    const {speaker: outputs} = await listDevices();
    fillSelect(speaker, outputs, loadChoices().speaker || "");
    speakerField.hidden = !outputs.length;
  };
  paintSpeakers();
  if (navigator.mediaDevices) navigator.mediaDevices.addEventListener("devicechange", paintSpeakers);
  preview.on("localtrack", ({kind}) => { if (kind === "audio") paintSpeakers(); });  // labels once allowed
  new MicLevel(meter, {track: () => preview.local.audio, muted,
                       running: () => !prejoinScreen.hidden});
}
