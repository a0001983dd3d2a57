// Live now: every live session of the app with its people, waiting room and stage
// requests, polled every 2 s from GET /live_sessions (a compact view read from memory).
// Host actions are the REST API's own: kick, mute, mute-all and end (AS2–AS5), admit
// and deny (waiting_room/admit|deny), start and stop a recording (R1, R6 + R5).

import { act, confirmAction, h, pill, when } from '../dom.js';

export const POLL_MS = 2000;

export default async function live(root, { api }) {
  const board = h('div', { 'data-testid': 'live-board' });
  const summary = h('p', { class: 'muted', role: 'status', 'data-testid': 'live-summary' });
  const updated = h('p', { class: 'hint', 'data-testid': 'live-updated' });
  let last = '';
  let timer = null;
  let stopped = false;
  let gen = 0;  // the polling loop that is current; an older one stops at its next turn
  let asked = 0;  // refreshes started; only the newest one's answer is drawn

  const active = (mid, what, body) => api.post(`/meetings/${mid}/active-session/${what}`, body);

  // An action refreshes while the poll may be fetching too; a slower, older answer
  // landing last would show the board as it was before the action.
  async function refresh() {
    const mine = ++asked;
    let view;
    try {
      view = await api.get('/live_sessions');
    } catch (error) {
      if (mine === asked) updated.textContent = `Not updated: ${error.message}`;
      return;
    }
    if (mine !== asked) return;
    updated.textContent = `Updated ${new Date(view.taken_at).toLocaleTimeString()}; refreshes every ${POLL_MS / 1000} s.`;
    const key = JSON.stringify(view.sessions);
    if (key === last) return;
    last = key;
    const people = view.sessions.reduce((n, s) => n + s.peer_count, 0);
    const waiting = view.sessions.reduce((n, s) => n + s.waiting.length, 0);
    summary.textContent = `${view.sessions.length} live ${view.sessions.length === 1 ? 'session' : 'sessions'}, ${people} in, ${waiting} waiting.`;
    const focused = document.activeElement?.dataset?.key;
    board.replaceChildren(...view.sessions.map(session));
    if (!view.sessions.length) board.append(h('p', { class: 'muted' }, 'No meeting is live right now.'));
    if (focused) board.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
  }

  function button(label, key, work, { danger = false, aria, confirm } = {}) {
    const b = h('button', { type: 'button', class: `small${danger ? ' danger' : ''}`, 'data-key': key, 'aria-label': aria || label,
      onclick: async () => {
        if (confirm && !await confirmAction(confirm)) return;
        await act(b, work, `${label}: done.`);
        refresh();
      } }, label);
    return b;
  }

  function session(s) {
    const mid = s.meeting_id;
    const title = s.title || '(untitled meeting)';
    const recording = s.recording
      ? button('Stop recording', `${mid}:rec`, async () => {
        const rec = await api.get(`/recordings/active-recording/${mid}`);
        return api.put(`/recordings/${rec.id}`, { action: 'stop' });
      })
      : button('Start recording', `${mid}:rec`, () => api.post('/recordings', { meeting_id: mid }));
    const controls = s.session_id ? [
      button('Mute all', `${mid}:muteall`, () => active(mid, 'mute-all', { allow_unmute: true }), { aria: `Mute everyone in ${title}` }),
      recording,
      button('End meeting', `${mid}:end`, () => active(mid, 'kick-all'), { danger: true, aria: `End ${title} for everyone`,
        confirm: `End “${title}” for everyone now?` }),
    ] : [];
    const peers = s.peers.map((p) => h('li', { class: 'item', 'data-peer-id': p.peer_id },
      h('div', { class: 'grow' }, h('div', { class: 'title' }, p.name),
        h('div', { class: 'meta' }, `${p.preset_name} · joined ${when(p.joined_at)}${p.stage_status !== 'ON_STAGE' ? ` · ${p.stage_status.toLowerCase().replace(/_/g, ' ')}` : ''}`)),
      p.hidden ? pill('hidden') : null,
      pill(p.audio ? 'mic on' : 'mic off', p.audio ? 'ok' : ''), pill(p.video ? 'camera on' : 'camera off', p.video ? 'ok' : ''),
      p.hand_raised_at ? pill('hand raised', 'warn') : null,
      button('Mute', `${p.peer_id}:mute`, () => active(mid, 'mute', { participant_ids: [p.participant_id] }), { aria: `Mute ${p.name}` }),
      button('Kick', `${p.peer_id}:kick`, () => active(mid, 'kick', { participant_ids: [p.participant_id] }),
        { danger: true, aria: `Kick ${p.name}`, confirm: `Remove ${p.name} from “${title}”?` })));
    const waiting = s.waiting.map((p) => h('li', { class: 'item', 'data-peer-id': p.peer_id },
      h('div', { class: 'grow' }, h('div', { class: 'title' }, p.name), h('div', { class: 'meta' }, p.preset_name)),
      button('Admit', `${p.peer_id}:admit`, () => api.post(`/meetings/${mid}/waiting_room/admit`, { peer_ids: [p.peer_id] }), { aria: `Admit ${p.name}` }),
      button('Deny', `${p.peer_id}:deny`, () => api.post(`/meetings/${mid}/waiting_room/deny`, { peer_ids: [p.peer_id] }), { danger: true, aria: `Deny ${p.name}` })));
    const more = s.peer_count - s.peers.length;
    return h('section', { class: 'live-session card', 'data-meeting-id': mid, 'aria-label': title },
      h('header', {}, h('h2', {}, title),
        s.session_id ? pill(`${s.peer_count} in`, 'ok') : pill('waiting only', 'warn'),
        s.recording ? pill('recording', 'bad') : null, ...controls),
      h('p', { class: 'meta muted' }, s.session_id ? `Session ${s.session_id} · started ${when(s.started_at)} · most at once ${s.max_concurrent_participants}` : 'No session yet: nobody admitted.'),
      s.waiting.length ? h('div', {}, h('h3', {}, `Waiting room (${s.waiting.length})`),
        h('div', { class: 'row' }, button('Admit everyone', `${mid}:admitall`, () => api.post(`/meetings/${mid}/waiting_room/admit`, { all: true }))),
        h('ul', { class: 'list', 'data-testid': 'waiting-list' }, waiting)) : null,
      s.stage_requests.length ? h('div', {}, h('h3', {}, 'Asking for the stage'),
        h('ul', { class: 'list' }, s.stage_requests.map((p) => h('li', { class: 'item' }, p.name)))) : null,
      h('h3', {}, 'In the meeting'),
      h('ul', { class: 'list', 'data-testid': 'peer-list' }, peers),
      more > 0 ? h('p', { class: 'muted' }, `and ${more} more`) : null);
  }

  // A tab in the background does not poll (a forgotten dashboard costs nothing); it
  // catches up as soon as it is shown again.
  // Showing the tab while a poll is in flight starts a new loop; the generation
  // counter ends the old one when its fetch returns, so only one loop ever polls.
  async function loop(g) {
    if (stopped || g !== gen) return;
    if (!document.hidden) await refresh();
    if (stopped || g !== gen) return;
    timer = setTimeout(() => loop(g), POLL_MS);
  }
  const shown = () => {
    if (document.hidden || stopped) return;
    gen += 1;
    clearTimeout(timer);  // one poll now, the next a whole period later
    loop(gen);
  };
  document.addEventListener('visibilitychange', shown);

  root.append(h('h1', {}, 'Live now'), summary, updated, board);
  const first = gen;  // shown meanwhile: that loop is the one
  await refresh();
  if (first === gen && !stopped) timer = setTimeout(() => loop(first), POLL_MS);
  return () => { stopped = true; clearTimeout(timer); document.removeEventListener('visibilitychange', shown); };
}
