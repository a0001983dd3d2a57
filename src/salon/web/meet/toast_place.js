// Where the page's notices (toasts: join and leave, raised hands, people waiting, errors)
// are drawn: over the stage, never over the side panel, a field or your own video.
//
// - On a wide screen: at the bottom right of the stage, just above the control bar, and
//   no wider than the stage, so an open side panel (Chat's box and Send, People's
//   buttons) beside it is never covered.
// - Above your own corner tile (layout.js `corner`) when there is one: it is at the
//   stage's bottom right too.
// - Where the side panel is a sheet over the meeting (phones, side_panel.js SHEET): in
//   the room the sheet leaves at the top of the window (the newest notices; older ones
//   are cut off at the top), or, with no room (a phone on its side), behind the sheet
//   until it closes.
// `data-place` on #toasts says which: stage | above-sheet | under-sheet.

import { SHEET } from "/meet/side_panel.js";

const GAP = 8;        // px between the notices and what they stay clear of
const ONE_ROW = 52;   // px: the least room a notice needs

/** Lay #toasts out for the page as it is now. */
export function placeToasts() {
  const box = document.getElementById("toasts");
  const stage = document.querySelector("#meeting .stage");
  const controls = document.querySelector("#meeting > .controls");
  const side = document.getElementById("side");
  if (!box || !stage || !controls || document.body.dataset.state !== "joined") return;
  const s = box.style;
  s.top = s.maxHeight = s.overflow = s.zIndex = "";
  const area = stage.getBoundingClientRect();
  const bar = controls.getBoundingClientRect();
  s.right = `${Math.round(Math.max(GAP, window.innerWidth - area.right + GAP))}px`;
  s.maxWidth = `${Math.round(Math.max(0, area.width - 2 * GAP))}px`;
  const sheet = side && !side.hidden && window.matchMedia(SHEET).matches;
  if (sheet) {
    const room = side.getBoundingClientRect().top - 2 * GAP;
    if (room >= ONE_ROW) {
      box.dataset.place = "above-sheet";
      s.bottom = `${Math.round(window.innerHeight - room - GAP)}px`;
      s.top = `${GAP}px`;
      s.maxHeight = `${Math.round(room)}px`;
      s.overflow = "hidden";
      s.zIndex = "16";  // over the sheet's shadow (side: 15)
      return;
    }
    box.dataset.place = "under-sheet";
  } else {
    box.dataset.place = "stage";
  }
  let floor = bar.height ? bar.top : window.innerHeight;
  const corner = stage.querySelector(".tile[data-role=corner]:not([hidden])");
  if (corner) floor = Math.min(floor, corner.getBoundingClientRect().top);
  s.bottom = `${Math.round(window.innerHeight - floor + GAP)}px`;
}

/** Keep #toasts placed: when a notice comes, and when the window, the stage, the side
 * panel, the control bar or the tiles change. Call once, on entering the meeting. */
let watching = false;

export function watchToasts() {
  if (watching) { placeToasts(); return; }
  watching = true;
  const box = document.getElementById("toasts");
  let queued = false;
  const soon = () => {
    if (queued || !box.childElementCount) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; placeToasts(); });
  };
  // A new notice is placed before it is first drawn; the rest can wait a frame.
  new MutationObserver(() => placeToasts()).observe(box, {childList: true});
  window.addEventListener("resize", soon);
  const resized = new ResizeObserver(soon);
  for (const el of document.querySelectorAll("#meeting .stage, #side, #meeting > .controls")) resized.observe(el);
  new MutationObserver(soon).observe(document.getElementById("side"), {attributes: true, attributeFilter: ["hidden"]});
  new MutationObserver(soon).observe(document.getElementById("grid"),
    {attributes: true, subtree: true, attributeFilter: ["data-role", "style", "hidden"]});
  placeToasts();
}
