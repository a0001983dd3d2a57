// The pre-join screen: the meeting's title, the name field, a camera preview, the
// Microphone / Camera toggles and device pickers, the inactive meeting's notice, and Join
// (a form: Enter in the name field joins too; an empty name is an error on the field).
// Its MediaSession (`page.previewMedia`) opens devices only; join() (app.js) takes over
// the tracks that are still wanted.

import { MediaSession } from "/sdk/v1/media.js";
import { h, render, initials, hue } from "/sdk/v1/ui/dom.js";
import { prejoinDevices } from "/meet/devices.js";
import { fill, message } from "/meet/messages.js";
import { insecureOrigin, mediaUnavailable } from "/meet/secure_origin.js";
import { $, act, page, params, setState } from "/meet/page_state.js";

/** Show the pre-join screen. `join(name)`: what Join does (app.js). */
export function prejoin({join}) {
  const info = page.info;
  setState("prejoin");
  const nameInput = $("prejoin-name");
  nameInput.value = params.get("name") || info.participant.name || "";
  $("prejoin-name-label").hidden = !info.preset.can_edit_display_name;
  // the preview's initials and colour, as the tiles will show this name
  const paintAvatar = () => {
    render($("preview-avatar"), initials(nameInput.value));
    $("preview-avatar").style.setProperty("--hue", hue(nameInput.value));
  };
  paintAvatar();
  page.previewMedia = new MediaSession(null);
  const canProduce = (kind) => !mediaUnavailable() && info.preset.can_produce[kind] === "ALLOWED";
  insecureOrigin($("insecure-origin"));
  const preview = page.previewMedia;
  const paint = () => {
    page.paintToggles();
    if (preview !== page.previewMedia) return;  // joined meanwhile: the meeting has them
    const video = preview.local.video;
    $("preview").hidden = !(page.want.video && video);
    $("preview-avatar").hidden = !$("preview").hidden;
    $("preview").srcObject = video ? new MediaStream([video]) : null;
  };
  const open = async () => {
    if (preview !== page.previewMedia) return;
    const wanted = {audio: page.want.audio, video: page.want.video};
    if (wanted.audio || wanted.video) {
      try {
        await preview.startDevices(wanted);
      } catch (error) {
        $("prejoin-hint").textContent = fill("prejoin.devices_failed", {reason: error.reason || error.message || error});
      }
    }
    // Joined while the devices opened: what the meeting did not take is let go.
    if (preview !== page.previewMedia) { preview.stopDevices(); return; }
    if (!page.want.video) preview._setLocal("video", null);
    paint();
    await listDevices();
  };
  const selects = {audio: $("prejoin-mic-device"), video: $("prejoin-cam-device")};
  const listDevices = async () => {
    const devices = await MediaSession.devices().catch(() => ({audio: [], video: []}));
    for (const kind of ["audio", "video"]) {
      const select = selects[kind];
      const current = preview.deviceIds[kind] ||
        (preview.local[kind] && preview.local[kind].getSettings().deviceId) || "";
      render(select, devices[kind].map((d) => h("option", {value: d.deviceId, selected: d.deviceId === current}, d.label)));
      select.disabled = !canProduce(kind) || devices[kind].length < 2;
      select.closest(".field").hidden = !canProduce(kind) || !devices[kind].length;
    }
  };
  for (const kind of ["audio", "video"]) {
    selects[kind].onchange = act(async () => {
      preview.deviceIds[kind] = selects[kind].value;
      if (page.want[kind]) {
        preview._setLocal(kind, null);
        await open();
      }
    });
  }
  page.onToggle = act(open);
  const nameError = $("prejoin-name-error");
  const showNameError = (text) => {
    nameError.textContent = text;
    nameError.hidden = !text;
    if (text) {
      nameInput.setAttribute("aria-invalid", "true");
      nameInput.setAttribute("aria-describedby", nameError.id);
    } else {
      nameInput.removeAttribute("aria-invalid");
      nameInput.removeAttribute("aria-describedby");
    }
  };
  nameInput.oninput = () => {
    paintAvatar();
    if (nameInput.value.trim()) showNameError("");
  };
  $("prejoin-hint").textContent = info.preset.stage_enabled && !canProduce("video")
    ? message("prejoin.viewer") : "";
  // An inactive meeting refuses every join (MEETING_INACTIVE): said here, before Join.
  const inactive = info.meeting.status === "INACTIVE";
  $("prejoin-inactive").hidden = !inactive;
  $("prejoin-inactive").textContent = inactive ? message("prejoin.inactive") : "";
  $("prejoin-join").disabled = inactive;
  // A form: Join, or Enter in the name field, joins (the toggles are type=button).
  $("prejoin-form").onsubmit = act(async () => {
    if ($("prejoin-join").disabled) return;
    const name = nameInput.value.trim();
    if (info.preset.can_edit_display_name && !name) {
      showNameError(message("prejoin.name_needed"));
      nameInput.focus();
      return;
    }
    showNameError("");
    page.joinName = info.preset.can_edit_display_name ? name : null;
    await join(page.joinName);
  });
  prejoinDevices(preview, {after: selects.audio.closest(".row"), muted: () => !page.want.audio});
  paint();
  open();
}
