// The "Q&A" panel of the meeting page: questions from the audience.
//
// Every joined peer sees every question (dismissed ones too) and may upvote others'
// open questions once. Asking needs `chat.public.can_send` (Q&A is a public text
// channel); answering and dismissing need a stage manager (`accept_stage_requests` or
// `can_accept_production_requests`). There is no Q&A permission of its own. The server
// checks every action again; this panel only leaves out what it would refuse.
// Protocol: docs/polls-and-qna.md, "Q&A".

import { h, render } from "/sdk/v1/ui/dom.js";
import { fill, message } from "/meet/messages.js";

const OPEN = "OPEN";

const rights = (client) => {
  const p = (client.self && client.self.permissions) || {};
  return {
    ask: Boolean(p.chat && p.chat.public && p.chat.public.can_send),
    moderate: Boolean(p.accept_stage_requests || p.can_accept_production_requests),
  };
};

/** Open questions first, most upvoted first, then in asking order. */
const byInterest = (a, b) =>
  (b.status === OPEN) - (a.status === OPEN) || (a.status === OPEN ? b.upvotes - a.upvotes : 0) || a.order - b.order;

export class QnaPanel {
  /**
   * @param {HTMLElement} el where the panel renders
   * @param {object} client a SalonClient
   * @param {{act: Function, onChange?: Function}} ui
   */
  constructor(el, client, {act, onChange = () => {}}) {
    this.el = el;
    this.client = client;
    this.act = act;
    this.onChange = onChange;
    this.questions = new Map();  // id -> question (with `order`: its place in asking order)
    this.mine = new Set();       // ids of questions this page asked or upvoted (hidden peers are not named)
    this.drafts = new Map();     // question id -> answer <input>, kept across repaints
    this.error = null;
    this.askInput = h("input", {placeholder: message("qna.ask.placeholder"), "aria-label": message("qna.ask.placeholder"), maxlength: "500", autocomplete: "off",
                                dataset: {testid: "qna-input"}});
    this.askForm = h("form", {class: "qna-ask", dataset: {testid: "qna-form"}, onsubmit: act(() => this.ask())},
      this.askInput, h("button", {class: "primary", type: "submit", dataset: {testid: "qna-ask"}}, message("qna.ask")));
    client.on("qna.asked", ({question}) => this.put(question));
    client.on("qna.updated", ({question}) => this.put(question));
    client.on("qna.upvoted", (delta) => this.upvoted(delta));
    client.on("self.updated", () => this.paint());
    client.on("resumed", () => this.load());  // events may have been missed while away
    client.on("meeting.changed", () => { this.questions.clear(); this.mine.clear(); this.load(); });
  }

  /** Fetch every question of the session (on entering, after a move or a resume). */
  async load() {
    try {
      const questions = await this.client.qna.list();
      this.questions.clear();
      for (const question of questions) this.put(question, false);
      this.error = null;
    } catch (error) {
      this.error = error.reason || error.message || String(error);
    }
    this.paint();
  }

  put(question, repaint = true) {
    const known = this.questions.get(question.id);
    this.questions.set(question.id, {...question, order: known ? known.order : this.questions.size});
    if (question.status !== OPEN) this.drafts.delete(question.id);
    if (repaint) this.paint();
  }

  upvoted({question_id: id, upvotes, upvoted_by: by}) {
    const question = this.questions.get(id);
    if (!question) return;  // the list being loaded has it
    question.upvotes = upvotes;
    if (by && !question.upvoted_by.includes(by)) question.upvoted_by.push(by);
    this.paint();
  }

  async ask() {
    const text = this.askInput.value.trim();
    if (!text) return;
    const question = await this.client.qna.ask(text);
    this.askInput.value = "";
    this.mine.add(question.id);
    this.put(question);
  }

  /** Answer or dismiss: `fn(client.qna, id)` returns the resolved question. */
  async resolve(question, fn) {
    this.put(await fn(this.client.qna, question.id));
  }

  get ordered() {
    return [...this.questions.values()].sort(byInterest);
  }

  get openCount() {
    return [...this.questions.values()].filter((q) => q.status === OPEN).length;
  }

  paint() {
    const r = rights(this.client);
    const focus = rememberFocus(this.el);
    const sections = [];
    if (r.ask) sections.push(this.askForm);
    if (this.error) sections.push(h("p", {class: "muted", dataset: {testid: "qna-error"}}, this.error));
    const questions = this.ordered;
    if (!questions.length) {
      sections.push(h("p", {class: "muted", dataset: {testid: "qna-empty"}},
        message(r.ask ? "qna.none.ask" : "qna.none")));
    }
    sections.push(h("ul", {class: "questions", dataset: {testid: "qna-questions"}},
      questions.map((question) => this.card(question, r))));
    render(this.el, sections);
    focus();
    this.onChange(this);
  }

  card(question, r) {
    const open = question.status === OPEN;
    const who = question.asked_by ? question.asked_by.name : message("qna.anonymous");
    return h("li", {class: `question ${question.status.toLowerCase()}`,
                    dataset: {testid: "qna-question", questionId: question.id, status: question.status}},
      h("div", {class: "text", dataset: {testid: "qna-text"}}, question.text),
      h("div", {class: "question-meta"},
        h("span", {class: "muted", dataset: {testid: "qna-asker"}}, who),
        h("span", {class: "spacer"}),
        !open && h("span", {class: "badge", dataset: {testid: "qna-status"}},
          message(question.status === "ANSWERED" ? "qna.answered" : "qna.dismissed")),
        h("span", {class: "votes", title: message("qna.upvotes"), "aria-label": fill("qna.upvotes.count", {count: question.upvotes}), dataset: {testid: "qna-upvotes"}}, String(question.upvotes)),
        this.mayUpvote(question) && h("button", {class: "small", dataset: {testid: "qna-upvote"},
          onclick: this.act(() => this.upvote(question))}, message("qna.upvote"))),
      question.answer && h("div", {class: "answer", dataset: {testid: "qna-answer"}}, question.answer),
      open && r.moderate && this.moderation(question));
  }

  mayUpvote(question) {
    const self = this.client.self || {};
    const own = this.mine.has(question.id) || (question.asked_by && question.asked_by.id === self.participant_id);
    const done = question.upvoted_by.includes(self.participant_id);
    return question.status === OPEN && !own && !done;
  }

  async upvote(question) {
    this.mine.add(question.id);
    try {
      const reply = await this.client.qna.upvote(question.id);
      if (reply.question_id) this.upvoted({...reply, upvoted_by: null});  // a large room's count
      else this.put(reply);
    } catch (error) {
      this.mine.delete(question.id);
      this.paint();
      throw error;
    }
  }

  moderation(question) {
    if (!this.drafts.has(question.id)) {
      this.drafts.set(question.id, h("input", {placeholder: message("qna.answer.placeholder"), "aria-label": message("qna.answer.placeholder"), maxlength: "2000",
                                               autocomplete: "off", dataset: {testid: "qna-answer-input"}}));
    }
    const draft = this.drafts.get(question.id);
    return h("form", {class: "qna-moderate", dataset: {testid: "qna-moderate"}, onsubmit: this.act(() =>
        this.resolve(question, (qna, id) => qna.answer(id, draft.value.trim() || undefined)))},
      draft,
      h("button", {class: "small primary", type: "submit", dataset: {testid: "qna-answer-send"}}, message("qna.answer")),
      h("button", {class: "small", type: "button", dataset: {testid: "qna-dismiss"},
        onclick: this.act(() => this.resolve(question, (qna, id) => qna.dismiss(id)))}, message("qna.dismiss")));
  }
}

/** Repainting replaces the panel's children: give the focus (and caret) back after. */
function rememberFocus(el) {
  const active = document.activeElement;
  if (!active || !el.contains(active) || active.tagName !== "INPUT") return () => {};
  const {selectionStart: start, selectionEnd: end} = active;
  return () => {
    if (!active.isConnected) return;
    active.focus();
    active.setSelectionRange(start, end);
  };
}
