// The meeting page: pre-join → waiting room → meeting, on the browser SDK.
//
// Open /meet#token=<participant token>. Fragment flags: `autojoin=1` joins at once
// (no pre-join interaction), `name=…` a display name, `audio=0` / `video=0` start with
// the microphone / camera off, `codec=h264` sends video as H.264 first (the SDK's
// `codecPreference`). Tests and tools reach the page through `window.salon`.

import { SalonClient, SalonError } from "/sdk/v1/salon.js";
import { MediaSession } from "/sdk/v1/media.js";
import { h, render, initials, hue } from "/sdk/v1/ui/dom.js";
import { applyDesignTokens } from "/sdk/v1/ui/theme.js";
import { RoomsPanel, usesRooms } from "/meet/rooms.js";
import { QnaPanel } from "/meet/qna.js";
import { PluginsPanel } from "/meet/plugins.js";
import { PrivateChat } from "/meet/private_chat.js";
import { ChatView } from "/meet/chat.js";
import { PresenceNotices } from "/meet/notices.js";
import { RecordingControls } from "/meet/recording.js";
import { LivestreamPlayer, watchesLivestream } from "/meet/livestream_player.js";
import { LivestreamControls } from "/meet/livestream_controls.js";
import { Captions, afterwords, captionBadge, paintTranscribed } from "/meet/captions.js";
import { prejoinToggles, shownOn, syncPublishing as publishWanted, toggle } from "/meet/publishing.js";
import { exitWords, offerRejoin, rejoinHash } from "/meet/exits.js";
import { HostTools } from "/meet/host_tools.js";
import { Hands, handBadge } from "/meet/hands.js";
import { Reactions } from "/meet/reactions.js";
import { SettingsSheet } from "/meet/settings.js";
import { prejoinDevices } from "/meet/devices.js";
import { networkBadge, watchNetwork } from "/meet/network.js";
import { applyCatalogue, fill, message } from "/meet/messages.js";
import { shortcuts } from "/meet/shortcuts.js";
import { SidePanel } from "/meet/side_panel.js";
import { MoreMenu } from "/meet/more_menu.js";
import { readableOnBrand } from "/meet/contrast.js";
import { canShareScreen, insecureOrigin, mediaUnavailable } from "/meet/secure_origin.js";
import { StageView } from "/meet/stage_view.js";
import { PeoplePanel } from "/meet/people.js";
import { PollsPanel } from "/meet/polls.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.hash.replace(/^#/, ""));
let token = params.get("token") || "";  // replaced when a move to another meeting brings a new one
const flag = (name, fallback) => (params.has(name) ? !["0", "false", "no", "off"].includes(params.get(name)) : fallback);

const page = {
  info: null,          // GET /meet/ui
  client: null,
  media: null,
  want: {audio: flag("audio", true), video: flag("video", true)},  // what the user wants on
  previewMedia: null,  // a MediaSession before joining (devices only)
  panel: null,
  joinName: null,      // the name the person chose on the pre-join screen (for Rejoin)
  paintToggles: null,  // the pre-join Microphone / Camera buttons (publishing.js)
  onToggle: null,      // what a flip of those does before joining (the preview)
  stageAutoJoin: false,
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
};

// --- the test and tooling hook ---------------------------------------------------------------

const debug = {
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

function setState(state) {
  document.body.dataset.state = state;
  for (const id of ["notice", "prejoin", "waiting", "meeting"]) $(id).hidden = true;
  const screen = {loading: "notice", prejoin: "prejoin", joining: "prejoin", waiting: "waiting", joined: "meeting"}[state] || "notice";
  $(screen).hidden = false;
}

function notice(state, title, text = "") {
  $("notice-title").textContent = title;
  $("notice-text").textContent = text;
  $("notice-rejoin").hidden = true;
  setState(state);
}

/** An exit screen (exits.js): what happened in words, and Rejoin. */
function exit(state, details = {}) {
  const {title, text} = exitWords(state, details);
  notice(state, title, text);
  offerRejoin($("notice-rejoin"), rejoinHash(location.hash, {token, name: page.joinName, want: page.want}));
  $("notice-title").focus();
}

function toast(text, ms = 5000) {
  const el = h("div", {class: "toast", dataset: {testid: "toast"}}, text);
  $("toasts").append(el);
  setTimeout(() => el.remove(), ms);
  return el;
}

function failed(error) {
  const message = error instanceof SalonError ? error.reason : String(error && error.message || error);
  toast(message);
  debug.errors.push(message);
}

function act(fn) {
  return (event) => {
    if (event) event.preventDefault();
    Promise.resolve().then(fn).catch(failed);
  };
}

const perms = () => (page.client && page.client.self ? page.client.self.permissions : {});

// --- start: what the token stands for, then pre-join -------------------------------------------

/** The page's own keyboard shortcuts (shortcuts.js; docs/meeting-page.md lists them):
 * m and v press the Mic and Camera buttons (the pre-join ones before joining), c and p
 * open or close Chat and People, ? lists them all. */
function addShortcuts() {
  const state = () => document.body.dataset.state;
  const inMeeting = () => state() === "joined";
  const beforeOrIn = () => ["prejoin", "joining", "joined"].includes(state());
  const press = (meeting, before) => () => {
    const button = $(inMeeting() ? meeting : before);
    if (button && !button.hidden && !button.disabled) button.click();
  };
  const panel = (name) => () => {
    const tab = document.querySelector(`.tab[data-panel="${name}"]`);
    if (tab && !tab.hidden) showPanel(page.panel === name ? null : name);
  };
  shortcuts
    .add("m", "shortcut.mic", press("btn-mic", "prejoin-mic"), {when: beforeOrIn})
    .add("v", "shortcut.camera", press("btn-cam", "prejoin-cam"), {when: beforeOrIn})
    .add("c", "shortcut.chat", panel("chat"), {when: inMeeting})
    .add("p", "shortcut.people", panel("participants"), {when: inMeeting})
    .add("h", "shortcut.hand", () => { if (page.hands) page.hands.toggle().catch(failed); }, {when: inMeeting})
    .add("?", "shortcut.help", () => shortcuts.show())
    .listen();
}

async function start() {
  applyCatalogue();
  addShortcuts();
  if (!token) {
    notice("error", message("page.no_token.title"), message("page.no_token.text"));
    return;
  }
  try {
    const response = await fetch("/meet/ui", {headers: {"Authorization": `Bearer ${token}`}});  // not words
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((body.error && body.error.message) || message("link.invalid"));
    page.info = body.data;
  } catch (error) {
    notice("error", message("link.title"), error instanceof TypeError ? message("error.CLOSED") : String(error.message || error));
    return;
  }
  const info = page.info;
  applyDesignTokens(info.preset.design_tokens);
  readableOnBrand();
  document.title = fill("page.title", {title: info.meeting.title || message("meeting.untitled")});
  $("prejoin-title").textContent = info.meeting.title || message("prejoin.title");
  $("meeting-title").textContent = info.meeting.title || message("meeting.untitled");
  // Over http from another machine the browser gives no camera or microphone: said in
  // words on the pre-join screen (secure_origin.js), and the person joins without them.
  const noMedia = mediaUnavailable();
  if (noMedia) page.want.audio = page.want.video = false;
  // Only kinds the preset lets this participant produce outright start on; a stage
  // participant publishes once on stage.
  for (const kind of ["audio", "video"]) if (info.preset.can_produce[kind] !== "ALLOWED") page.want[kind] = false;
  page.paintToggles = prejoinToggles({audio: $("prejoin-mic"), video: $("prejoin-cam")}, page.want, {
    canProduce: (kind) => !noMedia && info.preset.can_produce[kind] === "ALLOWED",
    stageEnabled: info.preset.stage_enabled,
    onChange: () => page.onToggle && page.onToggle()});
  if (flag("autojoin", false) && info.meeting.status !== "INACTIVE") {
    join(params.get("name") || null);
    return;
  }
  prejoin();
}

function prejoin() {
  const info = page.info;
  setState("prejoin");
  const nameInput = $("prejoin-name");
  nameInput.value = params.get("name") || info.participant.name || "";
  $("prejoin-name-label").hidden = !info.preset.can_edit_display_name;
  render($("preview-avatar"), initials(nameInput.value));
  $("preview-avatar").style.setProperty("--hue", hue(nameInput.value));
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
  nameInput.oninput = () => render($("preview-avatar"), initials(nameInput.value));
  $("prejoin-hint").textContent = info.preset.stage_enabled && !canProduce("video")
    ? message("prejoin.viewer") : "";
  // An inactive meeting refuses every join (MEETING_INACTIVE): said here, before Join.
  const inactive = info.meeting.status === "INACTIVE";
  $("prejoin-inactive").hidden = !inactive;
  $("prejoin-inactive").textContent = inactive ? message("prejoin.inactive") : "";
  $("prejoin-join").disabled = inactive;
  $("prejoin-join").onclick = act(async () => {
    const name = nameInput.value.trim();
    if (info.preset.can_edit_display_name && !name) {
      $("prejoin-hint").textContent = message("prejoin.name_needed");
      return;
    }
    page.joinName = info.preset.can_edit_display_name ? name : null;
    await join(page.joinName);
  });
  prejoinDevices(preview, {after: selects.audio.closest(".row"), muted: () => !page.want.audio});
  paint();
  open();
}

// --- joining -----------------------------------------------------------------------------------

async function join(name) {
  setState("joining");
  $("prejoin-join").disabled = true;
  debug.joinStartedAt = performance.now();
  let client;
  try {
    client = await SalonClient.join(SalonClient.wsUrl(location.origin), token, {name: name || undefined});
  } catch (error) {
    $("prejoin-join").disabled = false;
    if (!(error instanceof SalonError)) debug.errors.push(String(error.message || error));
    exit("error", {error: error instanceof SalonError ? error.code : null});
    return;
  }
  page.client = client;
  const media = MediaSession.attach(client, {codecPreference: params.get("codec") === "h264" ? "h264" : "vp8"});
  page.media = media;
  // Devices opened in the pre-join preview carry over, if they are still wanted.
  if (page.previewMedia) {
    media.deviceIds = {...page.previewMedia.deviceIds};
    for (const kind of ["audio", "video"]) {
      const track = page.previewMedia.local[kind];
      if (track && track.readyState === "live" && page.want[kind]) media.local[kind] = track;
      else if (track) track.stop();
      page.previewMedia.local[kind] = null;
    }
    page.previewMedia = null;
  }
  wire(client, media);
  $("waiting-leave").onclick = act(leave);
  if (client.status === "waiting") setState("waiting");
  else entered();
}

function wire(client, media) {
  client.on("self.admitted", () => entered());
  client.on("self.rejected", () => end("rejected"));
  client.on("self.kicked", () => end("kicked"));
  client.on("room.ended", ({reason}) => end("ended", {reason, extra: afterwords(client)}));
  client.on("closed", ({code}) => {
    if (!["rejected", "kicked", "ended", "left"].includes(document.body.dataset.state)) {
      end("disconnected", {code});
    }
  });
  client.on("reconnecting", () => setConnection(message("connection.reconnecting"), true));
  client.on("resumed", () => { setConnection(""); refresh(); });
  for (const event of ["peer.joined", "peer.left", "peer.updated", "room.pinned", "waitlist.added",
                       "waitlist.removed", "stage.requests", "audience.delta"]) {
    client.on(event, () => refresh());
  }
  client.on("self.updated", () => { refresh(); syncPublishing(); });
  client.on("stage.granted", () => toast(message("toast.stage.granted")));
  client.on("stage.denied", () => toast(message("toast.stage.denied")));
  client.on("stage.kicked", () => toast(message("toast.stage.kicked")));
  client.on("media.disabled", ({kinds}) => {
    for (const kind of kinds) if (kind in page.want) page.want[kind] = false;
    toast(fill("toast.disabled", {what: kinds.map((k) => message(`noun.${k}`)).join(message("toast.disabled.and"))}));
    refresh();
  });
  client.on("meeting.changing", () => toast(message("toast.moving")));
  client.on("meeting.change_failed", ({message: reason}) => toast(fill("toast.move_failed", {reason})));
  client.on("meeting.changed", (data) => moved(data));
  client.on("connected_meetings.broadcast", ({message: text, from_name: name}) => toast(fill("toast.broadcast", {name, text}), 8000));
  client.on("connected_meetings.closing", ({in_secs: secs}) => toast(fill("toast.rooms_closing", {secs: Math.round(secs)}), 8000));
  media.on("track", (rec) => attachTrack(rec));
  media.on("trackended", (rec) => detachTrack(rec));
  media.on("localtrack", () => paintStage());
  media.on("enabled", () => refresh());
  media.on("published", () => refresh());
  media.on("unpublished", () => refresh());
  media.on("transport", ({pc, state, by}) => {
    if (by === "client") setConnection(state === "failed" || state === "disconnected" ? message(`connection.media.${state}`) : "", state !== "connected");
  });
}

function setConnection(text, warn = false) {
  $("connection").textContent = text;
  $("connection").classList.toggle("warn", warn);
}

function end(state, details = {}) {
  // A dialog left open (a confirmation, the settings, the shortcuts) would keep the exit
  // screen and its Rejoin behind it; a confirmation closed this way answers "no".
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  if (page.media) page.media.close();
  if (page.client) page.client.close();
  for (const el of document.querySelectorAll("video, audio")) el.srcObject = null;
  exit(state, details);
}

function entered() {
  if (document.body.dataset.state === "joined") return;
  setState("joined");
  const p = perms();
  for (const tab of document.querySelectorAll(".tab")) tab.onclick = () => showPanel(page.panel === tab.dataset.panel ? null : tab.dataset.panel);
  page.side ||= new SidePanel({side: $("side"), title: $("side-title"), close: $("panel-close")}, {close: () => showPanel(null)});
  page.more ||= new MoreMenu({button: $("btn-more"), tabs: document.querySelectorAll(".tab")},
    {openPanel: (name, opener) => showPanel(name, opener), showShortcuts: () => shortcuts.show()});
  page.privateChat ||= new PrivateChat(
    {select: $("chat-to"), input: $("chat-input"), send: $("chat-send"), attach: $("chat-attach")},
    page.client, {toast});
  page.privateChat.paint();
  page.chat ||= new ChatView(
    {list: $("chat-messages"), form: $("chat-form"), input: $("chat-input"), file: $("chat-file"), unread: $("chat-unread")},
    page.client, {act, failed, privateChat: page.privateChat, token: () => token, isOpen: () => page.panel === "chat"});
  page.notices ||= new PresenceNotices(page.client, {toast});
  for (const [id, kind] of [["btn-mic", "audio"], ["btn-cam", "video"]]) {
    $(id).onclick = act(() => { const done = toggle(page, kind); refresh(); return done.finally(refresh); });
  }
  $("btn-screen").onclick = act(toggleScreen);
  $("btn-stage").onclick = act(stageAction);
  $("btn-leave").onclick = act(leave);
  page.rooms ||= new RoomsPanel($("panel-rooms"), page.client, {act, toast,
    onChange: (panel) => { $("rooms-count").textContent = panel.family && panel.family.meetings.length ? String(panel.family.meetings.length) : ""; }});
  page.qna ||= new QnaPanel($("panel-qna"), page.client, {act,
    onChange: (panel) => { $("qna-count").textContent = panel.openCount ? String(panel.openCount) : ""; }});
  page.qna.load();
  page.plugins ||= new PluginsPanel($("panel-plugins"), page.client, {act,
    onChange: (panel) => { $("plugins-count").textContent = panel.active.length ? String(panel.active.length) : ""; }});
  page.plugins.load();
  page.recording ||= new RecordingControls(
    {indicator: $("rec-indicator"), label: $("rec-label"), announce: $("rec-announce"),
     record: $("btn-record"), pause: $("btn-record-pause")},
    page.client, {toast});
  page.live ||= new LivestreamControls(
    {indicator: $("live-indicator"), announce: $("live-announce"), button: $("btn-live")},
    page.client, {toast, watching: watchesLivestream(page.info.preset)});
  page.captions ||= new Captions(
    {region: $("captions"), lines: $("caption-lines"), announce: $("captions-announce"), toggle: $("btn-captions")}, page.client);
  paintTranscribed($("transcribed-indicator"), page.client);
  page.people ||= new PeoplePanel($("panel-participants"), page.client, {act, hands: () => page.hands,
    remove: (peer) => page.hostTools.remove(peer), privateChat: () => page.privateChat, openPanel: showPanel});
  page.polls ||= new PollsPanel($("panel-polls"), page.client, {act, failed, toast});
  page.polls.load();
  page.hostTools ||= new HostTools(
    {topbar: document.querySelector(".topbar"), controls: document.querySelector(".controls"), toasts: $("toasts"),
     before: {badge: document.querySelector(".topbar .tabs"), menu: document.querySelector(".controls .spacer")}},
    page.client, {act, openPanel: showPanel, panel: () => page.panel});
  page.stage ||= new StageView(
    {grid: $("grid"), controls: document.querySelector(".controls"), before: document.querySelector(".controls .spacer")},
    page.client, () => page.media,
    {act, openPanel: openIfShown, remove: (peer) => page.hostTools.remove(peer), config: page.info.preset, badges: (peer, isSelf) => [handBadge(peer), networkBadge(peer.peer_id), captionBadge(peer, isSelf)]});
  const social = {controls: document.querySelector(".controls"), before: document.querySelector(".controls .spacer"), stage: document.querySelector(".stage")};
  page.hands ||= new Hands(social, page.client, {act, toast, notify: (text, options) => page.hostTools.notify(text, options), dropNotice: (peerId, kind) => page.hostTools.dropNotice(peerId, kind)});
  page.reactions ||= new Reactions(social, page.client, {act});
  page.settings ||= new SettingsSheet(page, {controls: document.querySelector(".controls"), sinks: $("audio-sinks"), screen: $("meeting"), toast, act});
  page.network ||= watchNetwork(page.media, {selfId: () => page.client.peerId, onChange: () => page.stage.paint()});
  if (watchesLivestream(page.info.preset) && !page.livestream) {
    // A LIVESTREAM viewer plays HLS: no WebRTC video or audio is received.
    page.livestream = new LivestreamPlayer({stage: document.querySelector(".stage"), grid: $("grid")}, page.client);
    page.media.subscribe({mode: "manual", trackIds: []}).catch(() => {});
  }
  page.more.collapsible();
  const self = page.client.self;
  // Presenters (stage access ALLOWED) start accepted: go on stage at once.
  if (self.stage_status === "ACCEPTED_TO_JOIN_STAGE" && p.stage_access === "ALLOWED") {
    page.client.stage.join().catch(failed);
  }
  page.chat.load();
  refresh();
  syncPublishing();
  watchFirstFrame();
}

/** Moved to another meeting (breakout rooms): the same page, a new room. */
function moved(data) {
  token = page.client.token;
  const title = (data.room && data.room.meeting && data.room.meeting.title) || message("meeting.untitled");
  $("meeting-title").textContent = title;
  document.title = fill("page.title", {title});
  paintTranscribed($("transcribed-indicator"), page.client);
  page.chat.clear();
  page.stage.reset();
  page.chat.load();
  refresh();
  syncPublishing();
  toast(fill("toast.moved", {title}));
}

async function leave() {
  document.body.dataset.state = "left";
  if (page.media) page.media.close();
  if (page.client) await page.client.leave();
  exit("left");
}

// --- publishing ---------------------------------------------------------------------------------

/** Publish what the person wants on and may send (publishing.js); the SDK unpublishes
 * revoked kinds itself. */
function syncPublishing() {
  if (document.body.dataset.state !== "joined") return;
  publishWanted(page, failed).finally(refresh);
}

async function toggleScreen() {
  if (page.media.published.screenshare) await page.media.unpublish("screenshare");
  else await page.media.publishScreen();
  refresh();
}

async function stageAction() {
  const stage = page.client.stage;
  switch (page.client.self.stage_status) {
    case "OFF_STAGE": await stage.request(); break;
    case "REQUESTED_TO_JOIN_STAGE": await stage.cancelRequest(); break;
    case "ACCEPTED_TO_JOIN_STAGE":
      page.want.audio = page.want.video = true;
      await stage.join();
      break;
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

function refresh() {
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

function attachTrack(rec) {
  if (rec.kind === "audio") {
    const el = h("audio", {autoplay: true, dataset: {trackId: rec.trackId, peerId: rec.peerId}});
    el.srcObject = new MediaStream([rec.track]);
    $("audio-sinks").append(el);
    el.play().catch(() => {});  // autoplay may wait for a click; RTP still flows
  }
  paintStage();
}

function detachTrack(rec) {
  if (rec.kind === "audio") {
    for (const el of $("audio-sinks").querySelectorAll("audio")) {
      if (el.dataset.trackId === rec.trackId) { el.srcObject = null; el.remove(); }
    }
  }
  paintStage();
}

const paintStage = () => page.stage && page.stage.paint();

/** Note when the first remote video frame is decoded (join-to-first-frame). */
async function watchFirstFrame() {
  while (debug.firstFrameDecodedAt === null && page.media && !page.media.closed) {
    for (const rec of page.media.tracks()) {
      if (rec.kind !== "video" && rec.kind !== "screenshare") continue;
      const report = await rec.transceiver.receiver.getStats().catch(() => null);
      let decoded = 0;
      if (report) report.forEach((s) => { if (s.type === "inbound-rtp") decoded = s.framesDecoded || 0; });
      if (decoded > 0) {
        debug.firstFrameDecodedAt = performance.now();
        debug.firstFrame = {peerId: rec.peerId, trackId: rec.trackId};
        return;
      }
    }
    // Fine-grained only while there is a video to measure (an audio-only call has none).
    const video = page.media.tracks().some((r) => r.kind === "video" || r.kind === "screenshare");
    await new Promise((r) => setTimeout(r, video ? 25 : 250));
  }
}

// --- panels ---------------------------------------------------------------------------------------

/** Open the side panel `name` (null: close it). `opener`: where focus goes back when it
 * closes (default: whatever has focus now; side_panel.js). */
/** Open a panel only where its tab shows (the preset may hide People, for one). */
function openIfShown(name) {
  const tab = document.querySelector(`.tab[data-panel="${name}"]`);
  if (tab && !tab.hidden) showPanel(name);
}

function showPanel(name, opener) {
  if (page.side) page.side.before(name, opener);
  page.panel = name;
  $("side").hidden = !name;
  for (const panel of ["participants", "chat", "polls", "qna", "plugins", "rooms"]) $(`panel-${panel}`).hidden = panel !== name;
  if (name === "rooms" && page.rooms) page.rooms.load();
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-pressed", String(tab.dataset.panel === name));
  if (name === "chat") {
    if (page.chat) page.chat.seen();
    $("chat-input").focus();
  }
  if (page.side) page.side.after(name, message(`panel.${name}`));
}

start();
