// salon browser SDK, client: chat (client.chat): messages, private ones, files, edits,
// pins and history.

import { SalonError } from "../salon.js";
import { only } from "./only.js";

// Each class is a helper object the client makes in its constructor (`client.{name}`),
// holding the client as `this.c`.

export class Chat {
  constructor(client) { this.c = client; }
  /** A text message; `to` (participant ids) makes it private. Resolves with the message. */
  async send(text, {to, replyTo} = {}) {
    return (await this.c.request("chat.send", only({type: "text", text, to, reply_to: replyTo}))).message;
  }
  async sendCustom(payload, {to, replyTo} = {}) {
    return (await this.c.request("chat.send", only({type: "custom", payload, to, reply_to: replyTo}))).message;
  }
  /** Upload a Blob/File over HTTP first (POST /realtime/v1/files); resolves with {id, link, …}. */
  async uploadFile(blob, name = blob.name || "file") {
    // The entry's origin, not the node a redirect led to: any node answers, and the
    // entry is usually the page's own (no cross-origin request).
    // (Parsed, so a trailing slash or a query on the entry URL does not end in the path.)
    const entry = new URL(this.c.entryUrl, typeof location !== "undefined" ? location.href : undefined);
    entry.protocol = entry.protocol === "wss:" ? "https:" : entry.protocol === "ws:" ? "http:" : entry.protocol;
    entry.pathname = entry.pathname.replace(/\/realtime\/v1\/?$/, "").replace(/\/$/, "") + "/realtime/v1/files";
    entry.search = `?name=${encodeURIComponent(name)}`;
    entry.hash = "";
    const response = await fetch(entry.href, {
      method: "POST", body: blob,
      headers: {"Authorization": `Bearer ${this.c.token}`,
                "Content-Type": blob.type || "application/octet-stream"},
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new SalonError(`HTTP_${response.status}`, (body.error && body.error.message) || response.statusText);
    return body.data;
  }
  /** `type`: "image" or "file"; `fileId` from uploadFile. */
  async sendFile(type, fileId, {to, replyTo} = {}) {
    return (await this.c.request("chat.send_file", only({type, file_id: fileId, to, reply_to: replyTo}))).message;
  }
  async edit(messageId, change) {
    return (await this.c.request("chat.edit", {message_id: messageId, ...change})).message;
  }
  delete(messageId) { return this.c.request("chat.delete", {message_id: messageId}); }
  async pin(messageId) { return (await this.c.request("chat.pin", {message_id: messageId})).message; }
  async unpin(messageId) { return (await this.c.request("chat.unpin", {message_id: messageId})).message; }
  /** {before, after, limit, filter, participantId} → {messages, has_more}, oldest first. */
  history({before, after, limit, filter, participantId} = {}) {
    return this.c.request("chat.history", only({before, after, limit, filter, participant_id: participantId}));
  }
  async pinned(limit) { return (await this.c.request("chat.pinned", only({limit}))).messages; }
}
