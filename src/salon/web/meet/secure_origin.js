// Camera, microphone and screen sharing need what the browser allows them in.
//
// Browsers give `navigator.mediaDevices` only to a secure context: a page over HTTPS, or
// on localhost. Opened over plain http from another machine (http://192.168.1.20:8000),
// the page has no camera and no microphone at all, and a raw getUserMedia call would
// throw a TypeError. So the pre-join screen says so in words, with how to serve salon
// over HTTPS, and the person joins with both off (they still see and hear the meeting).
// Phones and tablets have no getDisplayMedia: no screen-share control there.

import { h, render } from "/sdk/v1/ui/dom.js";
import { message } from "/meet/messages.js";

/** Why this page cannot open a camera or microphone ("insecure", "unsupported"), or "". */
export function mediaUnavailable() {
  if (!window.isSecureContext) return "insecure";
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") return "unsupported";
  return "";
}

/** Can this browser share a screen? */
export function canShareScreen() {
  return Boolean(navigator.mediaDevices && typeof navigator.mediaDevices.getDisplayMedia === "function");
}

/** Fill and show the pre-join screen's notice (testid `insecure-origin`) when media is
 * unavailable; hide it otherwise. */
export function insecureOrigin(el) {
  const why = mediaUnavailable();
  el.hidden = !why;
  if (!why) return;
  if (why === "unsupported") {
    render(el, h("p", {}, message("insecure.unsupported")));
    return;
  }
  render(el,
    h("p", {class: "insecure-title"}, message("insecure.title")),
    h("p", {}, message("insecure.text")),
    h("p", {}, message("insecure.fix")),
    h("code", {class: "insecure-command", dataset: {testid: "insecure-command"}}, message("insecure.command")),
    h("p", {}, message("insecure.docs")));
}
