// The person's microphone and camera choice (`want`: {audio, video}), from the pre-join
// screen to leaving, and the SDK made to follow it.
//
// The latest choice wins (issue 15): a click writes the choice down at once and hands it
// to the SDK in the same task, with nothing awaited in between. The SDK's MediaSession
// keeps the latest choice too (`media.wanted`) and offers only what is still wanted when
// an offer goes out, so a publish that was opening devices or negotiating when the
// person turned the microphone off can no longer publish it.

import { message } from "/meet/messages.js";

export const KINDS = ["audio", "video"];

const LABELS = {audio: "prejoin.microphone", video: "prejoin.camera"};  // catalogue ids

/**
 * Publish what is wanted, may be sent and is not published yet. Synchronous up to the
 * SDK's `publish` (which notes the kinds as wanted when called): never call it with a
 * choice read before an await.
 */
export function syncPublishing({client, media, want}, failed) {
  if (!client || !media || !media.available) return Promise.resolve();
  const rights = client.canPublish;
  const kinds = KINDS.filter((k) => want[k] && rights[k] && !media.published[k]);
  if (!kinds.length) return Promise.resolve();
  return media.publish(kinds).catch((error) => {
    for (const kind of kinds) if (!media.published[kind]) want[kind] = false;
    failed(error);
  });
}

/** What the meeting's Mic / Camera button shows: the choice, where it can be sent. */
export function shownOn({client, media, want}, kind) {
  if (!media || !media.available || !want[kind]) return false;
  return Boolean(client.canPublish[kind] || (media.published[kind] && media.enabled[kind]));
}

/** The meeting's Mic / Camera button: the choice flips now, then the SDK follows. */
export async function toggle(page, kind) {
  const on = !shownOn(page, kind);
  page.want[kind] = on;
  try {
    await page.media.setEnabled(kind, on);
  } catch (error) {
    if (on && page.want[kind]) page.want[kind] = false;
    throw error;
  }
}

/**
 * The pre-join screen's Microphone / Camera buttons ({audio, video}): they show and flip
 * `want`, also while joining (with `autojoin` too), so a choice made then is the one the
 * meeting starts with. `onChange(kind)` after a flip (the preview). Returns `paint`.
 */
export function prejoinToggles(buttons, want, {canProduce, stageEnabled, onChange = () => {}}) {
  const paint = () => {
    for (const kind of KINDS) {
      const button = buttons[kind];
      button.disabled = !canProduce(kind);
      button.setAttribute("aria-pressed", String(Boolean(want[kind])));
      button.textContent = message(`${LABELS[kind]}.${want[kind] ? "on" : "off"}`);
      button.title = canProduce(kind) ? "" : message(stageEnabled ? "prejoin.after_stage" : "prejoin.role");
    }
  };
  for (const kind of KINDS) {
    buttons[kind].onclick = (event) => {
      event.preventDefault();
      want[kind] = !want[kind];
      paint();
      onChange(kind);
    };
  }
  paint();
  return paint;
}
