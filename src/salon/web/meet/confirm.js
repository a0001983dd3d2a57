// A confirmation dialog for actions that cannot be undone (End meeting for all, Remove).
//
// A modal <dialog> (showModal: the rest of the page is inert while it is open) with a
// title, a sentence, Cancel and the action. Focus moves into it (onto Cancel, the safe
// choice); Escape or Cancel answers false, the action button true; when it closes, focus
// returns to the element that had it when the dialog opened. That element may have been
// drawn again meanwhile (the People list repaints on every change): then the element
// with the same `data-testid` in the row with the same `data-peer-id` gets it.
// Text is only ever set as text.

import { h } from "/sdk/v1/ui/dom.js";
import { message } from "/meet/messages.js";

let dialog = null;

function build() {
  const title = h("h2", {id: "confirm-title", class: "confirm-title", dataset: {testid: "confirm-title"}});
  const text = h("p", {id: "confirm-text", class: "confirm-text", dataset: {testid: "confirm-text"}});
  const cancel = h("button", {type: "button", class: "confirm-cancel", dataset: {testid: "confirm-cancel"}});
  const ok = h("button", {type: "button", class: "confirm-ok", dataset: {testid: "confirm-ok"}});
  const el = h("dialog", {class: "confirm", dataset: {testid: "confirm-dialog"},
                          "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text"},
    title, text, h("div", {class: "confirm-actions"}, cancel, ok));
  document.body.append(el);
  return {el, title, text, cancel, ok};
}

/** Where the focus was: the element, and how to find it again if it is drawn anew. */
function remember(opener) {
  if (!opener || opener === document.body) return null;
  const row = opener.closest("[data-peer-id]");
  return {opener, testid: opener.dataset.testid, peerId: row ? row.dataset.peerId : null};
}

function giveBack(spot) {
  if (!spot) return;
  let target = spot.opener;
  if (!target.isConnected && spot.testid) {
    const selector = `[data-testid="${CSS.escape(spot.testid)}"]`;
    target = spot.peerId
      ? document.querySelector(`[data-peer-id="${CSS.escape(spot.peerId)}"] ${selector}`)
      : document.querySelector(selector);
  }
  if (target && target.isConnected && !target.closest("[hidden]")) target.focus();
}

/**
 * Ask before an action. Resolves true when confirmed, false when cancelled (Cancel,
 * Escape, or another dialog taking its place).
 * @param {{title: string, text: string, confirm: string, cancel?: string, danger?: boolean}} words
 */
export function confirmAction({title, text, confirm, cancel = message("confirm.cancel"), danger = true}) {
  dialog ||= build();
  const {el} = dialog;
  if (el.open && dialog.finish) dialog.finish(false);  // one question at a time: the earlier one is cancelled
  const spot = remember(document.activeElement);
  dialog.title.textContent = title;
  dialog.text.textContent = text;
  dialog.cancel.textContent = cancel;
  dialog.ok.textContent = confirm;
  dialog.ok.className = `confirm-ok ${danger ? "danger" : "primary"}`;
  return new Promise((resolve) => {
    // Answered by the buttons and Escape themselves, not by the `close` event: that event
    // comes a task later, and an earlier dialog's could arrive after this one opened.
    let settled = false;
    const finish = (answer) => {
      if (settled) return;
      settled = true;
      if (el.open) el.close(String(answer));
      resolve(answer);
      giveBack(spot);
    };
    dialog.finish = finish;
    dialog.cancel.onclick = () => finish(false);
    dialog.ok.onclick = () => finish(true);
    el.oncancel = (event) => { event.preventDefault(); finish(false); };  // Escape
    // Closed some other way (the browser may close it on Escape regardless): cancelled.
    // A close event while the dialog is open again is an earlier one's, late: ignored.
    el.onclose = () => { if (!el.open) finish(false); };
    el.returnValue = "";
    el.showModal();
    dialog.cancel.focus();
  });
}
