// The meeting's control bar: the Microphone, Camera, Screen share and Stage buttons,
// painted from the permissions and the person's choice (each disabled with its reason
// as the tooltip), what Screen share and Stage do, publishing what is wanted, and
// refresh(), which repaints the bar, the stage and People after any change.

import { usesRooms } from "/meet/rooms.js";
import { shownOn, syncPublishing as publishWanted } from "/meet/publishing.js";
import { fill, message } from "/meet/messages.js";
import { canShareScreen, mediaUnavailable } from "/meet/secure_origin.js";
import { $, failed, page } from "/meet/page_state.js";

// --- publishing ---------------------------------------------------------------------------------

/** Publish what the person wants on and may send (publishing.js); the SDK unpublishes
 * revoked kinds itself. */
export function syncPublishing() {
  if (document.body.dataset.state !== "joined") return;
  publishWanted(page, failed).finally(refresh);
}

export async function toggleScreen() {
  if (page.media.published.screenshare) await page.media.unpublish("screenshare");
  else await page.media.publishScreen();
  refresh();
}

export async function stageAction() {
  const stage = page.client.stage;
  switch (page.client.self.stage_status) {
    case "OFF_STAGE": await stage.request(); break;
    case "REQUESTED_TO_JOIN_STAGE": await stage.cancelRequest(); break;
    // On stage, the microphone and camera are as the person chose them (on the pre-join
    // screen, or as they last had them): never turned on for them.
    case "ACCEPTED_TO_JOIN_STAGE": await stage.join(); break;
    case "ON_STAGE": await stage.leave(); break;
    default: break;
  }
}

/** Why a kind cannot be sent now, or "" when it can. */
function whyNot(kind) {
  const self = page.client.self;
  if (page.media && !page.media.available) return message("reason.media_off");
  const noMedia = kind === "screenshare" ? !canShareScreen() : mediaUnavailable();
  if (noMedia) return message(kind === "screenshare" ? "reason.no_screenshare" : "insecure.short");
  if (self.can_publish[kind]) return "";
  const noun = message(`noun.${kind}`);
  if ((self.locked || []).includes(kind)) return fill("reason.locked", {noun});
  const produce = self.permissions.media[kind].can_produce;
  if (self.permissions.stage_enabled && self.stage_status !== "ON_STAGE" && produce !== "NOT_ALLOWED") {
    return fill("reason.stage", {noun});
  }
  return fill("reason.role", {noun});
}

// --- painting -------------------------------------------------------------------------------------

export function refresh() {
  if (!page.client || document.body.dataset.state !== "joined") return;
  paintControls();
  paintStage();
  if (page.people) page.people.paint();
}

function paintControls() {
  const {client, media} = page;
  const self = client.self;
  const p = self.permissions;
  // Permissions can change during the session (host.update_permissions).
  document.querySelector('[data-panel="participants"]').hidden = !p.show_participant_list && !p.accept_waiting_requests;
  document.querySelector('[data-panel="polls"]').hidden = !(p.polls && p.polls.can_view);
  document.querySelector('[data-panel="rooms"]').hidden = !usesRooms(client);
  // No screen-share control where the browser cannot share a screen (phones, tablets).
  $("btn-screen").hidden = !canShareScreen();
  const specs = [["audio", "btn-mic"], ["video", "btn-cam"], ["screenshare", "btn-screen"]];
  for (const [kind, id] of specs) {
    const b = $(id);
    const on = kind === "screenshare" ? Boolean(media.published.screenshare) : shownOn(page, kind);
    const reason = whyNot(kind);
    b.disabled = Boolean(reason) && !on;
    b.title = reason || message(`control.${kind}.turn_${on ? "off" : "on"}`);
    b.dataset.reason = reason;
    b.setAttribute("aria-pressed", String(on));
    // The words live in a span of their own: on a narrow screen only the icon shows and
    // the words stay the button's accessible name (meet.css .control-label).
    b.querySelector(".control-label").textContent = message(`control.${kind}.${on ? "on" : "off"}`);
  }
  const stage = $("btn-stage");
  stage.hidden = !p.stage_enabled;
  const status = self.stage_status;
  stage.textContent = message(`control.stage.${status}`) || status;
  stage.dataset.stageStatus = status;
  stage.disabled = status === "OFF_STAGE" && !["ALLOWED", "CAN_REQUEST"].includes(p.stage_access);
  stage.title = stage.disabled ? message("control.stage.not_allowed") : "";
  const counts = client.audience.large && client.audience.counts;
  $("people-count").textContent = String(counts ? counts.participants : client.peers.size + 1);
}

/** Repaint the stage alone (a track came, went or changed). */
export const paintStage = () => page.stage && page.stage.paint();
