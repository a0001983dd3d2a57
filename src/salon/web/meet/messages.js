// The meeting page's words, in one place: the start of its message catalogue (English).
// Keys are stable ids; a translation would be another object with the same keys. Close
// codes and error codes (docs/protocol.md "Close codes" and the join refusal table) are
// turned into sentences here, so no screen ever shows a raw code.

export const MESSAGES = {
  // Exit screens (exits.js): a title, then what happened.
  "exit.rejoin": "Rejoin",
  "exit.left.title": "You left the meeting",
  "exit.left.text": "You can rejoin, or close this tab.",
  "exit.ended.title": "The meeting has ended",
  "exit.kicked.title": "You were removed from the meeting",
  "exit.kicked.text": "A host removed you from the meeting.",
  "exit.rejected.title": "You were not let in",
  "exit.rejected.text": "The host declined your request to join.",
  "exit.disconnected.title": "You are disconnected",
  "exit.error.title": "Could not join",
  "exit.inactive.title": "This meeting is closed",

  // room.ended reasons.
  "ended.HOST_ENDED_MEETING": "The meeting was ended by the host.",
  "ended.ALL_PARTICIPANTS_LEFT": "The meeting ended because the server is shutting down.",
  "ended.unknown": "The meeting has ended.",

  // WebSocket close codes (docs/protocol.md "Close codes").
  "close.1000": "The connection was closed.",
  "close.1001": "The server went away.",
  "close.1006": "The connection was lost.",
  "close.1009": "The connection was closed because a message was too large.",
  "close.1011": "The server ran into a problem.",
  "close.1012": "The server is restarting. Try again in a moment.",
  "close.1013": "The server is too busy right now. Try again in a moment.",
  "close.4000": "The server could not understand this page's request to join.",
  "close.4001": "This meeting link is no longer valid.",
  "close.4002": "This meeting is not active.",
  "close.4003": "You were removed from the meeting.",
  "close.4004": "The host declined your request to join.",
  "close.4005": "The meeting was ended by the host.",
  "close.4006": "This meeting was opened again in another tab or window.",
  "close.4007": "The connection was closed after a long silence.",
  "close.4008": "The connection was too slow to keep up with the meeting.",
  "close.4009": "You are in this meeting in too many tabs or windows. Leave one of them first.",
  "close.unknown": "The connection was closed.",

  // Error codes of a refused join (and of the SDK: CLOSED, TIMEOUT).
  "error.UNAUTHORIZED": "This meeting link is no longer valid. Ask for a new one.",
  "error.MEETING_INACTIVE": "This meeting is not active.",
  "error.SESSION_ENDED": "This meeting's session has ended.",
  "error.TOO_MANY_PEERS": "You are in this meeting in too many tabs or windows. Leave one of them first.",
  "error.BAD_MESSAGE": "The server could not understand this page's request to join.",
  "error.INVALID": "The server could not understand this page's request to join.",
  "error.NOT_JOINED": "The server could not understand this page's request to join.",
  "error.PROTOCOL_VERSION": "This page is too old or too new for the server. Reload it.",
  "error.RESUME_FAILED": "The connection could not be resumed.",
  "error.RATE_LIMITED": "Too many attempts. Wait a moment and try again.",
  "error.CLOSED": "The server could not be reached. Check your connection and try again.",
  "error.TIMEOUT": "The server did not answer in time. Try again.",
  "error.unknown": "Something went wrong while joining. Try again.",

  // The link itself (GET /meet/ui refused it).
  "link.title": "This link does not work",
  "link.invalid": "This meeting link is not valid.",

  // The pre-join screen.
  "prejoin.inactive": "This meeting is not active, so it cannot be joined now. Ask the organizer to open it.",

  // Host tools (host_tools.js): the requests badge and its list, the host menu, notices.
  // `{name}`, `{count}`, `{question}` are filled in by fill().
  "requests.badge.waiting": "Waiting",
  "requests.badge.stage": "Stage requests",
  "requests.badge.both": "Requests",
  "requests.badge.label.waiting": "{count} waiting to join",
  "requests.badge.label.stage": "{count} asking to join the stage",
  "requests.title": "Requests",
  "requests.waiting": "Waiting to join ({count})",
  "requests.stage": "Asking to join the stage ({count})",
  "requests.admit": "Admit",
  "requests.deny": "Deny",
  "requests.admit.label": "Admit {name}",
  "requests.deny.label": "Deny {name}",
  "requests.admit_all": "Admit all",
  "requests.close": "Close",
  "requests.stage_label": "Asks to join the stage",
  "notice.waiting": "{name} is waiting to join.",
  "notice.stage": "{name} asks to join the stage.",
  "notice.poll": "{name} started a poll: {question}",
  "notice.poll.open": "Open polls",
  "notice.question": "New question from {name}: {question}",
  "notice.question.anonymous": "Anonymous",
  "notice.question.view": "View",
  "host.menu": "Host tools",
  "host.mute_all": "Mute all",
  "host.end_all": "End meeting for all",
  "host.muted_all": "Everyone else's microphone is off. They can turn it on again.",
  "confirm.cancel": "Cancel",
  "confirm.end.title": "End the meeting for everyone?",
  "confirm.end.text": "Everyone, you included, leaves the meeting now. This cannot be undone.",
  "confirm.end.ok": "End meeting",
  "confirm.remove.title": "Remove {name}?",
  "confirm.remove.text": "{name} leaves the meeting at once.",
  "confirm.remove.ok": "Remove",
  // Join and leave notices (notices.js): one, two, or a count when many come at once.
  "notice.joined": "{name} joined",
  "notice.joined.two": "{first} and {second} joined",
  "notice.joined.many": "{count} people joined",
  "notice.left": "{name} left",
  "notice.left.two": "{first} and {second} left",
  "notice.left.many": "{count} people left",

  // === The stage: layouts, tiles, the tile menu (layout.js, stage_view.js, tile_menu.js) ===
  // keys: layout.*, tile.*, viewers.*
  "layout.label": "Layout",
  "layout.auto": "Auto",
  "layout.grid": "Grid",
  "layout.speaker": "Speaker",
  "layout.page": "Page {page} of {pages}",
  "layout.prev": "Previous page",
  "layout.next": "Next page",
  "layout.empty": "Nobody is on the stage yet.",
  "tile.you": "{name} (you)",
  "tile.presenting": "{name} is presenting",
  "tile.you_presenting": "You are presenting",
  "tile.someone": "Someone",
  "tile.muted": "Muted",
  "tile.pinned": "Pinned for everyone",
  "tile.pinned_local": "Pinned for you",
  "tile.more": "+{count}",
  "tile.more.label": "{count} more people: show everyone",
  "tile.menu": "More options",
  "tile.menu.label": "More options for {name}",
  "tile.pin_local": "Pin for me",
  "tile.unpin_local": "Unpin for me",
  "tile.pin_all": "Pin for everyone",
  "tile.unpin_all": "Unpin for everyone",
  "tile.mute": "Mute",
  "tile.video_off": "Turn off camera",
  "tile.remove": "Remove",
  "viewers.count": "{count} watching",
  "viewers.label": "{count} watching: show the people",

  // === Raised hands and reactions (hands.js, reactions.js) ===
  // keys: hand.*, reaction.*

  // === Devices, settings, network quality (devices.js, settings.js, network.js) ===
  // keys: settings.*, device.*, network.*

  // === The page's own words: controls, panels, keyboard shortcuts, secure origin (app.js, shortcuts.js) ===
  // keys: control.*, panel.*, shortcut.*, insecure.*, and the rest of app.js
};

/** The text of `id` (or of `fallback` when there is none for `id`). */
export function message(id, fallback) {
  return MESSAGES[id] ?? MESSAGES[fallback] ?? "";
}

/** A close code in words. */
export const closeReason = (code) => message(`close.${code}`, "close.unknown");

/** An error code (a refused join, the SDK's CLOSED or TIMEOUT) in words. */
export const errorReason = (code) => message(`error.${code}`, "error.unknown");

/** Why the meeting ended (`room.ended`'s `reason`) in words. */
export const endedReason = (reason) => message(`ended.${reason}`, "ended.unknown");

/** The text of `id` with `{key}` replaced by `vars[key]` (as text: the caller sets it with textContent). */
export function fill(id, vars = {}) {
  return message(id).replace(/\{(\w+)\}/g, (all, key) => (key in vars ? String(vars[key]) : all));
}
