// salon browser SDK, client: the host's tools and the stage: client.host (kick, media,
// permissions, pins, hands), client.stage (requests to join the stage and the host's
// answers) and client.waitlist (the waiting room).

// Each class is a helper object the client makes in its constructor (`client.{name}`),
// holding the client as `this.c`.

export class Host {
  constructor(client) { this.c = client; }
  kick(peerIds) { return this.c.request("host.kick", {peer_ids: peerIds}); }
  kickAll() { return this.c.request("host.kick_all"); }
  disableMedia(peerIds, kinds) { return this.c.request("host.disable_media", {peer_ids: peerIds, kinds}); }
  allowMedia(peerIds, kinds) { return this.c.request("host.allow_media", {peer_ids: peerIds, kinds}); }
  muteAll(allowUnmute = true) { return this.c.request("host.mute_all", {allow_unmute: allowUnmute}); }
  disableAllVideo() { return this.c.request("host.disable_all_video"); }
  updatePermissions(peerIds, patch) {
    return this.c.request("host.update_permissions", {peer_ids: peerIds, patch});
  }
  pin(peerId) { return this.c.request("peer.pin", {peer_id: peerId ?? null}); }
  /** Lower the named peers' hands, or every raised hand (null). */
  lowerHands(peerIds = null) {
    return this.c.request("host.lower_hands", peerIds ? {peer_ids: peerIds} : {all: true});
  }
}

export class Stage {
  constructor(client) { this.c = client; }
  request() { return this.c.request("stage.request"); }
  cancelRequest() { return this.c.request("stage.cancel_request"); }
  async listRequests() { return (await this.c.request("stage.list_requests")).requests; }
  grant(peerIds) { return this.c.request("stage.grant", {peer_ids: peerIds}); }
  deny(peerIds) { return this.c.request("stage.deny", {peer_ids: peerIds}); }
  join() { return this.c.request("stage.join"); }
  leave() { return this.c.request("stage.leave"); }
  kick(peerIds) { return this.c.request("stage.kick", {peer_ids: peerIds}); }
}

export class Waitlist {
  constructor(client) { this.c = client; }
  async list() { return (await this.c.request("waitlist.list")).waiting; }
  /** Admit some peers, or everyone waiting when `peerIds` is omitted. */
  admit(peerIds) {
    return this.c.request("waitlist.admit", peerIds ? {peer_ids: peerIds} : {all: true});
  }
  reject(peerIds) {
    return this.c.request("waitlist.reject", peerIds ? {peer_ids: peerIds} : {all: true});
  }
}
