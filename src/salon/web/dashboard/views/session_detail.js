// One session: S2, a timeline of people in the room (from S3's raw rows: each peer's
// joined_at and left_at), minutes per person (S3 consolidated), the chat export (S6),
// its recordings (R3 by meeting, matched on session_id), transcript (S7) and summary (S8).

import { act, h, minutes, pill, when } from '../dom.js';
import { hbarChart, redrawOnResize, timelineChart } from '../chart.js';

const MAX_PAGES = 20;

async function allRows(api, path, params) {
  const rows = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const answer = await api.paged(path, { ...params, page_no: page, per_page: 100 });
    rows.push(...answer.data.participants);
    if (rows.length >= answer.paging.total_count || !answer.data.participants.length) break;
  }
  return rows;
}

/** People in the room after each join and leave, in time order; a stay still open
 *  (a live session) counts until `endMs`, where the line stops. */
export function occupancy(stays, endMs) {
  const events = [];
  for (const stay of stays) {
    events.push([Date.parse(stay.joined_at), 1]);
    if (stay.left_at) events.push([Date.parse(stay.left_at), -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const steps = [];
  let inRoom = 0;
  for (const [t, delta] of events) {
    inRoom += delta;
    if (steps.length && steps[steps.length - 1].t === t) steps[steps.length - 1].v = inRoom;
    else steps.push({ t, v: inRoom });
  }
  return steps;
}

function link(href, text, testid) {
  return h('a', { href, download: '', rel: 'noreferrer', 'data-testid': testid }, text);
}

export default async function sessionDetail(root, { api, params }) {
  const [id] = params;
  const session = await api.get(`/sessions/${id}`);
  const [raw, people] = await Promise.all([
    allRows(api, `/sessions/${id}/participants`, { view: 'raw' }),
    allRows(api, `/sessions/${id}/participants`, { view: 'consolidated', sort_by: 'duration', sort_order: 'DESC' }),
  ]);
  const endMs = session.ended_at ? Date.parse(session.ended_at) : Date.now();
  const steps = occupancy(raw, endMs);
  if (steps.length && endMs > steps[steps.length - 1].t) steps.push({ t: endMs, v: steps[steps.length - 1].v });

  const charts = h('div', { class: 'charts' });
  const draw = () => charts.replaceChildren(
    timelineChart({ title: 'People in the room over time', steps, testid: 'timeline-chart',
      joins: raw.map((r) => Date.parse(r.joined_at)), leaves: raw.filter((r) => r.left_at).map((r) => Date.parse(r.left_at)) }),
    hbarChart({ title: 'Minutes per person', testid: 'minutes-chart',
      rows: people.map((p) => ({ label: p.display_name || p.custom_participant_id, value: p.duration })) }));

  const files = h('ul', { class: 'list', 'data-testid': 'session-files' });
  const chat = h('button', { type: 'button', 'data-testid': 'chat-export', onclick: async () => {
    const answer = await act(chat, () => api.get(`/sessions/${id}/chat`));
    if (answer) chat.replaceWith(link(answer.chat_download_url, 'Download the chat (CSV)', 'chat-download'));
  } }, 'Export the chat');
  files.append(h('li', { class: 'item' }, h('div', { class: 'grow' }, h('div', { class: 'title' }, 'Chat')), chat));

  const recordings = await api.paged('/recordings', { meeting_id: session.associated_id, per_page: 100 }).catch(() => ({ data: [] }));
  for (const rec of recordings.data.filter((r) => r.session_id === id)) {
    const url = typeof rec.download_url === 'string' ? rec.download_url : null;
    files.append(h('li', { class: 'item' }, h('div', { class: 'grow' }, h('div', { class: 'title' }, `Recording ${rec.output_file_name || rec.id}`),
      h('div', { class: 'meta' }, `${rec.status}${rec.recording_duration ? ` · ${rec.recording_duration} s` : ''}`)),
    url ? link(url, 'Download recording', 'recording-download') : pill(rec.status.toLowerCase())));
  }
  if (session.transcript_status) {
    let item = pill(session.transcript_status.toLowerCase());
    if (session.transcript_status === 'READY') {
      const answer = await api.get(`/sessions/${id}/transcript`, { format: 'VTT' }).catch(() => null);
      if (answer) item = link(answer.transcript_download_url, 'Download transcript (VTT)', 'transcript-download');
    }
    files.append(h('li', { class: 'item' }, h('div', { class: 'grow' }, h('div', { class: 'title' }, 'Transcript')), item));
  }
  if (session.summary_status) {
    let item = pill(session.summary_status.toLowerCase());
    if (session.summary_status === 'READY') {
      const answer = await api.get(`/sessions/${id}/summary`).catch(() => null);
      if (answer) item = link(answer.summaryDownloadUrl, 'Download summary', 'summary-download');
    }
    files.append(h('li', { class: 'item' }, h('div', { class: 'grow' }, h('div', { class: 'title' }, 'Summary')), item));
  }

  root.append(h('p', {}, h('a', { href: '#/sessions' }, '← Sessions')),
    h('h1', {}, session.meeting_display_name || '(untitled meeting)'),
    h('p', { class: 'muted' }, `Session ${id} · `, pill(session.status === 'LIVE' ? 'live' : 'ended', session.status === 'LIVE' ? 'ok' : ''),
      ` · started ${when(session.started_at)}${session.ended_at ? ` · ended ${when(session.ended_at)}` : ''} · most at once ${session.max_concurrent_participants} · ${minutes(session.minutes_consumed)} of people's time`),
    charts,
    h('h2', {}, 'Chat, recordings, transcript and summary'), files);
  draw();
  return redrawOnResize(draw);
}
