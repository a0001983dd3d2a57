// The meeting page: pre-join → waiting room → meeting, on the browser SDK.
//
// Open /meet#token=<participant token>. Fragment flags: `autojoin=1` joins at once
// (no pre-join interaction), `name=…` a display name, `audio=0` / `video=0` start with
// the microphone / camera off, `codec=h264` sends video as H.264 first (the SDK's
// `codecPreference`). Tests and tools reach the page through `window.salon` (page_state.js).
//
// This module runs the page: start, join, the client's events (wire), entered, moved,
// leave, and which side panel is open. The page's state and its small helpers are in
// page_state.js, the pre-join screen in prejoin.js, the control bar in control_bar.js,
// remote tracks in tracks.js; each panel and view in its own module.

import { SalonClient, SalonError } from "/sdk/v1/salon.js";
import { MediaSession } from "/sdk/v1/media.js";
import { applyDesignTokens } from "/sdk/v1/ui/theme.js";
import { RoomsPanel } from "/meet/rooms.js";
import { QnaPanel } from "/meet/qna.js";
import { PluginsPanel } from "/meet/plugins.js";
import { PrivateChat } from "/meet/private_chat.js";
import { ChatView } from "/meet/chat.js";
import { PresenceNotices } from "/meet/notices.js";
import { RecordingControls } from "/meet/recording.js";
import { LivestreamPlayer, watchesLivestream } from "/meet/livestream_player.js";
import { LivestreamControls } from "/meet/livestream_controls.js";
import { Captions, afterwords, captionBadge, paintTranscribed } from "/meet/captions.js";
import { prejoinToggles, toggle } from "/meet/publishing.js";
import { HostTools } from "/meet/host_tools.js";
import { Hands, handBadge } from "/meet/hands.js";
import { Reactions } from "/meet/reactions.js";
import { SettingsSheet } from "/meet/settings.js";
import { networkBadge, watchNetwork } from "/meet/network.js";
import { applyCatalogue, fill, message } from "/meet/messages.js";
import { shortcuts } from "/meet/shortcuts.js";
import { SidePanel } from "/meet/side_panel.js";
import { watchToasts } from "/meet/toast_place.js";
import { MoreMenu } from "/meet/more_menu.js";
import { readableOnBrand } from "/meet/contrast.js";
import { mediaUnavailable } from "/meet/secure_origin.js";
import { StageView } from "/meet/stage_view.js";
import { PeoplePanel } from "/meet/people.js";
import { PollsPanel } from "/meet/polls.js";
import { $, act, debug, exit, failed, flag, notice, page, params, perms, setState, setToken, toast, token } from "/meet/page_state.js";
import { prejoin } from "/meet/prejoin.js";
import { paintStage, refresh, stageAction, syncPublishing, toggleScreen } from "/meet/control_bar.js";
import { attachTrack, detachTrack, watchFirstFrame } from "/meet/tracks.js";

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
  prejoin({join});
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
  watchToasts();  // notices clear of the side panel, its fields and your own tile
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
  setToken(page.client.token);
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