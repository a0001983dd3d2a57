// Hand-drawn SVG charts: day-by-day bars, a step line over time with join and leave
// marks, and horizontal bars per person. Each is a <figure> whose caption names the
// <svg role="img">, and whose description says the gist in words for screen readers.

const NS = 'http://www.w3.org/2000/svg';
/** The drawing's width in SVG units: the window's width up to 640, so that on a phone
 *  the labels stay legible once the picture is scaled to fit (set by each chart). */
let W = 640;
const H = 240;
const fitWidth = () => { W = Math.round(Math.max(300, Math.min(640, window.innerWidth - 48))); };
const PAD = { left: 48, right: 12, top: 12, bottom: 34 };
let ids = 0;

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** About five round steps from 0 to at least `max`. */
export function ticks(max, integer = false) {
  if (!(max > 0)) return [0, 1];
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((v) => v >= raw);
  if (integer) step = Math.max(1, Math.ceil(step));
  const out = [];
  for (let v = 0; v < max + step; v += step) out.push(Number(v.toFixed(6)));
  return out;
}

function frame(title, description, height = H) {
  const id = `chart-${++ids}`;
  const figure = document.createElement('figure');
  figure.className = 'chart';
  const caption = document.createElement('figcaption');
  caption.id = `${id}-title`;
  caption.textContent = title;
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`, preserveAspectRatio: 'xMidYMid meet' });
  svg.append(s('desc', { id: `${id}-desc` }, description));
  figure.append(caption, svg);
  return { figure, svg };
}

function yAxis(svg, max, fmt, height = H, integer = false) {
  const steps = ticks(max, integer);
  const top = steps[steps.length - 1];
  const y = (v) => height - PAD.bottom - (v / top) * (height - PAD.top - PAD.bottom);
  for (const v of steps) {
    svg.append(s('line', { class: 'gridline', x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
    svg.append(s('text', { class: 'axis', x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  }
  return y;
}

function empty(svg, text, height = H) {
  svg.append(s('text', { class: 'empty', x: W / 2, y: height / 2, 'text-anchor': 'middle' }, text));
}

/** A number as people read it: whole numbers as they are, others to 2 significant digits. */
export const plain = (v) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(2))));

/** Bars per label (days); `values` numbers, `unit` for the description. */
export function barChart({ title, labels, values, unit = '', fmt = plain, testid, integer = false }) {
  fitWidth();
  const total = values.reduce((a, b) => a + b, 0);
  const peak = Math.max(0, ...values);
  const { figure, svg } = frame(title, labels.length
    ? `${labels.length} days from ${labels[0]} to ${labels[labels.length - 1]}: ${fmt(total)} ${unit} in all, at most ${fmt(peak)} on one day.`
    : 'No data in this period.');
  if (testid) figure.dataset.testid = testid;
  if (!labels.length) { empty(svg, 'Nothing in this period'); return figure; }
  const y = yAxis(svg, peak, fmt, H, integer);
  const slot = (W - PAD.left - PAD.right) / labels.length;
  const every = Math.ceil(labels.length / Math.max(3, Math.floor(W / 80)));
  labels.forEach((label, i) => {
    const x = PAD.left + i * slot;
    const bar = s('rect', { class: 'bar', x: x + slot * 0.15, width: Math.max(1, slot * 0.7),
      y: y(values[i]), height: Math.max(0, y(0) - y(values[i])) });
    bar.append(s('title', {}, `${label}: ${fmt(values[i])} ${unit}`));
    svg.append(bar);
    if (i % every === 0) {
      svg.append(s('text', { class: 'axis', x: x + slot / 2, y: H - PAD.bottom + 16, 'text-anchor': 'middle' }, label.slice(5)));
    }
  });
  return figure;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** People in the room over time: a step line from `steps` ([{t, v}], t in ms), with a
 *  mark per join (above the axis) and per leave (below it). */
export function timelineChart({ title, steps, joins = [], leaves = [], testid }) {
  fitWidth();
  const peak = Math.max(0, ...steps.map((p) => p.v));
  const { figure, svg } = frame(title, steps.length
    ? `From ${clock(steps[0].t)} to ${clock(steps[steps.length - 1].t)}: at most ${peak} in the room; ${joins.length} joins and ${leaves.length} leaves.`
    : 'Nobody was in this session.');
  if (testid) figure.dataset.testid = testid;
  if (steps.length < 2) { empty(svg, 'Nobody joined'); return figure; }
  const y = yAxis(svg, Math.max(peak, 1), String, H, true);
  const t0 = steps[0].t;
  const t1 = Math.max(steps[steps.length - 1].t, t0 + 1000);
  const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  let d = `M ${x(steps[0].t)} ${y(steps[0].v)}`;
  for (let i = 1; i < steps.length; i++) d += ` H ${x(steps[i].t)} V ${y(steps[i].v)}`;
  svg.append(s('path', { class: 'area', d: `${d} V ${y(0)} H ${x(steps[0].t)} Z` }));
  svg.append(s('path', { class: 'line', d, 'data-testid': 'timeline-line' }));
  for (const t of joins) {
    const mark = s('path', { class: 'join', d: `M ${x(t)} ${y(0) + 4} l -4 7 h 8 Z` });
    mark.append(s('title', {}, `joined at ${clock(t)}`));
    svg.append(mark);
  }
  for (const t of leaves) {
    const mark = s('path', { class: 'leave', d: `M ${x(t)} ${y(0) + 19} l -4 -7 h 8 Z` });
    mark.append(s('title', {}, `left at ${clock(t)}`));
    svg.append(mark);
  }
  const marks = W < 500 ? 2 : 4;
  for (let i = 0; i <= marks; i++) {
    const t = t0 + ((t1 - t0) * i) / marks;
    svg.append(s('text', { class: 'axis', x: x(t), y: H - 2, 'text-anchor': i === 0 ? 'start' : i === marks ? 'end' : 'middle' }, clock(t)));
  }
  const legend = document.createElement('div');
  legend.className = 'legend';
  for (const [kind, text] of [['k-room', 'in the room'], ['k-join', 'join'], ['k-leave', 'leave']]) {
    const key = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.className = kind;
    key.append(swatch, text);
    legend.append(key);
  }
  figure.append(legend);
  return figure;
}

/** One horizontal bar per row ([{label, value}]), longest first as given. */
export function hbarChart({ title, rows, unit = 'min', fmt = plain, testid }) {
  fitWidth();
  const rowH = 26;
  const height = Math.max(60, rows.length * rowH + PAD.top + 8);
  const { figure, svg } = frame(title, rows.length
    ? rows.slice(0, 10).map((r) => `${r.label}: ${fmt(r.value)} ${unit}`).join('; ')
    : 'Nobody.', height);
  if (testid) figure.dataset.testid = testid;
  if (!rows.length) { empty(svg, 'Nobody', height); return figure; }
  const peak = Math.max(...rows.map((r) => r.value), 1e-9);
  const left = Math.min(150, W * 0.32);
  rows.forEach((row, i) => {
    const top = PAD.top + i * rowH;
    const room = Math.floor(left / 8);
    const label = row.label.length > room ? `${row.label.slice(0, room - 1)}…` : row.label;
    svg.append(s('text', { class: 'label', x: left - 8, y: top + 15, 'text-anchor': 'end' }, label));
    const width = ((W - left - 70) * row.value) / peak;
    const bar = s('rect', { class: 'bar s2', x: left, y: top + 3, height: rowH - 8, width: Math.max(1, width) });
    bar.append(s('title', {}, `${row.label}: ${fmt(row.value)} ${unit}`));
    svg.append(bar);
    svg.append(s('text', { class: 'label', x: left + width + 6, y: top + 15 }, `${fmt(row.value)} ${unit}`));
  });
  return figure;
}

/** Call `draw` again when the window's width changes (debounced), so charts are drawn for
 *  the size they are seen at; returns the function that stops listening. */
export function redrawOnResize(draw) {
  let width = window.innerWidth;
  let timer = null;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (window.innerWidth !== width) { width = window.innerWidth; draw(); }
    }, 100);
  };
  window.addEventListener('resize', changed);
  return () => { clearTimeout(timer); window.removeEventListener('resize', changed); };
}
