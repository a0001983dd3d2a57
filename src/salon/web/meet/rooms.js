// The "Rooms" panel of the meeting page: connected meetings (breakout rooms).
//
// Hosts with Full Access (`connected_meetings.can_alter_connected_meetings`) create and
// rename rooms, assign people (round robin or one by one), broadcast to every room, set
// a closing timer and close everything. People who may switch see the rooms they can go
// to and a button to go there. The server checks every action again; this panel only
// leaves out what the preset would refuse. Protocol: docs/protocol.md, "Connected meetings".

import { h, render } from "/sdk/v1/ui/dom.js";
import { fill, message } from "/meet/messages.js";

const rights = (client) => {
  const p = (client.self && client.self.permissions && client.self.permissions.connected_meetings) || {};
  return {
    alter: Boolean(p.can_alter_connected_meetings),
    switchRooms: Boolean(p.can_switch_connected_meetings),
    toParent: Boolean(p.can_switch_to_parent_meeting),
  };
};

/** Whether this peer has anything to do with rooms (the tab is hidden otherwise). */
export function usesRooms(client) {
  const r = rights(client);
  return r.alter || r.switchRooms || r.toParent;
}

export class RoomsPanel {
  /**
   * @param {HTMLElement} el where the panel renders
   * @param {object} client a SalonClient
   * @param {{act: Function, toast: Function, onChange?: Function}} ui
   */
  constructor(el, client, {act, toast, onChange = () => {}}) {
    this.el = el;
    this.client = client;
    this.act = act;
    this.toast = toast;
    this.onChange = onChange;
    this.family = null;  // {parent_meeting, meetings, timer}
    this.error = null;
    client.on("connected_meetings.updated", (family) => { this.family = family; this.paint(); });
    client.on("connected_meetings.timer", () => this.load());
    client.on("meeting.changed", () => this.load());
  }

  /** Fetch the rooms (on opening the panel, after a move). */
  async load() {
    if (!usesRooms(this.client)) return;
    try {
      this.family = await this.client.connected.list();
      this.error = null;
    } catch (error) {
      this.error = error.message || String(error);
    }
    this.paint();
  }

  get rooms() {
    if (!this.family) return [];
    return [{...this.family.parent_meeting, parent: true}, ...this.family.meetings];
  }

  get peopleCount() {
    return this.rooms.reduce((n, room) => n + room.participants.length, 0);
  }

  paint() {
    const r = rights(this.client);
    const here = this.client.meetingId;
    const sections = [];
    if (this.error) sections.push(h("p", {class: "muted", dataset: {testid: "rooms-error"}}, this.error));
    if (r.alter) sections.push(this.hostTools());
    if (this.family && this.family.timer) {
      sections.push(h("p", {class: "hint", dataset: {testid: "rooms-timer"}},
        fill("rooms.closes_at", {time: new Date(this.family.timer.ends_at).toLocaleTimeString()})));
    }
    if (this.family && !this.family.meetings.length) {
      sections.push(h("p", {class: "muted", dataset: {testid: "rooms-empty"}},
        message(r.alter ? "rooms.none.host" : "rooms.none")));
    }
    const list = this.rooms.map((room) => this.roomCard(room, here, r));
    sections.push(h("ul", {class: "rooms", dataset: {testid: "rooms"}}, list));
    render(this.el, sections);
    this.onChange(this);
  }

  hostTools() {
    const count = h("input", {type: "number", min: "1", max: "50", value: "2", class: "narrow",
                              "aria-label": message("rooms.how_many"), dataset: {testid: "rooms-count"}});
    const note = h("input", {placeholder: message("rooms.broadcast"), "aria-label": message("rooms.broadcast"), maxlength: "4000",
                             dataset: {testid: "rooms-broadcast-text"}});
    const minutes = h("input", {type: "number", min: "1", max: "1440", value: "10", class: "narrow",
                                "aria-label": message("rooms.minutes"), dataset: {testid: "rooms-timer-minutes"}});
    const c = this.client.connected;
    const hasRooms = this.family && this.family.meetings.length > 0;
    return h("div", {class: "room-tools", dataset: {testid: "room-tools"}},
      h("div", {class: "row"},
        count,
        h("button", {class: "small primary", dataset: {testid: "rooms-create"}, onclick: this.act(async () => {
          const n = Math.max(1, Math.min(50, Number(count.value) || 1));
          const start = (this.family ? this.family.meetings.length : 0) + 1;
          await c.create(Array.from({length: n}, (_, i) => fill("rooms.numbered", {number: start + i})));
          await this.load();
        })}, message("rooms.create")),
        hasRooms && h("button", {class: "small", dataset: {testid: "rooms-assign"}, onclick: this.act(async () => {
          const {assignments} = await c.assign("round_robin");
          const moved = Object.values(assignments).reduce((n, ids) => n + ids.length, 0);
          this.toast(moved ? fill(moved === 1 ? "rooms.assigned.one" : "rooms.assigned", {count: moved}) : message("rooms.assigned.none"));
        })}, message("rooms.assign"))),
      hasRooms && h("form", {class: "row", onsubmit: this.act(async () => {
        const text = note.value.trim();
        if (!text) return;
        const {delivered} = await c.broadcast(text);
        note.value = "";
        this.toast(fill(delivered === 1 ? "rooms.sent.one" : "rooms.sent", {count: delivered}));
      })}, note, h("button", {class: "small", type: "submit", dataset: {testid: "rooms-broadcast"}}, message("rooms.send"))),
      hasRooms && h("div", {class: "row"},
        minutes,
        h("button", {class: "small", dataset: {testid: "rooms-timer-set"}, onclick: this.act(async () => {
          const secs = Math.max(1, Number(minutes.value) || 1) * 60;
          await c.timer(secs, Math.min(60, secs / 2));
          await this.load();
        })}, message("rooms.timer.set")),
        this.family && this.family.timer && h("button", {class: "small", dataset: {testid: "rooms-timer-cancel"},
          onclick: this.act(async () => { await c.timer(null); await this.load(); })}, message("rooms.timer.cancel")),
        h("button", {class: "small danger", dataset: {testid: "rooms-close-all"}, onclick: this.act(async () => {
          await c.closeAll(false);
          this.toast(message("rooms.closing_all"));
        })}, message("rooms.close_all"))));
  }

  roomCard(room, here, r) {
    const c = this.client.connected;
    const isHere = room.id === here;
    const canGo = !isHere && (room.parent ? r.toParent : r.switchRooms);
    const title = room.title || message(room.parent ? "rooms.main" : "rooms.untitled");
    const heading = [h("span", {class: "name"}, room.parent ? fill("rooms.main_suffix", {title}) : title),
                     h("span", {class: "count"}, String(room.participants.length))];
    if (isHere) heading.push(h("span", {class: "badge"}, message("rooms.here")));
    const actions = [];
    if (canGo) {
      actions.push(h("button", {class: "small primary", dataset: {testid: "room-join"},
        onclick: this.act(() => c.switch(room.id))}, message(room.parent ? "rooms.go_back" : "rooms.join")));
    }
    if (r.alter && !room.parent) {
      actions.push(h("button", {class: "small", dataset: {testid: "room-rename"}, onclick: this.act(async () => {
        const name = window.prompt(message("rooms.name"), room.title || "");
        if (name !== null) { await c.update({[room.id]: name.trim() || null}); await this.load(); }
      })}, message("rooms.rename")));
      actions.push(h("button", {class: "small", dataset: {testid: "room-delete"}, onclick: this.act(async () => {
        await c.delete([room.id]);
        await this.load();
      })}, message("rooms.delete")));
    }
    const people = room.participants.map((person) => {
      const row = [h("span", {class: "name"}, person.display_name || person.custom_participant_id)];
      if (r.alter && person.peer_id !== this.client.peerId) row.push(this.moveSelect(person, room));
      return h("li", {class: "person", dataset: {testid: "room-person", peerId: person.peer_id}}, row);
    });
    return h("li", {class: `room${isHere ? " here" : ""}`, dataset: {testid: "room", meetingId: room.id}},
      h("div", {class: "room-head"}, heading, h("span", {class: "spacer"}), actions),
      people.length ? h("ul", {class: "room-people"}, people) : h("p", {class: "muted"}, message("rooms.empty")));
  }

  moveSelect(person, room) {
    const options = this.rooms.filter((other) => other.id !== room.id).map((other) =>
      h("option", {value: other.id}, other.parent ? message("rooms.main") : (other.title || message("rooms.untitled"))));
    const select = h("select", {class: "move", "aria-label": fill("rooms.move", {name: person.display_name}),
                                dataset: {testid: "room-move"}},
                     h("option", {value: ""}, message("rooms.move_to")), options);
    select.addEventListener("change", this.act(async () => {
      if (select.value) await this.client.connected.move(select.value, {peerIds: [person.peer_id]});
    }));
    return select;
  }
}
