// The "People" panel of the meeting page: raised hands (hands.js), the waiting room and
// stage requests for those who manage them, and everyone in the meeting with the actions
// the viewer's permissions allow on each (pin, mute, stage, remove, message privately).
//
// The server checks every action again; this panel only leaves out what it would refuse.
// Remove goes through the confirmation dialog (host_tools.js).

import { h, render, initials, hue } from "/sdk/v1/ui/dom.js";
import { fill, message } from "/meet/messages.js";
import { AudienceList } from "/meet/audience.js";

export const avatar = (name, extra = "") =>
  h("div", {class: `avatar ${extra}`, style: {"--hue": hue(name)}, dataset: {testid: "avatar"}}, initials(name));

const managesStage = (p) => Boolean(p.accept_stage_requests || p.can_accept_production_requests);

export class PeoplePanel {
  /**
   * @param {HTMLElement} el where the panel renders
   * @param {object} client a SalonClient
   * @param {object} ui
   * @param {Function} ui.act  wraps an action (errors become toasts)
   * @param {() => object|null} ui.hands  the raised hands (hands.js), once made
   * @param {(peer: object) => void} ui.remove  Remove, through the confirmation dialog
   * @param {() => object|null} ui.privateChat  who the chat box sends to (private_chat.js)
   * @param {(name: string) => void} ui.openPanel  opens another side panel
   */
  constructor(el, client, {act, hands, remove, privateChat, openPanel}) {
    this.el = el;
    this.client = client;
    this.act = act;
    this.hands = hands;
    this.remove = remove;
    this.privateChat = privateChat;
    this.openPanel = openPanel;
  }

  get permissions() { return (this.client.self && this.client.self.permissions) || {}; }

  paint() {
    const {client} = this;
    const p = this.permissions;
    const hands = this.hands();
    const sections = hands ? hands.section() : [];
    if (p.accept_waiting_requests) sections.push(...this.waiting());
    if (managesStage(p) && client.stageRequests.length) sections.push(...this.stageRequests());
    if (client.audience && client.audience.large) {
      // A large room: counts, and the audience a page at a time (audience.js).
      this.audience ||= new AudienceList(client, {row: (peer) => this.row(peer), repaint: () => this.paint()});
      sections.push(...this.audience.section(p.show_participant_list));
    } else if (p.show_participant_list) {
      const others = [...client.peers.values()].sort((a, b) => String(a.joined_at).localeCompare(String(b.joined_at)));
      const people = [client.self, ...others];
      sections.push(h("h2", {}, fill("people.in_meeting", {count: people.length})));
      sections.push(h("ul", {class: "people", dataset: {testid: "participants"}}, people.map((peer) => this.row(peer))));
    }
    const keep = this.focusNow();
    render(this.el, sections);
    if (this.audience && client.audience && client.audience.large) this.audience.painted();  // its search box
    else this.focusAgain(keep);
  }

  /** What has focus in the panel ({testid, peerId}), to find it again after a repaint. */
  focusNow() {
    const active = document.activeElement;
    if (!active || !this.el.contains(active)) return null;
    const row = active.closest("[data-peer-id]");
    return {testid: active.dataset.testid || "", peerId: row ? row.dataset.peerId : ""};
  }

  /** The panel is repainted on every change in the room: the keyboard stays where it was
   * (the same button of the same person; else that person's first button; else the panel). */
  focusAgain(keep) {
    if (!keep) return;
    const row = keep.peerId ? this.el.querySelector(`[data-peer-id="${CSS.escape(keep.peerId)}"]`) : null;
    const scope = row || this.el;
    const same = keep.testid ? scope.querySelector(`[data-testid="${CSS.escape(keep.testid)}"]`) : null;
    const target = same || (row && row.querySelector("button")) || this.el;
    if (target === this.el && !this.el.hasAttribute("tabindex")) this.el.tabIndex = -1;
    target.focus();
  }

  waiting() {
    const {client, act} = this;
    const waiting = [...client.waiting.values()];
    const out = [h("h2", {}, fill("people.waiting", {count: waiting.length}))];
    if (waiting.length > 1) {
      out.push(h("button", {class: "small", dataset: {testid: "admit-all"}, onclick: act(() => client.waitlist.admit())}, message("people.admit_all")));
    }
    out.push(h("ul", {class: "people", dataset: {testid: "waiting-list"}}, waiting.map((peer) =>
      h("li", {class: "person", dataset: {testid: "waiting-person", peerId: peer.peer_id}},
        avatar(peer.name),
        h("div", {class: "who"}, h("div", {class: "name"}, peer.name)),
        h("div", {class: "actions"},
          this.button("action-admit", "people.admit", peer, () => client.waitlist.admit([peer.peer_id]), "primary"),
          this.button("action-reject", "people.reject", peer, () => client.waitlist.reject([peer.peer_id])))))));
    if (!waiting.length) out.push(h("p", {class: "muted"}, message("people.nobody_waiting")));
    return out;
  }

  stageRequests() {
    const {client} = this;
    return [
      h("h2", {}, fill("people.stage_requests", {count: client.stageRequests.length})),
      h("ul", {class: "people", dataset: {testid: "stage-requests"}}, client.stageRequests.map((req) =>
        h("li", {class: "person", dataset: {testid: "stage-request", peerId: req.peer_id}},
          avatar(req.name),
          h("div", {class: "who"}, h("div", {class: "name"}, req.name)),
          h("div", {class: "actions"},
            this.button("action-stage-grant", "people.grant", req, () => client.stage.grant([req.peer_id]), "primary"),
            this.button("action-stage-deny", "people.deny", req, () => client.stage.deny([req.peer_id])))))),
    ];
  }

  /** One person, with what the viewer may do to them. */
  row(peer) {
    const {client} = this;
    const isSelf = peer.peer_id === client.self.peer_id;
    const actions = isSelf ? this.selfActions(peer) : this.actions(peer);
    const meta = [
      message(peer.audio ? "people.mic_on" : "people.mic_off"),
      message(peer.video ? "people.camera_on" : "people.camera_off"),
      peer.screenshare ? message("people.sharing") : null,
      peer.transcribed ? message("people.captioned") : null,
      peer.stage_status && peer.stage_status !== "ON_STAGE" ? message(`people.stage.${peer.stage_status}`) || peer.stage_status : null,
    ].filter(Boolean).join(" · ");
    const hands = this.hands();
    return h("li", {class: "person", dataset: {testid: "participant", peerId: peer.peer_id, name: peer.name}},
      avatar(peer.name),
      h("div", {class: "who"},
        h("div", {class: "name"}, h("span", {}, isSelf ? fill("people.you", {name: peer.name}) : peer.name), hands && hands.mark(peer)),
        h("div", {class: "meta"}, meta)),
      actions.length ? h("div", {class: "actions"}, actions) : null);
  }

  /** A small button showing the word `id` and named for the person it acts on
   * (`id`.label: "Mute Ana"), as every row has the same words. */
  button(testid, id, peer, fn, extra = "") {
    return h("button", {class: `small ${extra}`, dataset: {testid}, "aria-label": fill(`${id}.label`, {name: peer.name}),
                        onclick: this.act(fn)}, message(id));
  }

  selfActions(peer) {
    const {client} = this;
    if (!this.permissions.pin_participant) return [];
    return [this.button("action-pin", peer.pinned ? "people.unpin" : "people.pin", peer, () => client.pin(peer.pinned ? null : peer.peer_id))];
  }

  actions(peer) {
    const {client} = this;
    const p = this.permissions;
    const ids = [peer.peer_id];
    const out = [];
    const add = (testid, id, fn, extra) => out.push(this.button(testid, id, peer, fn, extra));
    if (p.pin_participant) add("action-pin", peer.pinned ? "people.unpin" : "people.pin", () => client.pin(peer.pinned ? null : peer.peer_id));
    if (p.disable_participant_audio && peer.audio) add("action-mute", "people.mute", () => client.host.disableMedia(ids, ["audio"]));
    if (p.disable_participant_video && peer.video) add("action-video-off", "people.stop_video", () => client.host.disableMedia(ids, ["video"]));
    if (p.disable_participant_screensharing && peer.screenshare) add("action-screen-off", "people.stop_sharing", () => client.host.disableMedia(ids, ["screenshare"]));
    if (managesStage(p)) {
      if (peer.stage_status === "REQUESTED_TO_JOIN_STAGE") {
        add("action-stage-grant", "people.grant", () => client.stage.grant(ids), "primary");
        add("action-stage-deny", "people.deny", () => client.stage.deny(ids));
      } else if (peer.stage_status === "ON_STAGE" && p.stage_enabled) {
        add("action-stage-kick", "people.stage_kick", () => client.stage.kick(ids));
      } else if (peer.stage_status === "OFF_STAGE") {
        add("action-stage-invite", "people.stage_invite", () => client.stage.grant(ids));
      }
    }
    if (p.kick_participant) add("action-kick", "people.remove", () => this.remove(peer), "danger");
    const chat = this.privateChat();
    if (chat && chat.canMessage(peer.participant_id)) {
      add("action-message", "people.message", () => { chat.choose(peer.participant_id); this.openPanel("chat"); });
    }
    return out;
  }
}
