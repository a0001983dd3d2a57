// salon browser SDK, client: the view of the room kept from the events (`client.self`,
// `client.peers`, `client.waiting`, `client.recordings`, `client.transcripts`, …): the
// join or resume reply and `state` set it whole, each event patches it before its
// listeners see it (`_track`), and what a UI renders is read from it (`recordingStatus`,
// `raisedHands`, `captionsAvailable`).

import { ACTIVE_LIVESTREAM, ACTIVE_RECORDING, PROTOCOL_VERSION } from "../salon.js";

// SalonClient's methods: salon.js copies them onto SalonClient.prototype (this class is
// never instantiated), so `this` is the client and every field is the client's.
export class RoomViewMethods {
  /** What a recording indicator shows: "RECORDING" while any active recording records,
   * else "PAUSED" while one is paused, else "INVOKED" while one is starting, else null. */
  get recordingStatus() {
    const statuses = new Set([...this.recordings.values()].map((r) => r.status));
    return ["RECORDING", "PAUSED", "INVOKED"].find((s) => statuses.has(s)) || null;
  }
  /** Every joined peer with a hand up (this one included), first raised first: the
   * server keeps raise times distinct, so their order is the raise order. */
  get raisedHands() {
    const all = [...(this.self && this.self.status === "joined" ? [this.self] : []), ...this.peers.values()];
    return all.filter((p) => p.hand_raised_at)
      .sort((a, b) => String(a.hand_raised_at).localeCompare(String(b.hand_raised_at)));
  }
  /** Whether anyone in the meeting (this peer included) is captioned live: a PeerView
   * with `transcribed: true`. */
  get captionsAvailable() {
    return Boolean((this.self && this.self.transcribed) ||
                   [...this.peers.values()].some((p) => p.transcribed));
  }

  /** `recordings.changed` {recordings, recording, by_peer_id}: the active recordings
   * (`client.recordings`) changed, after the event that changed them (recording.updated,
   * meeting.changed, self.admitted), a join or resume, or a `state` reply. */
  _recordingsChanged({recording = null, by_peer_id: byPeerId = null}) {
    this._emit("recordings.changed", {recordings: [...this.recordings.values()], recording,
                                      by_peer_id: byPeerId});
  }

  _applyState({self, room, media}) {
    if (self) this.self = self;
    if (media) this.mediaConfig = media;
    if (room) {
      this.room = room;
      this.peers = new Map((room.peers || [])
        .filter((p) => p.peer_id !== this.peerId).map((p) => [p.peer_id, p]));
      this.pinnedPeerId = room.pinned_peer_id || null;
      this.lastSpeakerPeerId = room.last_speaker_peer_id || null;
      this.audience = {large: Boolean(room.large), counts: room.counts || null,
                       nextCursor: room.peers_next_cursor ?? null};
      this.waiting = new Map((room.waiting || []).map((p) => [p.peer_id, p]));
      this.stageRequests = room.stage_requests || [];
      // A new Map whenever it changes: _receive and _joined compare to tell views.
      this.recordings = new Map((room.recordings || [])
        .filter((r) => ACTIVE_RECORDING.has(r.status)).map((r) => [r.id, r]));
      this.livestream = room.livestream || null;
    }
  }

  /** Keep the room view current before listeners see the event. */
  _track(event, data) {
    switch (event) {
      case "peer.joined":
      case "peer.updated":
        if (data.peer && data.peer.peer_id !== this.peerId) this.peers.set(data.peer.peer_id, data.peer);
        break;
      case "peer.left":
        this.peers.delete(data.peer_id);
        if (this.lastSpeakerPeerId === data.peer_id) this.lastSpeakerPeerId = null;
        this._dropInterims((t) => t.peerId === data.peer_id);  // they will never be final
        break;
      case "audience.delta": {
        // Batched audience presence: counts, and leavers dropped from what we hold.
        // Joiners are not added: the list is paged (listPeers), not pushed whole.
        for (const id of data.left || []) this.peers.delete(id);
        const wasLarge = this.audience.large;
        this.audience = {...this.audience, large: Boolean(data.large), counts: data.counts};
        if (wasLarge && !data.large) this.state().catch(() => {});  // small again: everyone
        break;
      }
      case "self.updated":
        this.self = data.self;
        break;
      case "self.admitted":
        this._applyState(data);
        break;
      case "media.speaker":
        if (data.peer_id) this.lastSpeakerPeerId = data.peer_id;
        break;
      case "room.pinned":
        this.pinnedPeerId = data.peer_id || null;
        for (const [id, peer] of this.peers) this.peers.set(id, {...peer, pinned: id === this.pinnedPeerId});
        if (this.self) this.self = {...this.self, pinned: this.self.peer_id === this.pinnedPeerId};
        break;
      case "waitlist.added":
        this.waiting.set(data.peer.peer_id, data.peer);
        break;
      case "waitlist.removed":
        this.waiting.delete(data.peer_id);
        break;
      case "stage.requests":
        this.stageRequests = data.requests || [];
        break;
      case "livestream.updated": {
        const view = data.livestream;
        this.livestream = view && ACTIVE_LIVESTREAM.has(view.status) ? view : null;
        break;
      }
      case "recording.updated": {
        const rec = data.recording;
        if (!rec) break;
        this.recordings = new Map(this.recordings);
        if (ACTIVE_RECORDING.has(rec.status)) this.recordings.set(rec.id, rec);
        else this.recordings.delete(rec.id);
        break;
      }
      case "meeting.changed":
        // Moved to another meeting on this connection: from now on we are its new peer.
        this.joined = {protocol: PROTOCOL_VERSION, resumed: false, peer_id: data.peer_id,
                       resume_token: data.resume_token, status: data.status, self: data.self,
                       room: data.room, media: data.media,
                       // the same connection: the same nodes, the answering one first
                       nodes: (this.joined && this.joined.nodes) || []};
        if (data.token) this.token = data.token;
        this._lastOffer = null;
        this._applyState(data);
        // The captions were the old room's.
        if (this.transcripts.length) this.transcripts = [];
        this._dropInterims(() => true);
        break;
      case "transcript":
        this._caption(data);
        break;
      case "media.subscribe_offer":
        if (!this.media) this._lastOffer = data;  // MediaSession.attach answers it
        break;
      case "self.rejected":
      case "self.kicked":
      case "room.ended":
        this.closed = true;  // the server closes the socket next: do not resume
        break;
      default:
        break;
    }
  }

  /** One `transcript` event: an interim replaces the utterance's previous interim, and
   * its final one ends the utterance (appended to `transcripts`). A final with no interim
   * before it whose id is already among the finals corrects that final in place. New
   * array / Map on each change. */
  _caption(caption) {
    if (!caption || typeof caption.id !== "string") return;
    if (caption.isPartialTranscript) {
      this.interimTranscripts = new Map(this.interimTranscripts).set(caption.id, caption);
      return;
    }
    const finals = [...this.transcripts];
    const at = this.interimTranscripts.has(caption.id) ? -1 : finals.findIndex((t) => t.id === caption.id);
    this._dropInterims((t) => t.id === caption.id);
    if (at >= 0) finals[at] = caption;
    else finals.push(caption);
    this.transcripts = finals.slice(-this.transcriptLimit);
  }

  _dropInterims(which) {
    const kept = [...this.interimTranscripts.values()].filter((t) => !which(t));
    if (kept.length !== this.interimTranscripts.size) {
      this.interimTranscripts = new Map(kept.map((t) => [t.id, t]));
    }
  }
}
