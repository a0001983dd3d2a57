// Exit screens: left, ended, removed (`kicked`), rejected, disconnected, and a join the
// server refused (`error`). Each says what happened in words from messages.js, never a
// raw close or error code. Where joining again makes sense (you left, the connection
// dropped, the host declined you, a join was refused) it offers Rejoin: the same meeting
// again with the same token (the one in use), in a fresh page, with the microphone and
// camera as last chosen. Not after a host removed you, nor after the meeting ended for
// everyone: Rejoin would only start a new session alone.

import { closeReason, endedReason, errorReason, message } from "/meet/messages.js";

/**
 * The title and text of an exit screen. `state`: left | ended | kicked | rejected |
 * disconnected | error; `code`: the close code (disconnected), `error`: the error code
 * (error), `reason`: `room.ended`'s reason (ended), `extra`: a sentence to add.
 */
export function exitWords(state, {code = null, error = null, reason = null, extra = ""} = {}) {
  let text;
  if (state === "ended") text = endedReason(reason);
  else if (state === "disconnected") text = closeReason(code);
  else if (state === "error") text = errorReason(error);
  else text = message(`exit.${state}.text`);
  const title = state === "error" && error === "MEETING_INACTIVE"
    ? message("exit.inactive.title") : message(`exit.${state}.title`);
  return {title, text: [text, extra].filter(Boolean).join(" ")};
}

/** The exits that offer Rejoin (not `kicked`, not `ended`). */
export const REJOINABLE = new Set(["left", "disconnected", "rejected", "error"]);

/** The fragment that joins again: the token in use, `autojoin`, the name the person
 * joined with (when they chose one) and their microphone and camera choice. */
export function rejoinHash(hash, {token, name = null, want}) {
  const next = new URLSearchParams(hash.replace(/^#/, ""));
  next.set("token", token);
  next.set("autojoin", "1");
  if (name) next.set("name", name);
  for (const kind of ["audio", "video"]) next.set(kind, want[kind] ? "1" : "0");
  return `#${next}`;
}

/** Show the Rejoin button, which loads the page afresh at `hash`. */
export function offerRejoin(button, hash) {
  button.textContent = message("exit.rejoin");
  button.hidden = false;
  button.onclick = () => {
    history.replaceState(null, "", hash);  // no hashchange: the reload below is the one
    location.reload();
  };
}
