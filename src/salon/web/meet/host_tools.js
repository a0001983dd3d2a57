// Host tools of the meeting page: the requests badge and its list, the host menu, the
// Remove confirmation, and notices of people waiting, stage requests, new polls and new
// questions.
//
// - The badge (top bar) shows for people who admit (`accept_waiting_requests`: the
//   waiting room) or manage the stage (`accept_stage_requests` or
//   `can_accept_production_requests`: stage requests) while anyone waits or asks, with the
//   number; it is a button that opens the list, where each person has Admit / Deny in
//   place (Admit all when more than one). At zero it goes, and the list closes.
// - A notice (toast) for each person who starts waiting, with Admit; a polite live
//   region (`host-announce`) says "Ana is waiting to join." once per person (and, for
//   stage managers, "Ana asks to join the stage.", with Admit too); a notice goes when
//   its request does (admitted, denied, left). The toasts
//   themselves are kept out of the page's live toast region (aria-live="off"), so a
//   screen reader hears each notice once.
// - The host menu (control bar) for `kick_participant` (End meeting for all:
//   `host.kick_all`, after a confirmation) and `disable_participant_audio` (Mute all:
//   `host.mute_all`, unmuting allowed). A disclosure: a button with aria-expanded and a
//   group of buttons; Escape closes it and gives the focus back to its button.
// - remove(peer): Remove from the People list, after a confirmation (confirm.js).
// - New poll (`poll.created`, sent only to peers with `polls.can_view`): "Ana started a
//   poll: …" with Open polls; new question (`qna.asked`) for stage managers (who answer
//   questions): "New question from Ana: …" with View. None while that panel is open.
// The server checks every request again; this only leaves out what it would refuse.

import { h, render } from "/sdk/v1/ui/dom.js";
import { confirmAction } from "/meet/confirm.js";
import { fill, message } from "/meet/messages.js";

const NOTICE_MS = 5000;

const permissions = (client) => (client.self && client.self.permissions) || {};
export const admits = (client) => Boolean(permissions(client).accept_waiting_requests);
export const managesStage = (client) => {
  const p = permissions(client);
  return Boolean(p.accept_stage_requests || p.can_accept_production_requests);
};

export class HostTools {
  /**
   * @param {{topbar: HTMLElement, controls: HTMLElement, toasts: HTMLElement,
   *          before: {badge: Element, menu: Element}}} els where things go (the badge and its
   *   list before `before.badge` in the top bar, the menu before `before.menu` in the controls)
   * @param {object} client a SalonClient
   * @param {{act: Function, openPanel: Function, panel: Function}} ui `act(fn)` makes a click
   *   handler that reports failures; `openPanel(name)` shows a side panel; `panel()` names
   *   the open one
   */
  constructor(els, client, {act, openPanel, panel}) {
    this.els = els;
    this.client = client;
    this.act = act;
    this.openPanel = openPanel;
    this.openPanelName = panel;
    this.announced = new Set();  // peer ids (and stage request ids) already said aloud

    this.count = h("span", {class: "count", dataset: {testid: "host-badge-count"}});
    this.label = h("span", {class: "host-badge-label"});
    this.badge = h("button", {type: "button", id: "host-badge", class: "host-badge", hidden: true,
                              "aria-expanded": "false", "aria-controls": "host-requests",
                              dataset: {testid: "host-badge"}, onclick: () => this.toggleList()},
      this.label, this.count);
    this.announce = h("span", {class: "sr-only", role: "status", "aria-live": "polite",
                               dataset: {testid: "host-announce"}});
    this.list = h("section", {id: "host-requests", class: "host-popover host-requests", hidden: true,
                              role: "region", "aria-label": message("requests.title"),
                              dataset: {testid: "host-requests"}});
    for (const el of [this.list, this.badge]) {
      el.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && !this.list.hidden) { event.preventDefault(); this.closeList(true); }
      });
    }
    // The list follows its button (so it is next in the tab order); it is drawn fixed
    // under the top bar.
    for (const el of [this.badge, this.list, this.announce]) els.topbar.insertBefore(el, els.before.badge);

    this.menuButton = h("button", {type: "button", id: "btn-host", class: "control", hidden: true,
                                   "aria-expanded": "false", "aria-controls": "host-menu",
                                   dataset: {testid: "btn-host"}, onclick: () => this.toggleMenu()},
      message("host.menu"));
    this.muteAll = h("button", {type: "button", dataset: {testid: "host-mute-all"},
                                onclick: act(() => this.muteEveryone())}, message("host.mute_all"));
    this.endAll = h("button", {type: "button", class: "danger", dataset: {testid: "host-end-all"},
                               onclick: act(() => this.endForAll())}, message("host.end_all"));
    this.menu = h("div", {id: "host-menu", class: "host-popover host-menu", role: "group", hidden: true,
                          "aria-label": message("host.menu"), dataset: {testid: "host-menu"}},
      this.muteAll, this.endAll);
    this.menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); this.closeMenu(true); }
    });
    this.menuButton.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.menu.hidden === false) { event.preventDefault(); this.closeMenu(true); }
    });
    for (const el of [this.menuButton, this.menu]) els.controls.insertBefore(el, els.before.menu);

    // A click elsewhere closes the list and the menu (not the dialog's clicks: it is modal).
    document.addEventListener("pointerdown", (event) => {
      if (!this.list.hidden && !this.list.contains(event.target) && !this.badge.contains(event.target)) this.closeList(false);
      if (!this.menu.hidden && !this.menu.contains(event.target) && !this.menuButton.contains(event.target)) this.closeMenu(false);
    });
    window.addEventListener("resize", () => this.place());

    const repaint = () => this.paint();
    client.on("waitlist.removed", ({peer_id: peerId}) => this.dropNotice(peerId));
    for (const event of ["waitlist.removed", "stage.requests", "self.updated", "self.admitted",
                         "meeting.changed", "resumed"]) client.on(event, repaint);
    client.on("meeting.changed", () => this.announced.clear());  // another room, other people
    client.on("waitlist.added", ({peer}) => { this.waiting(peer); this.paint(); });
    client.on("stage.requests", ({requests}) => this.stageAsked(requests || []));
    client.on("poll.created", ({poll}) => this.pollStarted(poll));
    client.on("qna.asked", ({question}) => this.questionAsked(question));
    this.paint();
  }

  // --- what there is to show ---------------------------------------------------------------

  get waitingPeople() { return admits(this.client) ? [...this.client.waiting.values()] : []; }
  get stagePeople() { return managesStage(this.client) ? this.client.stageRequests : []; }

  paint() {
    const waiting = this.waitingPeople;
    const stage = this.stagePeople;
    const total = waiting.length + stage.length;
    this.badge.hidden = total === 0;
    this.count.textContent = total ? String(total) : "";
    this.label.textContent = message(waiting.length && stage.length ? "requests.badge.both"
      : stage.length ? "requests.badge.stage" : "requests.badge.waiting");
    const said = [waiting.length ? fill("requests.badge.label.waiting", {count: waiting.length}) : null,
                  stage.length ? fill("requests.badge.label.stage", {count: stage.length}) : null];
    this.badge.setAttribute("aria-label", `${this.label.textContent} (${total}): ${said.filter(Boolean).join(", ")}`);
    this.badge.dataset.waiting = String(waiting.length);
    this.badge.dataset.stage = String(stage.length);
    if (!total) this.closeList(this.list.contains(document.activeElement));
    else if (!this.list.hidden) this.paintList();

    const p = permissions(this.client);
    this.muteAll.hidden = !p.disable_participant_audio;
    this.endAll.hidden = !p.kick_participant;
    this.menuButton.hidden = this.muteAll.hidden && this.endAll.hidden;
    if (this.menuButton.hidden) this.closeMenu(false);
    this.place();
  }

  paintList() {
    const {client, act} = this;
    // Where the keyboard is, to put it back on the same row (or the next) after drawing.
    const focused = this.list.contains(document.activeElement) ? document.activeElement : null;
    const rows = [...this.list.querySelectorAll("li")];
    const at = focused ? rows.findIndex((li) => li.contains(focused)) : -1;
    const waiting = this.waitingPeople;
    const stage = this.stagePeople;
    const row = (testid, peer, meta, admit, deny) =>
      h("li", {class: "person", dataset: {testid, peerId: peer.peer_id, name: peer.name}},
        h("div", {class: "who"}, h("div", {class: "name"}, peer.name), meta ? h("div", {class: "meta"}, meta) : null),
        h("div", {class: "actions"},
          h("button", {type: "button", class: "primary", dataset: {testid: `${testid}-admit`},
                       "aria-label": fill("requests.admit.label", {name: peer.name}), onclick: act(admit)},
            message("requests.admit")),
          h("button", {type: "button", dataset: {testid: `${testid}-deny`},
                       "aria-label": fill("requests.deny.label", {name: peer.name}), onclick: act(deny)},
            message("requests.deny"))));
    const parts = [h("div", {class: "host-popover-head"},
      h("h2", {}, message("requests.title")),
      h("button", {type: "button", class: "quiet", dataset: {testid: "requests-close"},
                   onclick: () => this.closeList(true)}, message("requests.close")))];
    if (waiting.length) {
      parts.push(h("h3", {}, fill("requests.waiting", {count: waiting.length})));
      if (waiting.length > 1) {
        parts.push(h("button", {type: "button", class: "primary admit-all", dataset: {testid: "requests-admit-all"},
                                onclick: act(() => client.waitlist.admit())}, message("requests.admit_all")));
      }
      parts.push(h("ul", {class: "people", dataset: {testid: "requests-waiting"}}, waiting.map((peer) =>
        row("request-waiting", peer, null,
            () => client.waitlist.admit([peer.peer_id]), () => client.waitlist.reject([peer.peer_id])))));
    }
    if (stage.length) {
      parts.push(h("h3", {}, fill("requests.stage", {count: stage.length})));
      if (stage.length > 1) {
        parts.push(h("button", {type: "button", class: "primary admit-all", dataset: {testid: "requests-stage-admit-all"},
                                onclick: act(() => client.stage.grant(stage.map((r) => r.peer_id)))},
          message("requests.admit_all")));
      }
      parts.push(h("ul", {class: "people", dataset: {testid: "requests-stage"}}, stage.map((req) =>
        row("request-stage", req, message("requests.stage_label"),
            () => client.stage.grant([req.peer_id]), () => client.stage.deny([req.peer_id])))));
    }
    render(this.list, parts);
    if (focused && !focused.isConnected) {
      const next = [...this.list.querySelectorAll("li")];
      const target = next.length ? next[Math.min(Math.max(at, 0), next.length - 1)].querySelector("button")
        : this.list.querySelector("button");
      if (target) target.focus();
    }
  }

  // --- the list and the menu -----------------------------------------------------------------

  toggleList() {
    if (this.list.hidden) this.openList();
    else this.closeList(true);
  }

  openList() {
    this.closeMenu(false);
    this.paintList();
    this.list.hidden = false;
    this.badge.setAttribute("aria-expanded", "true");
    this.place();
    const first = this.list.querySelector("li button, .admit-all");
    if (first) first.focus();
  }

  /** `refocus`: give the focus back to the badge (or, if it is gone, the next sensible place). */
  closeList(refocus) {
    if (this.list.hidden) return;
    const had = this.list.contains(document.activeElement);
    this.list.hidden = true;
    this.badge.setAttribute("aria-expanded", "false");
    if (refocus || had) this.focusHome(this.badge);
  }

  toggleMenu() {
    if (this.menu.hidden) this.openMenu();
    else this.closeMenu(true);
  }

  openMenu() {
    this.closeList(false);
    this.menu.hidden = false;
    this.menuButton.setAttribute("aria-expanded", "true");
    this.place();
    const first = [...this.menu.querySelectorAll("button")].find((b) => !b.hidden);
    if (first) first.focus();
  }

  closeMenu(refocus) {
    if (this.menu.hidden) return;
    const had = this.menu.contains(document.activeElement);
    this.menu.hidden = true;
    this.menuButton.setAttribute("aria-expanded", "false");
    if (refocus || had) this.focusHome(this.menuButton);
  }

  /** Focus `el` if it shows, else the host menu's button, else the microphone button. */
  focusHome(el) {
    // More holds the host menu's button when the control bar had no room for it (more_menu.js).
    for (const target of [el, this.menuButton, document.getElementById("btn-more"), document.getElementById("btn-mic")]) {
      if (target && target.isConnected && !target.hidden && !target.closest("[hidden]")) { target.focus(); return; }
    }
  }

  /** The list hangs below the top bar, the menu above the control bar (which wraps to
   * two rows on a phone), inside the window; the notices are placed by toast_place.js. */
  place() {
    const controls = this.els.controls.getBoundingClientRect();
    if (!this.list.hidden) {
      const top = this.els.topbar.getBoundingClientRect().bottom + 8;
      this.list.style.top = `${Math.round(top)}px`;
      this.list.style.maxHeight = `${Math.max(160, Math.round(window.innerHeight - top - 16))}px`;
    }
    if (!this.menu.hidden && controls.height) {
      this.menu.style.bottom = `${Math.round(window.innerHeight - controls.top + 8)}px`;
    }
  }

  // --- host actions ------------------------------------------------------------------------------

  async muteEveryone() {
    this.closeMenu(true);
    await this.client.host.muteAll(true);
    this.notify(message("host.muted_all"), {testid: "notice-muted-all"});
  }

  async endForAll() {
    this.closeMenu(true);
    const ok = await confirmAction({title: message("confirm.end.title"), text: message("confirm.end.text"),
                                    confirm: message("confirm.end.ok")});
    if (ok) await this.client.host.kickAll();
  }

  /** Remove one person from the meeting, if the host confirms. */
  async remove(peer) {
    const ok = await confirmAction({title: fill("confirm.remove.title", {name: peer.name}),
                                    text: fill("confirm.remove.text", {name: peer.name}),
                                    confirm: message("confirm.remove.ok")});
    if (ok) await this.client.host.kick([peer.peer_id]);
    return ok;
  }

  // --- notices -----------------------------------------------------------------------------------

  /** A toast (kept out of the live toast region) and, when `say`, the polite announcement. */
  notify(text, {testid = "notice", action = null, actionTestid = null, actionLabel = null, onAction = null,
                say = true, ms = NOTICE_MS, peerId = null} = {}) {
    const el = h("div", {class: "toast notice-toast", "aria-live": "off",
                         dataset: {testid: "toast", notice: testid, peerId: peerId || undefined}},
      h("span", {class: "notice-text"}, text));
    if (action) {
      el.append(h("button", {type: "button", class: "small primary", dataset: {testid: actionTestid},
                             "aria-label": actionLabel || action,
                             onclick: this.act(async () => { el.remove(); await onAction(); })}, action));
    }
    this.els.toasts.append(el);
    this.place();
    // Kept while the keyboard or the mouse is on it, then gone.
    let due = false;
    const go = () => { if (el.contains(document.activeElement) || el.matches(":hover")) due = true; else el.remove(); };
    el.addEventListener("focusout", () => setTimeout(() => { if (due && !el.contains(document.activeElement)) el.remove(); }, 0));
    el.addEventListener("mouseleave", () => { if (due) go(); });
    setTimeout(go, ms);
    if (say) this.say(text);
    return el;
  }

  /** Someone no longer waits (admitted, denied, gone): their notice's Admit means nothing now. */
  dropNotice(peerId, kind = "waiting") {
    for (const el of this.els.toasts.querySelectorAll(`[data-notice="${kind}"]`)) {
      if (el.dataset.peerId !== peerId) continue;
      const had = el.contains(document.activeElement);
      el.remove();
      if (had) this.focusHome(this.badge);
    }
  }

  say(text) {
    // A fresh node each time: the same sentence twice in a row is still heard.
    render(this.announce, h("span", {}, text));
  }

  waiting(peer) {
    if (!admits(this.client) || this.announced.has(peer.peer_id)) return;
    this.announced.add(peer.peer_id);
    this.notify(fill("notice.waiting", {name: peer.name}), {
      testid: "waiting", peerId: peer.peer_id, action: message("requests.admit"), actionTestid: "notice-admit",
      actionLabel: fill("requests.admit.label", {name: peer.name}),
      onAction: async () => {
        await this.client.waitlist.admit([peer.peer_id]);
        this.focusHome(this.badge);
      }});
  }

  stageAsked(requests) {
    if (!managesStage(this.client)) return;
    for (const req of requests) {
      const key = `stage:${req.peer_id}`;
      if (this.announced.has(key)) continue;
      this.announced.add(key);
      this.notify(fill("notice.stage", {name: req.name}), {
        testid: "stage", peerId: req.peer_id, action: message("requests.admit"), actionTestid: "notice-stage-admit",
        actionLabel: fill("requests.admit.label", {name: req.name}),
        onAction: async () => {
          await this.client.stage.grant([req.peer_id]);
          this.focusHome(this.badge);
        }});
    }
    // Asking again later is news again; the notice of a request that went goes too.
    const now = new Set(requests.map((r) => r.peer_id));
    for (const key of [...this.announced]) {
      if (key.startsWith("stage:") && !now.has(key.slice(6))) {
        this.announced.delete(key);
        this.dropNotice(key.slice(6), "stage");
      }
    }
  }

  pollStarted(poll) {
    const self = this.client.self;
    if (!poll || (self && poll.created_by_user_id && poll.created_by_user_id === self.participant_id)) return;
    if (this.openPanelName() === "polls") return;
    this.notify(fill("notice.poll", {name: poll.created_by || "", question: poll.question}), {
      testid: "poll", action: message("notice.poll.open"), actionTestid: "notice-open-polls",
      onAction: () => this.show("polls"), ms: 8000});
  }

  questionAsked(question) {
    if (!question || !managesStage(this.client) || this.openPanelName() === "qna") return;
    const name = question.asked_by ? question.asked_by.name : message("notice.question.anonymous");
    this.notify(fill("notice.question", {name, question: question.text}), {
      testid: "question", action: message("notice.question.view"), actionTestid: "notice-view-question",
      onAction: () => this.show("qna"), ms: 8000});
  }

  /** Open a side panel from a notice, and put the keyboard on its tab. */
  show(name) {
    this.openPanel(name);
    const tab = document.querySelector(`.tab[data-panel="${CSS.escape(name)}"]`);
    if (tab) tab.focus();
  }
}
