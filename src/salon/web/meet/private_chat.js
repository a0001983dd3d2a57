// Private chat on the meeting page: who the chat box sends to.
//
// A recipient selector above the chat input: "Everyone" (with `chat.public.can_send`
// and `.text`) or one joined participant by name (with `chat.private.can_send` and
// `.text`). Hidden participants are not in the room state, so they are never offered.
// Whether a peer may receive private messages (`chat.private.can_receive`) is not in the
// views other peers get: the server refuses such a recipient and the page shows the
// error. If the chosen recipient leaves, the box goes back to Everyone.
// Rules: docs/chat.md, "Who may do what".

import { h, render } from "/sdk/v1/ui/dom.js";
import { fill, message } from "/meet/messages.js";

const EVERYONE = "";

const rights = (client) => {
  const chat = (client.self && client.self.permissions && client.self.permissions.chat) || {};
  const pub = chat.public || {};
  const priv = chat.private || {};
  return {
    public: Boolean(pub.can_send && pub.text),
    publicFiles: Boolean(pub.can_send && pub.files),
    private: Boolean(priv.can_send && priv.text),
    privateFiles: Boolean(priv.can_send && priv.files),
  };
};

export class PrivateChat {
  /**
   * @param {{select: HTMLSelectElement, input: HTMLInputElement, send: HTMLButtonElement, attach: HTMLElement}} els
   * @param {object} client a SalonClient
   * @param {{toast: Function}} ui
   */
  constructor(els, client, {toast}) {
    this.els = els;
    this.client = client;
    this.toast = toast;
    this.to = EVERYONE;         // a participant id, or EVERYONE
    this.names = new Map();     // participant id -> name, of everyone ever listed (for labels)
    els.select.onchange = () => { this.to = els.select.value; this.paint(); };
    for (const event of ["peer.joined", "peer.left", "peer.updated", "self.updated", "resumed"]) {
      client.on(event, () => this.paint());
    }
    // A new room: its people are new too, so start from Everyone without a notice.
    client.on("meeting.changed", () => { this.to = EVERYONE; this.paint(); });
  }

  /** Joined, visible participants other than oneself, one entry per participant, by name. */
  recipients() {
    const self = this.client.self || {};
    const byParticipant = new Map();
    for (const peer of this.client.peers.values()) {
      if (peer.participant_id === self.participant_id) continue;  // oneself in another tab
      byParticipant.set(peer.participant_id, peer.name);
      this.names.set(peer.participant_id, peer.name);
    }
    return [...byParticipant].sort((a, b) => a[1].localeCompare(b[1]));
  }

  /** Whether the People panel may offer "Message privately" for this participant. */
  canMessage(participantId) {
    return rights(this.client).private && participantId !== (this.client.self || {}).participant_id;
  }

  /** Preselect a recipient (from the People panel). */
  choose(participantId) {
    this.to = participantId;
    this.paint();
  }

  /** The `to` option for chat.send / chat.send_file: undefined for everyone. */
  get target() {
    return this.to === EVERYONE ? undefined : [this.to];
  }

  paint() {
    const r = rights(this.client);
    const recipients = r.private ? this.recipients() : [];
    const fallback = r.public ? EVERYONE : (recipients[0] || [null])[0];
    if (this.to !== EVERYONE && !recipients.some(([id]) => id === this.to)) {
      const gone = this.names.get(this.to);
      this.to = fallback;
      if (gone) this.toast(fill(this.to === EVERYONE ? "private.gone.everyone" : "private.gone.choose", {name: gone}));
    } else if (this.to === EVERYONE && !r.public) {
      this.to = fallback;
    }
    const options = [
      r.public && h("option", {value: EVERYONE}, message("private.everyone")),
      ...recipients.map(([id, name]) => h("option", {value: id}, name)),
    ].filter(Boolean);
    const {select, input, send, attach} = this.els;
    render(select, options);
    select.value = this.to === null ? "" : this.to;
    select.hidden = !r.private;
    const canSend = this.to !== null && (this.to === EVERYONE ? r.public : r.private);
    input.disabled = send.disabled = !canSend;
    input.placeholder = !canSend ? message("private.cannot_send")
      : this.to === EVERYONE ? message("chat.placeholder") : fill("private.placeholder", {name: this.names.get(this.to)});
    attach.hidden = !canSend || !(this.to === EVERYONE ? r.publicFiles : r.privateFiles);
  }

  /** "You · private to Ada" for one's own private messages; " (private)" for others'. */
  label(msg, mine) {
    if (!msg.private) return mine ? message("private.you") : msg.display_name;
    if (!mine) return fill("private.from", {name: msg.display_name});
    const someone = message("private.someone");
    const to = (msg.to || []).map((id) => this.names.get(id) || someone).join(message("private.list_separator"));
    return fill("private.mine", {to: to || someone});
  }
}
