// The "Polls" panel of the meeting page: a form for who may create polls, and every poll
// of the session with its options, counts (when the poll shows them) and a Vote button.
//
// `polls.can_view` shows the panel, `polls.can_create` the form, `polls.can_vote` the
// buttons; the server checks each again. Counts arrive as `poll.voted` deltas; a poll
// that hides its results until one votes gives `count: null`.
// Protocol: docs/polls-and-qna.md, "Polls".

import { h, render } from "/sdk/v1/ui/dom.js";
import { fill, message } from "/meet/messages.js";

const rights = (client) => ((client.self && client.self.permissions) || {}).polls || {};

export class PollsPanel {
  /**
   * @param {HTMLElement} el where the panel renders
   * @param {object} client a SalonClient
   * @param {{act: Function, failed: Function, toast: Function}} ui
   */
  constructor(el, client, {act, failed, toast}) {
    this.el = el;
    this.client = client;
    this.act = act;
    this.failed = failed;
    this.toast = toast;
    this.polls = new Map();  // id -> poll, in creation order
    client.on("poll.created", ({poll}) => this.put(poll));
    client.on("poll.updated", ({poll}) => this.put(poll));
    client.on("poll.voted", (data) => this.voted(data));
    client.on("meeting.changed", () => { this.polls.clear(); this.load(); });
    client.on("self.updated", () => this.paint());  // rights may have changed
  }

  /** Fetch the session's polls (on entering and after a move), when this peer may see them. */
  async load() {
    if (rights(this.client).can_view) {
      try {
        for (const poll of await this.client.polls.list()) this.polls.set(poll.id, poll);
      } catch (error) {
        this.failed(error);
      }
    }
    this.paint();
  }

  put(poll) {
    this.polls.set(poll.id, poll);
    this.paint();
  }

  /** A vote's delta: the voters, the counts, and the vote itself when votes are public. */
  voted(data) {
    const poll = this.polls.get(data.poll_id);
    if (!poll) return;
    poll.voters = data.voters;
    if (data.counts) data.counts.forEach((count, i) => { if (poll.options[i]) poll.options[i].count = count; });
    if (data.vote && poll.options[data.vote.index] && poll.options[data.vote.index].votes) {
      poll.options[data.vote.index].votes.push(data.vote);
    }
    this.paint();
  }

  paint() {
    const may = rights(this.client);
    // Made once: a repaint (any vote, any change of this peer) keeps what is being typed.
    if (may.can_create) this.formEl ||= this.form();
    const parts = may.can_create ? [this.formEl] : [];
    const polls = [...this.polls.values()].reverse();
    if (!polls.length) parts.push(h("p", {class: "muted"}, message("polls.none")));
    for (const poll of polls) parts.push(this.poll(poll, may.can_vote && !poll.has_voted));
    const typing = this.formEl && this.formEl.contains(document.activeElement) ? document.activeElement : null;
    render(this.el, parts);
    if (typing) typing.focus();  // put back in its place, the box keeps the keyboard
  }

  form() {
    const question = h("input", {placeholder: message("polls.question"), "aria-label": message("polls.question"), maxlength: "500", dataset: {testid: "poll-question"}});
    const options = h("input", {placeholder: message("polls.options"), "aria-label": message("polls.options"), dataset: {testid: "poll-options"}});
    const create = async () => {
      const list = options.value.split(",").map((s) => s.trim()).filter(Boolean);
      if (!question.value.trim() || list.length < 2) {
        this.toast(message("polls.need_two"));
        return;
      }
      this.put(await this.client.polls.create(question.value.trim(), list));
      question.value = options.value = "";
    };
    return h("form", {class: "poll-form", dataset: {testid: "poll-form"}, onsubmit: this.act(create)},
      h("h2", {}, message("polls.new")), question, options,
      h("button", {class: "primary", type: "submit", dataset: {testid: "poll-create"}}, message("polls.create")));
  }

  poll(poll, canVote) {
    const total = poll.options.reduce((n, o) => n + (o.count || 0), 0);
    const vote = (index) => async () => {
      const reply = await this.client.polls.vote(poll.id, index);
      if (reply.poll) this.polls.set(poll.id, reply.poll);
      else poll.has_voted = true;
      this.paint();
    };
    return h("div", {class: "poll", dataset: {testid: "poll", pollId: poll.id}},
      h("div", {class: "question"}, poll.question),
      poll.options.map((option, index) => {
        const hidden = option.count === null || option.count === undefined;
        return h("div", {class: "option", dataset: {testid: "poll-option", index: String(index)}},
          h("span", {}, option.text),
          h("span", {class: "tally"},
            h("span", {class: "muted", dataset: {testid: "poll-count"}}, hidden ? "" : String(option.count)),
            canVote ? h("button", {class: "small", dataset: {testid: "poll-vote"}, onclick: this.act(vote(index))}, message("polls.vote")) : null),
          hidden ? null : h("div", {class: "bar"}, h("span", {style: {width: `${total ? Math.round(100 * option.count / total) : 0}%`}})));
      }),
      h("div", {class: "muted"}, fill(poll.has_voted ? "polls.voters.you" : "polls.voters",
        {count: typeof poll.voters === "number" ? poll.voters : (poll.voters || []).length})));
  }
}
