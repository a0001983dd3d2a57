// The in-call settings sheet: camera, microphone and speaker, a microphone level meter,
// noise suppression, data saver. A "Settings" button in the control bar opens it as a modal
// <dialog> (on a phone, a bottom sheet the width of the screen).
//
// Switching a device during the call keeps publishing: the SDK opens the new device,
// replaces the sender's track (no renegotiation) and stops the old one; a muted kind
// stays muted. Choices are remembered for the next join (devices.js). A chosen device
// that goes away (`devicechange`) falls back to the default, with a notice.
//
// Background blur is offered where the browser can do it itself (the camera track lists
// `backgroundBlur` among its capabilities: Chrome with the system's camera effects) and
// hidden elsewhere; salon ships no segmentation of its own (docs/meeting-page.md says why).

import { h } from "/sdk/v1/ui/dom.js";
import { message } from "/meet/messages.js";
import { MicLevel, canChooseSpeaker, fillSelect, levelMeter, listDevices, playTestTone,
         restoreChoices, saveChoices, speakerFor } from "/meet/devices.js";

const KIND_TESTIDS = {video: "settings-camera", audio: "settings-mic"};

export class SettingsSheet {
  /**
   * @param page the meeting page's state (`media`, `want`), read when used: the SDK
   *   session is the same for the whole call, moves to breakout rooms included.
   * @param {{controls: Element, sinks: Element, screen: Element, toast: (text: string) => void,
   *          act: (fn: Function) => Function}} parts
   */
  constructor(page, {controls, sinks, screen, toast, act}) {
    this.page = page;
    this.toast = toast;
    this.act = act;
    this.speaker = speakerFor(sinks);
    restoreChoices(page.media);
    this.button = h("button", {id: "btn-settings", class: "control", type: "button", "aria-haspopup": "dialog",
                               dataset: {testid: "btn-settings"}, onclick: () => this.open()}, message("settings.open"));
    controls.insertBefore(this.button, controls.querySelector(".spacer"));
    this.build(screen);
    page.media.on("devicefallback", ({kind}) => {
      saveChoices({[kind]: null});  // gone: not tried again next time
      toast(message(`device.fallback.${kind}`));
    });
    if (navigator.mediaDevices) navigator.mediaDevices.addEventListener("devicechange", () => this.unplugged().catch(() => {}));
  }

  build(screen) {
    const select = (testid) => h("select", {dataset: {testid}});
    this.selects = {video: select("settings-camera"), audio: select("settings-mic"), speaker: select("settings-speaker")};
    this.meter = levelMeter("settings-mic-level");
    this.noise = h("input", {type: "checkbox", dataset: {testid: "settings-noise"}});
    this.blur = h("input", {type: "checkbox", dataset: {testid: "settings-blur"}});
    this.blurField = h("label", {class: "check", hidden: true}, this.blur, message("settings.blur"));
    this.saver = h("input", {type: "checkbox", dataset: {testid: "settings-data-saver"}});
    const testTone = h("button", {type: "button", class: "small", dataset: {testid: "settings-speaker-test"},
                                  onclick: this.act(() => playTestTone(this.speaker.get()))}, message("device.test_speaker"));
    const field = (label, control, extra = null) => h("label", {class: "field"}, label, control, extra);
    this.fields = {
      video: field(message("settings.camera"), this.selects.video),
      audio: field(message("settings.mic"), this.selects.audio),
      speaker: h("div", {class: "speaker-field"}, field(message("settings.speaker"), this.selects.speaker), testTone),
    };
    const close = h("button", {type: "button", class: "primary", dataset: {testid: "settings-close"},
                               onclick: () => this.dialog.close()}, message("settings.close"));
    this.dialog = h("dialog", {class: "settings-sheet", "aria-labelledby": "settings-title", dataset: {testid: "settings"}},
      h("h2", {id: "settings-title"}, message("settings.title")),
      this.fields.video, this.fields.audio,
      h("div", {class: "field mic-level-field"}, h("span", {}, message("device.level")), this.meter),
      h("label", {class: "check"}, this.noise, message("settings.noise")),
      this.blurField,
      h("label", {class: "check"}, this.saver, message("settings.data_saver")),
      this.fields.speaker,
      h("div", {class: "settings-actions"}, close));
    screen.append(this.dialog);
    for (const kind of ["video", "audio"]) {
      this.selects[kind].onchange = this.act(() => this.useDevice(kind, this.selects[kind].value));
    }
    this.selects.speaker.onchange = () => this.speaker.set(this.selects.speaker.value);
    this.noise.onchange = this.act(async () => {
      const on = this.noise.checked;
      saveChoices({noiseSuppression: on});
      await this.page.media.setAudioProcessing({noiseSuppression: on});
    });
    this.blur.onchange = this.act(async () => {
      const on = this.blur.checked;
      saveChoices({backgroundBlur: on});
      const now = await this.page.media.setVideoEffects({backgroundBlur: on});
      this.blur.checked = now.backgroundBlur;
    });
    this.saver.onchange = this.act(() => this.page.media.setDataSaver(this.saver.checked));
    this.dialog.addEventListener("close", () => {
      if (this.level) this.level.stop();
      this.level = null;
      // Opened from More (the bar had no room for Settings): the keyboard goes back to More.
      const more = document.getElementById("btn-more");
      if (!this.button.offsetParent && more && more.offsetParent) more.focus();
    });
  }

  /** Open the sheet: the devices as they are now, and the level meter running. */
  async open() {
    if (!this.dialog.open) this.dialog.showModal();
    const media = this.page.media;
    this.level ||= new MicLevel(this.meter, {
      track: () => media.local.audio,
      muted: () => !media.enabled.audio || !this.page.want.audio,
      running: () => this.dialog.open && !media.closed});
    await this.paint();
  }

  /** The selects, from the devices the browser lists now. */
  async paint() {
    const media = this.page.media;
    const devices = await listDevices();
    for (const kind of ["video", "audio"]) {
      const track = media.local[kind];
      const current = media.deviceIds[kind] || (track && track.getSettings().deviceId) || "";
      fillSelect(this.selects[kind], devices[kind], current);
      this.fields[kind].hidden = !devices[kind].length;
    }
    fillSelect(this.selects.speaker, devices.speaker, this.speaker.get());
    this.fields.speaker.hidden = !canChooseSpeaker() || !devices.speaker.length;
    const settings = media.local.audio ? media.local.audio.getSettings() : {};
    this.noise.checked = media.audioProcessing.noiseSuppression ?? settings.noiseSuppression ?? true;
    // Blur: only where the open camera's platform offers it (a camera that is off: not shown).
    this.blurField.hidden = !media.videoEffectsAvailable().backgroundBlur;
    this.saver.checked = Boolean(media.dataSaver);
    this.blur.checked = Boolean(media.local.video && media.local.video.getSettings().backgroundBlur);
  }

  /** Switch a kind to another device, remembered for next time. */
  async useDevice(kind, deviceId) {
    saveChoices({[kind]: deviceId || null});
    await this.page.media.useDevice(kind, deviceId);
  }

  /**
   * A device went away: a chosen input that is no longer listed (or whose track ended)
   * goes back to the default, the speaker too, each with a notice.
   */
  async unplugged() {
    const media = this.page.media;
    if (media.closed) return;
    const devices = await listDevices();
    const listed = (kind, id) => devices[kind].some((d) => d.deviceId === id);
    for (const kind of ["audio", "video"]) {
      const chosen = media.deviceIds[kind];
      const track = media.local[kind];
      const gone = (chosen && !listed(kind, chosen)) || (track && track.readyState === "ended");
      if (!gone) continue;
      saveChoices({[kind]: null});
      await media.useDevice(kind, null);
      this.toast(message(`device.fallback.${kind}`));
    }
    const speaker = this.speaker.get();
    if (speaker && !listed("speaker", speaker)) {
      this.speaker.set("");
      this.toast(message("device.fallback.speaker"));
    }
    if (this.dialog.open) await this.paint();
  }
}
