// Meetings: search (M1's search and status), create (M2), activate and deactivate
// (M4 with `status`); each opens in the editor (#/meetings/<id>).

import { act, field, h, pager, pill, when } from '../dom.js';

const PER_PAGE = 20;

export default async function meetings(root, { api, go }) {
  const search = h('input', { type: 'search', 'data-testid': 'meeting-search' });
  const status = h('select', { 'data-testid': 'meeting-status-filter' },
    h('option', { value: '' }, 'Any'), h('option', { value: 'ACTIVE' }, 'Active'), h('option', { value: 'INACTIVE' }, 'Inactive'));
  const list = h('ul', { class: 'list', 'data-testid': 'meeting-list' });
  const paging = h('div');
  let page = 1;
  let loads = 0;

  async function load() {
    const ticket = ++loads;
    const answer = await api.paged('/meetings', { search: search.value.trim(), status: status.value, page_no: page, per_page: PER_PAGE });
    if (ticket !== loads) return; // a later search is on its way
    list.replaceChildren(...answer.data.map(row));
    if (!answer.data.length) list.append(h('li', { class: 'muted' }, 'No meetings match.'));
    paging.replaceChildren(pager(answer.paging, page, PER_PAGE, (p) => { page = p; load(); }));
  }

  function row(m) {
    const active = m.status === 'ACTIVE';
    const toggle = h('button', { type: 'button', class: 'small', 'aria-label': `${active ? 'Deactivate' : 'Activate'} ${m.title || m.id}`,
      onclick: async () => {
        if (await act(toggle, () => api.patch(`/meetings/${m.id}`, { status: active ? 'INACTIVE' : 'ACTIVE' }),
          active ? 'Meeting deactivated: nobody can join it.' : 'Meeting activated.')) load();
      } }, active ? 'Deactivate' : 'Activate');
    return h('li', { class: 'item', 'data-meeting-id': m.id },
      h('div', { class: 'grow' }, h('a', { class: 'title', href: `#/meetings/${m.id}` }, m.title || '(untitled)'),
        h('div', { class: 'meta' }, `${m.id} · created ${when(m.created_at)}`)),
      pill(active ? 'active' : 'inactive', active ? 'ok' : 'bad'), toggle);
  }

  const title = h('input', { maxlength: 255, 'data-testid': 'new-meeting-title' });
  const create = h('form', { class: 'row', 'aria-label': 'Create a meeting', onsubmit: async (event) => {
    event.preventDefault();
    const made = await act(event.submitter, () => api.post('/meetings', title.value.trim() ? { title: title.value.trim() } : {}), 'Meeting created.');
    if (made) go(`#/meetings/${made.id}`);
  } }, h('div', { class: 'grow' }, field('New meeting title', title)),
  h('button', { class: 'primary', type: 'submit', 'data-testid': 'create-meeting' }, 'Create meeting'));

  const filters = h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Find meetings', onsubmit: (event) => { event.preventDefault(); page = 1; load(); } },
    h('div', { class: 'grow' }, field('Search by title or id', search)), field('Status', status),
    h('button', { type: 'submit' }, 'Search'));

  root.append(h('h1', {}, 'Meetings'), create, h('h2', {}, 'Find meetings'), filters, list, paging);
  await load();
}
