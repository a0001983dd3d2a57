// Sessions history: S1 with its filters (search, status, meeting, started between),
// newest first; each opens its page (#/sessions/<id>).

import { field, h, minutes, pager, pill, when } from '../dom.js';

const PER_PAGE = 20;

export default async function sessions(root, { api }) {
  const search = h('input', { type: 'search', 'data-testid': 'session-search' });
  const status = h('select', { 'data-testid': 'session-status' },
    h('option', { value: '' }, 'Any'), h('option', { value: 'LIVE' }, 'Live'), h('option', { value: 'ENDED' }, 'Ended'));
  const from = h('input', { type: 'date', 'data-testid': 'session-from' });
  const to = h('input', { type: 'date', 'data-testid': 'session-to' });
  const sort = h('select', {}, h('option', { value: 'createdAt' }, 'Newest first'), h('option', { value: 'minutesConsumed' }, 'Most minutes first'));
  const list = h('ul', { class: 'list', 'data-testid': 'session-list' });
  const paging = h('div');
  let page = 1;
  let loads = 0;

  async function load() {
    const ticket = ++loads;
    const answer = await api.paged('/sessions', {
      search: search.value.trim(), status: status.value, page_no: page, per_page: PER_PAGE, sort_by: sort.value,
      start_time: from.value ? `${from.value}T00:00:00` : '', end_time: to.value ? `${to.value}T23:59:59` : '' });
    if (ticket !== loads) return; // a later search is on its way
    list.replaceChildren(...answer.data.sessions.map((s) => h('li', { class: 'item', 'data-session-id': s.id },
      h('div', { class: 'grow' }, h('a', { class: 'title', href: `#/sessions/${s.id}` }, s.meeting_display_name || '(untitled meeting)'),
        h('div', { class: 'meta' }, `started ${when(s.started_at)}${s.ended_at ? ` · ended ${when(s.ended_at)}` : ''} · most at once ${s.max_concurrent_participants} · ${minutes(s.minutes_consumed)} of people's time`)),
      pill(s.status === 'LIVE' ? 'live' : 'ended', s.status === 'LIVE' ? 'ok' : ''))));
    if (!answer.data.sessions.length) list.append(h('li', { class: 'muted' }, 'No sessions match.'));
    paging.replaceChildren(pager(answer.paging, page, PER_PAGE, (p) => { page = p; load(); }));
  }

  const filters = h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Find sessions', onsubmit: (event) => { event.preventDefault(); page = 1; load(); } },
    h('div', { class: 'grow' }, field('Search: meeting title, meeting id or session id', search)),
    field('Status', status), field('Started from', from), field('Started until', to), field('Order', sort),
    h('button', { type: 'submit' }, 'Search'));
  root.append(h('h1', {}, 'Sessions'), filters, list, paging);
  await load();
}
