// salon browser SDK, client: polls (client.polls) and Q&A (client.qna).

import { only } from "./only.js";

// Each class is a helper object the client makes in its constructor (`client.{name}`),
// holding the client as `this.c`.

export class Polls {
  constructor(client) { this.c = client; }
  async create(question, options, {anonymous = false, hideVotes = false} = {}) {
    return (await this.c.request("poll.create", {question, options, anonymous, hide_votes: hideVotes})).poll;
  }
  vote(pollId, index) { return this.c.request("poll.vote", {poll_id: pollId, index}); }
  async list() { return (await this.c.request("poll.list")).polls; }
}

export class Qna {
  constructor(client) { this.c = client; }
  async ask(text) { return (await this.c.request("qna.ask", {text})).question; }
  /** The question; for the audience of a large room, `{question_id, upvotes}` (a whole
   * question lists every upvoter). */
  async upvote(questionId) {
    const reply = await this.c.request("qna.upvote", {question_id: questionId});
    return reply.question ?? reply;
  }
  async answer(questionId, answer) {
    return (await this.c.request("qna.answer", only({question_id: questionId, answer}))).question;
  }
  async dismiss(questionId) { return (await this.c.request("qna.dismiss", {question_id: questionId})).question; }
  async list() { return (await this.c.request("qna.list")).questions; }
}
