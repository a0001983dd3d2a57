// salon browser SDK, client: presence and self: the room's state, ping, rename, what
// this peer sends, pins, broadcasts, reactions, the participant list (client.state(), …,
// also as client.presence.*), and your own raised hand (client.hand).

import { only } from "./only.js";

// SalonClient's methods: salon.js copies them onto SalonClient.prototype (this class is
// never instantiated), so `this` is the client and every field is the client's.
export class PresenceMethods {
  // --- presence and self (also as client.presence.*) -------------------------------------

  state() { return this.presence.state(); }
  ping() { return this.presence.ping(); }
  rename(name) { return this.presence.rename(name); }
  setMedia(kinds) { return this.presence.setMedia(kinds); }
  pin(peerId) { return this.presence.pin(peerId); }
  broadcast(type, payload, options) { return this.presence.broadcast(type, payload, options); }
  /** Send one of REACTIONS to everyone joined (you get it back as a `reaction` event too). */
  react(emoji) { return this.request("reaction.send", {emoji}); }
  /** One page of the participant list, in joining order: resolves with {peers,
   * next_cursor, counts}; pass `next_cursor` back as `cursor` for the next page (null:
   * the last). `search`: a case-insensitive part of the name. Needs host rights or
   * `show_participant_list`. */
  listPeers({cursor, limit, search} = {}) {
    return this.request("peers.list", only({cursor: cursor ?? undefined, limit,
                                            search: search || undefined}));
  }
}

// Each class is a helper object the client makes in its constructor (`client.{name}`),
// holding the client as `this.c`.

export class Presence {
  constructor(client) { this.c = client; }
  async state() {
    const reply = await this.c.request("state");
    this.c._applyState(reply);
    this.c._recordingsChanged({});
    return reply;
  }
  ping() { return this.c.request("ping"); }
  rename(name) { return this.c.request("self.rename", {name}); }
  /** {audio?, video?, screenshare?}: what this peer says it is sending. */
  setMedia(kinds) { return this.c.request("self.media", only(kinds)); }
  pin(peerId) { return this.c.request("peer.pin", {peer_id: peerId ?? null}); }
  broadcast(type, payload = null, {participantIds, presetNames} = {}) {
    return this.c.request("broadcast", only({type, payload, participant_ids: participantIds,
                                             preset_names: presetNames}));
  }
}

/** Your own hand: `client.hand.raise()`, `lower()`, `raised` (the reply's
 * `hand_raised_at` lands in `client.self` with the `self.updated` that follows). */
export class Hand {
  constructor(client) { this.c = client; }
  get raised() { return Boolean(this.c.self && this.c.self.hand_raised_at); }
  raise() { return this.c.request("self.hand", {raised: true}); }
  lower() { return this.c.request("self.hand", {raised: false}); }
  toggle() { return this.raised ? this.lower() : this.raise(); }
}
