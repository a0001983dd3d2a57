// Usage: AN1 (GET /analytics/daywise) drawn day by day — sessions, participant-minutes
// and recording minutes — over a chosen period (up to 366 days). Days without
// sessions are drawn as zero; the totals are AN1's own.

import { field, h } from '../dom.js';
import { barChart, plain, redrawOnResize } from '../chart.js';

const DAY = 86400000;
const iso = (ms) => new Date(ms).toISOString().slice(0, 10);

export function days(start, end) {
  const out = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += DAY) out.push(iso(t));
  return out;
}

export default async function usage(root, { api }) {
  const today = iso(Date.now());
  const from = h('input', { type: 'date', value: iso(Date.now() - 29 * DAY), 'data-testid': 'usage-from' });
  const to = h('input', { type: 'date', value: today, 'data-testid': 'usage-to' });
  const totals = h('p', { class: 'muted', 'data-testid': 'usage-totals' });
  const charts = h('div', { class: 'charts' });

  let shown = null;

  async function load() {
    const stats = await api.get('/analytics/daywise', { start_date: from.value, end_date: to.value });
    shown = { stats, start: from.value, end: to.value };
    draw();
  }

  function draw() {
    if (!shown) return;
    const { stats } = shown;
    const labels = days(shown.start, shown.end);
    const byDay = Object.fromEntries(stats.session_stats.day_stats.map((d) => [d.day, d]));
    const recByDay = Object.fromEntries((stats.recording_stats.day_stats || []).map((d) => [d.day, d]));
    const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;
    totals.textContent = `${count(stats.session_stats.sessions_count, 'session', 'sessions')}, ${plain(stats.session_stats.sessions_minutes_consumed)} participant-minutes, ${count(stats.recording_stats.recording_count, 'recording', 'recordings')}, ${plain(Number(stats.recording_stats.recording_minutes_consumed))} recording minutes.`;
    charts.replaceChildren(
      barChart({ title: 'Sessions per day', labels, values: labels.map((d) => byDay[d]?.total_sessions || 0), unit: 'sessions', testid: 'usage-sessions', integer: true }),
      barChart({ title: 'Participant-minutes per day', labels, values: labels.map((d) => byDay[d]?.total_session_minutes || 0), unit: 'minutes', testid: 'usage-minutes' }),
      barChart({ title: 'Recording minutes per day', labels,
        values: labels.map((d) => recByDay[d]?.total_recording_minutes || 0), unit: 'minutes', testid: 'usage-recording' }));
  }

  root.append(h('h1', {}, 'Usage'),
    h('form', { class: 'toolbar', 'aria-label': 'Period', onsubmit: async (e) => { e.preventDefault(); await load().catch((error) => { totals.textContent = error.message; }); } },
      field('From', from), field('To', to), h('button', { type: 'submit' }, 'Show')),
    totals, charts);
  await load();
  return redrawOnResize(draw);
}
