// The chat view of the meeting page: the message list, live, and sending from the box.
//
// Each message shows its sender and when it was sent (local `HH:MM`, the full date and
// time in the `<time>` element's `datetime` and title). Consecutive messages of one
// sender (same privacy and recipients, within five minutes) are grouped: only the first
// shows the header; the others keep it for screen readers. Text is only ever set as
// text: `http://` and `https://` URLs become links built with DOM APIs (`rel="noopener
// noreferrer nofollow"`, a new tab); any other scheme stays text. Who the box sends to
// is private_chat.js's. Rules: docs/chat.md; the page: docs/meeting-page.md, "Chat".

import { SalonError } from "/sdk/v1/salon.js";
import { h, render } from "/sdk/v1/ui/dom.js";
// `message` names chat messages here: the catalogue's is `say`.
import { fill, message as say } from "/meet/messages.js";

const GROUP_MS = 5 * 60 * 1000;
// A URL runs to the next space or angle bracket or quote; trailing punctuation is the sentence's.
const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}]+$/;

/** Text as nodes: text nodes, and `<a>` for each http(s) URL in it. Never HTML. */
export function linkify(text) {
  const nodes = [];
  let at = 0;
  for (const match of String(text).matchAll(URL_RE)) {
    let raw = match[0];
    const trail = raw.match(TRAILING);
    if (trail) raw = raw.slice(0, raw.length - trail[0].length);
    let url = null;
    try { url = new URL(raw); } catch { url = null; }
    if (!url || !["http:", "https:"].includes(url.protocol)) continue;
    if (match.index > at) nodes.push(document.createTextNode(text.slice(at, match.index)));
    const a = document.createElement("a");
    a.href = url.href;
    a.rel = "noopener noreferrer nofollow";
    a.target = "_blank";
    a.dataset.testid = "chat-link";
    a.textContent = raw;
    nodes.push(a);
    at = match.index + raw.length;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

/** `HH:MM` in local time, and the full local date and time. */
function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  return {
    short: date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", hourCycle: "h23"}),
    full: date.toLocaleString([], {dateStyle: "full", timeStyle: "medium"}),
    ms: date.getTime(),
  };
}

export class ChatView {
  /**
   * @param {{list: HTMLElement, form: HTMLFormElement, input: HTMLInputElement, file: HTMLInputElement, unread: HTMLElement}} els
   * @param {object} client a SalonClient
   * @param {{act: Function, failed: Function, privateChat: object, token: () => string, isOpen: () => boolean}} ui
   */
  constructor(els, client, {act, failed, privateChat, token, isOpen}) {
    Object.assign(this, {els, client, failed, privateChat, token, isOpen});
    this.unread = 0;
    els.form.onsubmit = act(() => this.send());
    els.file.onchange = act(() => this.sendFile());
    client.on("chat.message", ({message}) => this.add(message));
    client.on("chat.updated", ({message}) => this.add(message));
    client.on("chat.deleted", ({message_id: id}) => {
      const el = this.find(id);
      if (el) { el.remove(); this.regroup(); }
    });
  }

  find(id) {
    return this.els.list.querySelector(`[data-message-id="${CSS.escape(id)}"]`);
  }

  /** The last 50 messages (after joining, or a move to another room). */
  async load() {
    try {
      const {messages} = await this.client.chat.history({limit: 50, filter: "all"});
      for (const message of messages) this.add(message, false);
    } catch (error) {
      if (!(error instanceof SalonError && error.code === "FORBIDDEN")) this.failed(error);
    }
  }

  /** Empty (a new room). */
  clear() {
    render(this.els.list);
    this.seen();
  }

  /** The chat is open: nothing unread. */
  seen() {
    this.unread = 0;
    this.els.unread.textContent = "";
  }

  body(message) {
    const payload = message.payload || {};
    if (message.type === "text") return h("div", {class: "text", dataset: {testid: "chat-text"}}, linkify(String(payload.text ?? "")));
    if (message.type === "image" || message.type === "file") {
      const size = payload.size ? fill("chat.file.size", {kb: Math.max(1, Math.round(payload.size / 1024))}) : "";
      const body = h("div", {class: "text"},
        h("button", {class: "file", type: "button", dataset: {testid: "chat-file-link"},
                     onclick: () => this.download(payload).catch(this.failed)}, `${payload.name || say("chat.file")}${size}`));
      if (message.type === "image") {
        this.fetchFile(payload.link).then((blob) => {
          body.prepend(h("img", {src: URL.createObjectURL(blob), alt: payload.name || "image", dataset: {testid: "chat-image"}}));
        }).catch(() => {});
      }
      return body;
    }
    return h("div", {class: "text muted"}, JSON.stringify(payload));
  }

  /** Add a message, or replace it (an edit): at its place in time, grouped with its neighbours. */
  add(message, counts = true) {
    const list = this.els.list;
    const mine = message.peer_id === this.client.peerId;
    const time = when(message.created_at);
    const el = h("li", {class: `message${mine ? " mine" : ""}${message.private ? " private" : ""}`,
                        dataset: {testid: "chat-message", messageId: message.id, from: message.display_name,
                                  private: String(Boolean(message.private)),
                                  group: `${message.participant_id || message.peer_id}|${Boolean(message.private)}|${(message.to || []).join(",")}`,
                                  at: time ? String(time.ms) : ""}},
      h("div", {class: "head"},
        h("span", {class: "from", dataset: {testid: "chat-from"}}, this.privateChat.label(message, mine)),
        time && h("time", {datetime: message.created_at, title: time.full, dataset: {testid: "chat-time"}}, time.short)),
      this.body(message));
    const existing = this.find(message.id);
    if (existing) existing.replaceWith(el);
    else list.append(el);
    this.regroup();
    list.scrollTop = list.scrollHeight;
    if (counts && !existing && !mine && !this.isOpen()) {
      this.unread += 1;
      this.els.unread.textContent = String(this.unread);
    }
  }

  /** A message continues its sender's group when the one before is theirs, within 5 minutes. */
  regroup() {
    let prev = null;
    for (const el of this.els.list.children) {
      const grouped = Boolean(prev && prev.dataset.group === el.dataset.group && el.dataset.at && prev.dataset.at
        && Number(el.dataset.at) - Number(prev.dataset.at) < GROUP_MS);
      el.classList.toggle("grouped", grouped);
      prev = el;
    }
  }

  async send() {
    const input = this.els.input;
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    try {
      this.add(await this.client.chat.send(text, {to: this.privateChat.target}), false);
    } catch (error) {
      input.value = text;
      throw error;
    }
  }

  async sendFile() {
    const input = this.els.file;
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    const uploaded = await this.client.chat.uploadFile(file, file.name);
    const type = (file.type || "").startsWith("image/") ? "image" : "file";
    this.add(await this.client.chat.sendFile(type, uploaded.id, {to: this.privateChat.target}), false);
  }

  /** Chat files need the participant token (Authorization), so a plain link would not do. */
  async fetchFile(link) {
    const url = new URL(link, location.origin);  // the same server, whatever host the link names
    const response = await fetch(url.pathname + url.search, {headers: {"Authorization": `Bearer ${this.token()}`}});  // not words
    if (!response.ok) throw new Error(fill("chat.file.failed", {status: response.status}));
    return response.blob();
  }

  async download(payload) {
    const url = URL.createObjectURL(await this.fetchFile(payload.link));
    const a = h("a", {href: url, download: payload.name || "file"});
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
}
