// The meeting page's state, one object for every module of the page: `page` (what the
// person wants, what is made and open), the token and the fragment's flags, the screen
// shown (setState, notice, exit), toasts and failed actions (toast, failed, act), and the
// test and tooling hook `window.salon` (`debug`).

import { SalonError } from "/sdk/v1/salon.js";
import { h } from "/sdk/v1/ui/dom.js";
import { REJOINABLE, exitWords, offerRejoin, rejoinHash } from "/meet/exits.js";

export const $ = (id) => document.getElementById(id);
export const params = new URLSearchParams(location.hash.replace(/^#/, ""));
export let token = params.get("token") || "";  // replaced when a move to another meeting brings a new one
/** The token in use from now on (a move to another meeting brings a new one). */
export function setToken(value) { token = value; }
export const flag = (name, fallback) => (params.has(name) ? !["0", "false", "no", "off"].includes(params.get(name)) : fallback);

export const page = {
  info: null,          // GET /meet/ui
  client: null,
  media: null,
  want: {audio: flag("audio", true), video: flag("video", true)},  // what the user wants on
  previewMedia: null,  // a MediaSession before joining (devices only)
  panel: null,
  joinName: null,      // the name the person chose on the pre-join screen (for Rejoin)
  paintToggles: null,  // the pre-join Microphone / Camera buttons (publishing.js)
  onToggle: null,      // what a flip of those does before joining (the preview)
  rooms: null,         // the breakout rooms panel (rooms.js), made on entering
  qna: null,           // the Q&A panel (qna.js), made on entering
  plugins: null,       // the plugins panel (plugins.js), made on entering
  privateChat: null,   // who the chat box sends to (private_chat.js), made on entering
  chat: null,          // the chat view (chat.js), made on entering
  notices: null,       // join and leave notices (notices.js), made on entering
  recording: null,     // the recording indicator and controls (recording.js), made on entering
  captions: null,      // live captions and their toggle (captions.js), made on entering
  people: null,        // the People panel (people.js), made on entering
  polls: null,         // the Polls panel (polls.js), made on entering
  hostTools: null,     // the requests badge, host menu and notices (host_tools.js), made on entering
  hands: null, reactions: null,  // raised hands (hands.js) and reactions (reactions.js), made on entering
  side: null,          // the side panel's head, Close, Escape and focus; a sheet on phones (side_panel.js)
  more: null,          // the More menu: panels on phones, Keyboard shortcuts (more_menu.js)
  stage: null,         // the tiles and their layout (stage_view.js), made on entering
  live: null,          // the livestream controls (livestream_controls.js), made on entering
  settings: null,      // the settings sheet (settings.js), made on entering
  network: null,       // the network quality watch (network.js), made on entering
  livestream: null,    // the livestream player, for a preset that watches it (livestream_player.js)
};

// --- the test and tooling hook ---------------------------------------------------------------

export const debug = {
  get client() { return page.client; },
  get media() { return page.media; },
  get info() { return page.info; },
  get recording() { return page.recording; },
  get captions() { return page.captions; },
  state: () => document.body.dataset.state,
  joinStartedAt: null,        // performance.now() when the join was sent
  firstFrameDecodedAt: null,  // performance.now() when a remote video first decoded a frame
  firstFrame: null,           // {peerId, trackId} of that video
  /** {peerId: {video: {framesDecoded, …}, audio: {packetsReceived, …}, screenshare: …}} */
  async remoteStats() {
    const out = {};
    if (!page.media) return out;
    const {inbound} = await page.media.stats();
    for (const row of inbound) (out[row.peerId] ||= {})[row.kind] = row;
    return out;
  },
  async stats() { return page.media ? page.media.stats() : {inbound: [], outbound: []}; },
  errors: [],
};
window.salon = debug;
// A new token (or flags) in the fragment means another session: start over.
window.addEventListener("hashchange", () => location.reload());

window.addEventListener("error", (e) => debug.errors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => debug.errors.push(String(e.reason && e.reason.message || e.reason)));

// --- helpers ---------------------------------------------------------------------------------

export function setState(state) {
  const was = document.body.dataset.state;
  document.body.dataset.state = state;
  for (const id of ["notice", "prejoin", "waiting", "meeting"]) $(id).hidden = true;
  const screen = {loading: "notice", prejoin: "prejoin", joining: "prejoin", waiting: "waiting", joined: "meeting"}[state] || "notice";
  $(screen).hidden = false;
  // The waiting room replaces the screen the focus was on: its heading takes the focus
  // (as an exit screen's does), so a screen reader says where the person is.
  if (state === "waiting" && was !== "waiting") $("waiting-title").focus();
}

export function notice(state, title, text = "") {
  $("notice-title").textContent = title;
  $("notice-text").textContent = text;
  $("notice-rejoin").hidden = true;
  setState(state);
}

/** An exit screen (exits.js): what happened in words, and Rejoin where it makes sense. */
export function exit(state, details = {}) {
  const {title, text} = exitWords(state, details);
  notice(state, title, text);
  if (REJOINABLE.has(state)) {
    offerRejoin($("notice-rejoin"), rejoinHash(location.hash, {token, name: page.joinName, want: page.want}));
  }
  $("notice-title").focus();
}

export function toast(text, ms = 5000) {
  const el = h("div", {class: "toast", dataset: {testid: "toast"}}, text);
  $("toasts").append(el);
  setTimeout(() => el.remove(), ms);
  return el;
}

export function failed(error) {
  const message = error instanceof SalonError ? error.reason : String(error && error.message || error);
  toast(message);
  debug.errors.push(message);
}

export function act(fn) {
  return (event) => {
    if (event) event.preventDefault();
    Promise.resolve().then(fn).catch(failed);
  };
}

export const perms = () => (page.client && page.client.self ? page.client.self.permissions : {});
