// salon browser SDK, client: breakout rooms (client.connected): the meeting's family of
// connected meetings, moving peers between them, timers and broadcasts.

import { only } from "./only.js";

// Each class is a helper object the client makes in its constructor (`client.{name}`),
// holding the client as `this.c`.

export class Connected {
  constructor(client) { this.c = client; }
  list() { return this.c.request("connected.list"); }
  /** New child meetings (breakout rooms); `titles`: a list of titles (or nulls). */
  async create(titles) {
    return (await this.c.request("connected.create", {meetings: titles.map((title) => ({title}))})).meetings;
  }
  /** {meetingId: title} */
  async update(titles) {
    return (await this.c.request("connected.update", {meetings: Object.entries(titles).map(([id, title]) => ({id, title}))})).meetings;
  }
  delete(meetingIds) { return this.c.request("connected.delete", {meeting_ids: meetingIds}); }
  /** Move peers (or participants, or a preset's peers) to a meeting of the family. */
  move(toMeetingId, {peerIds, participantIds, presetName} = {}) {
    return this.c.request("connected.move", only({to_meeting_id: toMeetingId, peer_ids: peerIds,
                                                  participant_ids: participantIds, preset_name: presetName}));
  }
  switch(toMeetingId) { return this.c.request("connected.switch", {to_meeting_id: toMeetingId}); }
  /** "round_robin" ({meetingIds}) or "manual" ({assignments: {meetingId: [peerIds]}}). */
  assign(mode = "round_robin", {meetingIds, assignments} = {}) {
    return this.c.request("connected.assign", only({mode, meeting_ids: meetingIds, assignments}));
  }
  broadcast(message, payload = null) { return this.c.request("connected.broadcast", {message, payload}); }
  closeAll(deleteRooms = false) { return this.c.request("connected.close_all", {delete: deleteRooms}); }
  timer(closeInSecs, warnSecs = 60) {
    return this.c.request("connected.timer", {close_in_secs: closeInSecs, warn_secs: warnSecs});
  }
}
