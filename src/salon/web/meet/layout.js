// The stage's layout engine: pure (no DOM), so it can be tested over many sizes at once.
//
// `layout({width, height, tiles, mode, config, page})` says where each tile goes, as
// rectangles in the stage's own pixels. Rules (docs/meeting-page.md "Layouts"):
// - people's tiles keep 16:9 and grow to fill the stage: the columns × rows that give
//   the largest tile win; nothing ever scrolls;
// - a grid shows at most `max_video_streams` tiles (the preset's `.desktop`, or
//   `.mobile` on a small screen) and no more than fit at a readable size; the rest are
//   on further pages (a pager under the grid);
// - speaker view: one tile large (pinned for me, else pinned for everyone, else the
//   active speaker), the others in a strip (on the right of a wide stage, at the
//   bottom of a tall one); a strip that cannot hold everyone ends with a "+N" tile;
// - presentation view: the shared screen fitted whole, the people in the strip;
// - your own view is a small corner tile once two or more others are in the grid.

/** Pixels between tiles and around the stage's edge. */
export const GAP = 8;
/** The height kept under the grid for the pager ("Page 2 of 3" and its buttons). */
export const PAGER_HEIGHT = 48;
/** People's tiles are 16:9. */
export const ASPECT = 16 / 9;
/** A grid tile is never narrower than this: more people go to another page instead. */
export const MIN_TILE_WIDTH = 112;
/** Tiles per page when the preset says nothing (RealtimeKit's default). */
export const DEFAULT_MAX = 6;
/** An audio room's grid of avatars holds at most this many per page. */
export const AUDIO_MAX = 25;

/**
 * Whether the page counts as a phone for the preset's `max_video_streams.mobile`:
 * the viewport's short side is under 500 px. (The SFU's own cap follows the device
 * the SDK names; the page only decides how many tiles it lays out.)
 */
export function isCompact(viewportWidth, viewportHeight) {
  return Math.min(viewportWidth, viewportHeight) < 500;
}

/**
 * The columns × rows for `n` tiles of `aspect` in `width` × `height` that give the
 * largest tile: tried for every column count, because the best is not always the
 * squarest (4 tiles on a wide screen: 2 × 2; on a phone: 1 × 4 or 2 × 2).
 */
export function bestGrid(n, width, height, gap = GAP, aspect = ASPECT) {
  let best = {cols: 1, rows: 1, w: 0, h: 0};
  if (n < 1 || width <= 0 || height <= 0) return best;
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const w = Math.min((width - (cols - 1) * gap) / cols, ((height - (rows - 1) * gap) / rows) * aspect);
    if (w > best.w + 1e-9) best = {cols, rows, w, h: w / aspect};
  }
  return best;
}

/** How many tiles a grid page may hold: the preset's cap, and no tile under MIN_TILE_WIDTH. */
export function capacity(width, height, cap) {
  for (let n = Math.max(1, cap); n > 1; n--) {
    if (bestGrid(n, width, height).w >= MIN_TILE_WIDTH) return n;
  }
  return 1;
}

/** The grid's rectangles for `keys` in `area`, centred, the last row centred too (like Meet). */
function placeGrid(keys, area, role = "grid") {
  const {cols, rows, w, h} = bestGrid(keys.length, area.w, area.h);
  const top = area.y + (area.h - (rows * h + (rows - 1) * GAP)) / 2;
  return keys.map((key, i) => {
    const row = Math.floor(i / cols);
    const inRow = row === rows - 1 ? keys.length - row * cols : cols;
    const left = area.x + (area.w - (inRow * w + (inRow - 1) * GAP)) / 2;
    return {key, role, x: left + (i - row * cols) * (w + GAP), y: top + row * (h + GAP), w, h};
  });
}

/** Whether two rectangles share any area. */
export function overlaps(a, b) {
  return a.x < b.x + b.w - 0.5 && b.x < a.x + a.w - 0.5 && a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5;
}

/** The largest rectangle of `aspect` inside `area`, centred. */
function fit(area, aspect) {
  const w = Math.min(area.w, area.h * aspect);
  const h = w / aspect;
  return {x: area.x + (area.w - w) / 2, y: area.y + (area.h - h) / 2, w, h};
}

/** Tiles per page from the preset: `max_video_streams` of this kind of screen (0 or none: the default). */
export function maxPerPage(config = {}, compact = false) {
  if (config.view_type === "AUDIO_ROOM") return AUDIO_MAX;
  const streams = config.max_video_streams || {};
  const value = compact ? streams.mobile : streams.desktop;
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_MAX;
}

/**
 * Who is a tile and who is watching, for a room with a stage (webinars, livestreams):
 * only people ON_STAGE are tiles (yourself included); everyone else is counted.
 * Without a stage, everyone is a tile.
 */
export function onStage(people, usesStage) {
  if (!usesStage) return {shown: people, watching: 0};
  const shown = people.filter((p) => p.stage_status === "ON_STAGE");
  return {shown, watching: people.length - shown.length};
}

/** Which view the stage shows, and which tile is large in it (see the module comment). */
export function chooseView(tiles, mode = "auto", config = {}) {
  if (config.view_type === "AUDIO_ROOM") return {view: "grid", main: null};
  const local = tiles.find((t) => t.pinnedLocally);
  if (local) return {view: "speaker", main: local.key};
  const screen = tiles.find((t) => t.kind === "screen");
  if (screen && (mode === "auto" || mode === "presentation")) return {view: "presentation", main: screen.key};
  const spot = tiles.find((t) => t.pinnedForAll && t.kind !== "screen");
  if (spot) return {view: "speaker", main: spot.key};
  if (mode === "speaker" || mode === "presentation") {
    const people = tiles.filter((t) => t.kind !== "screen");
    const main = people.find((t) => t.speaking) || people.find((t) => t.lastSpoke) ||
                 people.find((t) => !t.self) || people[0] || tiles[0];
    return {view: "speaker", main: main ? main.key : null};
  }
  return {view: "grid", main: null};
}

/**
 * Where every tile goes.
 *
 * @param {object} options
 * @param {number} options.width, options.height  the stage's size in CSS pixels
 * @param {Array<{key: string, kind: "person"|"screen", self?: boolean, pinnedForAll?: boolean,
 *   pinnedLocally?: boolean, speaking?: boolean, lastSpoke?: boolean, aspect?: number}>} options.tiles
 *   in the order they should appear (join order); `aspect`: a screen's width / height when known
 * @param {"auto"|"grid"|"speaker"|"presentation"} [options.mode]
 * @param {{view_type?: string, max_video_streams?: {desktop: number, mobile: number}}} [options.config]
 * @param {number} [options.page] the grid page wanted (0-based; clamped)
 * @param {boolean} [options.compact] a phone-sized screen (isCompact)
 * @returns {{view: string, placed: Array<{key: string, role: string, x: number, y: number, w: number, h: number}>,
 *   page: number, pages: number, pager: object|null, overflow: object|null, hidden: string[], perPage: number}}
 *   `role`: grid, main, strip or corner; `overflow`: the "+N" tile ({count, x, y, w, h});
 *   `hidden`: the keys not on screen (their video need not play).
 */
export function layout({width, height, tiles, mode = "auto", config = {}, page = 0, compact = false}) {
  const area = {x: GAP, y: GAP, w: Math.max(0, width - 2 * GAP), h: Math.max(0, height - 2 * GAP)};
  const {view, main} = chooseView(tiles, mode, config);
  const out = {view, placed: [], page: 0, pages: 1, pager: null, overflow: null, hidden: [], perPage: 0};
  if (!tiles.length || area.w <= 0 || area.h <= 0) {
    out.hidden = tiles.map((t) => t.key);
    return out;
  }
  const perPage = maxPerPage(config, compact);
  out.perPage = perPage;
  if (view === "grid") return grid(out, tiles, area, perPage, config, page);
  return focus(out, tiles, area, main, view);
}

function grid(out, tiles, area, perPage, config, page) {
  const audio = config.view_type === "AUDIO_ROOM";
  // An audio room has no focus view: a pin puts the tile first (pinned for you, then for everyone).
  const rank = (t) => (t.pinnedLocally ? 0 : t.pinnedForAll ? 1 : 2);
  let list = audio ? tiles.map((t, i) => [t, i]).sort(([a, i], [b, j]) => rank(a) - rank(b) || i - j).map(([t]) => t) : tiles;
  const others = tiles.filter((t) => t.kind !== "screen" && !t.self);
  const self = tiles.find((t) => t.self && t.kind !== "screen");
  const corner = !audio && self && others.length >= 2 ? self : null;
  if (corner) list = list.filter((t) => t !== corner);
  let cap = capacity(area.w, area.h, perPage);
  if (list.length > cap) {
    const pagerArea = {...area, h: area.h - PAGER_HEIGHT};
    cap = capacity(pagerArea.w, pagerArea.h, perPage);
    out.pages = Math.ceil(list.length / cap);
    out.page = Math.min(Math.max(0, page), out.pages - 1);
    out.pager = {x: area.x, y: area.y + pagerArea.h, w: area.w, h: PAGER_HEIGHT};
    area = pagerArea;
  }
  const shown = list.slice(out.page * cap, out.page * cap + cap).map((t) => t.key);
  out.placed = placeGrid(shown, area);
  if (corner) {
    // The self view sits in the bottom-right corner. When it would cover someone, the
    // grid gives up a band at the bottom or a column on the right, whichever leaves
    // the larger tiles: nobody is ever hidden under it.
    const w = Math.min(240, Math.max(96, area.w * 0.22), area.h * 0.3 * ASPECT);
    const h = w / ASPECT;
    const rect = {key: corner.key, role: "corner", x: area.x + area.w - w, y: area.y + area.h - h, w, h};
    if (out.placed.some((p) => overlaps(p, rect))) {
      const bands = [{...area, h: area.h - h - GAP}, {...area, w: area.w - w - GAP}]
        .map((band) => placeGrid(shown, band));
      out.placed = bands[0][0].w >= bands[1][0].w ? bands[0] : bands[1];
    }
    out.placed.push(rect);
  }
  const on = new Set(out.placed.map((p) => p.key));
  out.hidden = tiles.filter((t) => !on.has(t.key)).map((t) => t.key);
  return out;
}

function focus(out, tiles, area, mainKey, view) {
  const main = tiles.find((t) => t.key === mainKey) || tiles[0];
  const rank = (t) => (t.pinnedForAll || t.pinnedLocally ? 0 : t.speaking ? 1 : 2);
  const rest = tiles.filter((t) => t !== main).map((t, i) => [t, i])
    .sort(([a, i], [b, j]) => rank(a) - rank(b) || i - j).map(([t]) => t);
  let mainArea = area;
  const strip = [];
  if (rest.length) {
    const wide = area.w / area.h >= 1.1;
    let w, h, perLine, lines;
    if (wide) {
      w = Math.min(280, Math.max(120, area.w * 0.2));
      h = w / ASPECT;
      perLine = Math.max(1, Math.floor((area.h + GAP) / (h + GAP)));
      // Columns on the right: as many as the room the large tile leaves (its full
      // height at its own shape) allows.
      const mainWants = Math.min(area.h * (main.aspect > 0 ? main.aspect : ASPECT), area.w * 0.75);
      const room = Math.floor((area.w - mainWants) / (w + GAP));
      lines = Math.max(1, Math.min(room, Math.ceil(rest.length / perLine)));
      mainArea = {...area, w: area.w - lines * (w + GAP)};
    } else {
      // A tall stage: rows of three (or more) under the large tile, as many rows as
      // the room the large tile leaves (its full width at its own shape) allows.
      h = Math.min(140, Math.max(56, area.h * 0.16));
      w = h * ASPECT;
      if (3 * w + 2 * GAP > area.w) { w = (area.w - 2 * GAP) / 3; h = w / ASPECT; }
      perLine = Math.max(1, Math.floor((area.w + GAP) / (w + GAP)));
      const mainWants = Math.min(area.w / (main.aspect > 0 ? main.aspect : ASPECT), area.h * 0.75);
      const room = Math.floor((area.h - mainWants) / (h + GAP));
      lines = Math.max(1, Math.min(room, Math.ceil(rest.length / perLine)));
      mainArea = {...area, h: area.h - lines * (h + GAP)};
    }
    const fits = perLine * lines;
    const count = Math.min(rest.length, fits);
    const overflow = rest.length > fits ? rest.length - fits + 1 : 0;
    const slots = overflow ? count - 1 : count;
    for (let i = 0; i < count; i++) {
      const line = Math.floor(i / perLine), at = i - line * perLine;
      const inLine = Math.min(perLine, count - line * perLine);
      const length = inLine * (wide ? h : w) + (inLine - 1) * GAP;
      const rect = wide
        ? {x: area.x + area.w - lines * (w + GAP) + GAP + line * (w + GAP), y: area.y + (area.h - length) / 2 + at * (h + GAP), w, h}
        : {x: area.x + (area.w - length) / 2 + at * (w + GAP),
           y: area.y + area.h - lines * (h + GAP) + GAP + line * (h + GAP), w, h};
      if (i < slots) strip.push({key: rest[i].key, role: "strip", ...rect});
      else out.overflow = {count: overflow, ...rect};
    }
  }
  const aspect = main.kind === "screen" ? (main.aspect > 0 ? main.aspect : null) : ASPECT;
  const rect = aspect ? fit(mainArea, aspect) : {x: mainArea.x, y: mainArea.y, w: mainArea.w, h: mainArea.h};
  if (mainArea !== area) {
    // The large tile and the strip, together, centred (no gap between them).
    const tall = mainArea.w === area.w;
    const free = tall ? mainArea.h - rect.h : mainArea.w - rect.w;
    const axis = tall ? "y" : "x";
    rect[axis] = mainArea[axis] + free / 2;
    for (const r of [...strip, out.overflow]) if (r) r[axis] -= free / 2;
  }
  out.placed = [{key: main.key, role: "main", ...rect}, ...strip];
  const on = new Set(out.placed.map((p) => p.key));
  out.hidden = tiles.filter((t) => !on.has(t.key)).map((t) => t.key);
  return out;
}
