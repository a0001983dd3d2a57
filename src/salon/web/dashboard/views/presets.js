// Presets: PR1 (search), PR2 (a new preset of defaults, then edited in its editor).

import { act, field, h, pager, when } from '../dom.js';

const PER_PAGE = 20;

export default async function presets(root, { api, go }) {
  const search = h('input', { type: 'search', 'data-testid': 'preset-search' });
  const list = h('ul', { class: 'list', 'data-testid': 'preset-list' });
  const paging = h('div');
  let page = 1;
  let loads = 0;

  async function load() {
    const ticket = ++loads;
    const answer = await api.paged('/presets', { search: search.value.trim(), page_no: page, per_page: PER_PAGE });
    if (ticket !== loads) return; // a later search is on its way
    list.replaceChildren(...answer.data.map((p) => h('li', { class: 'item' },
      h('div', { class: 'grow' }, h('a', { class: 'title', href: `#/presets/${p.id}` }, p.name),
        h('div', { class: 'meta' }, `updated ${when(p.updated_at)}`)))));
    if (!answer.data.length) list.append(h('li', { class: 'muted' }, 'No presets match.'));
    paging.replaceChildren(pager(answer.paging, page, PER_PAGE, (p) => { page = p; load(); }));
  }

  const name = h('input', { maxlength: 100, required: true, 'data-testid': 'new-preset-name' });
  const create = h('form', { class: 'row', 'aria-label': 'Create a preset', onsubmit: async (event) => {
    event.preventDefault();
    const made = await act(event.submitter, () => api.post('/presets', { name: name.value.trim() }), 'Preset created with the defaults.');
    if (made) go(`#/presets/${made.id}`);
  } }, h('div', { class: 'grow' }, field('New preset name', name, 'Created with every default; edit it next.')),
  h('button', { class: 'primary', type: 'submit' }, 'Create preset'));

  root.append(h('h1', {}, 'Presets'), create,
    h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Find presets', onsubmit: (e) => { e.preventDefault(); page = 1; load(); } },
      h('div', { class: 'grow' }, field('Search by name', search)), h('button', { type: 'submit' }, 'Search')),
    list, paging);
  await load();
}
