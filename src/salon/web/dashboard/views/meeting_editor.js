// One meeting: every field (M4 PATCH, only what changed, `recording_config` and
// `ai_config` included, from the served OpenAPI document), its participants (P1),
// adding one (P2) and copying a join link (/meet#token=…; P4 with no change gives a
// token of the same version, so earlier links keep working).

import { bodySchema, changes, schemaForm } from '../schema_form.js';
import { DOC_PREFIX, openapi } from '../api.js';
import { act, copy, field, h, pager, pill, toast } from '../dom.js';

const PER_PAGE = 20;
const joinLink = (token) => `${location.origin}/meet#token=${token}`;

export default async function meetingEditor(root, { api, params }) {
  const [id] = params;
  const [meeting, doc, presets] = await Promise.all([
    api.get(`/meetings/${id}`), openapi(), api.get('/presets', { per_page: 100 })]);
  const schema = bodySchema(doc, `${DOC_PREFIX}/meetings/{meeting_id}`, 'patch');
  let current = meeting;
  let form = schemaForm(schema, current, doc);
  const holder = h('div', {}, form.element);
  const heading = h('h1', {}, current.title || '(untitled meeting)');
  const status = h('span', {}, pill(current.status === 'ACTIVE' ? 'active' : 'inactive', current.status === 'ACTIVE' ? 'ok' : 'bad'));

  const editor = h('form', { class: 'stack', 'aria-label': 'Meeting settings', 'data-testid': 'meeting-form', onsubmit: async (event) => {
    event.preventDefault();
    let diff;
    try { diff = changes(current, form.read()); } catch (error) { toast(error.message, true); return; }
    if (!diff) { toast('Nothing changed.'); return; }
    const saved = await act(event.submitter, () => api.patch(`/meetings/${id}`, diff), 'Meeting saved.');
    if (!saved) return;
    current = saved;
    heading.textContent = saved.title || '(untitled meeting)';
    status.replaceChildren(pill(saved.status === 'ACTIVE' ? 'active' : 'inactive', saved.status === 'ACTIVE' ? 'ok' : 'bad'));
    form = schemaForm(schema, current, doc);
    holder.replaceChildren(form.element);
  } }, holder, h('div', { class: 'row end' }, h('button', { class: 'primary', type: 'submit', 'data-testid': 'save-meeting' }, 'Save changes')));

  const people = h('ul', { class: 'list', 'data-testid': 'participant-list' });
  const paging = h('div');
  const link = h('div', { 'aria-live': 'polite' });
  let page = 1;
  let loads = 0;

  function showLink(participant) {
    const url = joinLink(participant.token);
    link.replaceChildren(h('div', { class: 'card stack', 'data-testid': 'join-link' },
      h('strong', {}, `Join link for ${participant.name || participant.custom_participant_id}`),
      h('code', { class: 'secret', 'data-testid': 'join-link-url' }, url),
      h('div', {}, h('button', { type: 'button', onclick: () => copy(url, 'Join link copied') }, 'Copy join link'))));
  }

  async function loadPeople() {
    const ticket = ++loads;
    const answer = await api.paged(`/meetings/${id}/participants`, { page_no: page, per_page: PER_PAGE });
    if (ticket !== loads) return; // a later search is on its way
    people.replaceChildren(...answer.data.map((p) => {
      const button = h('button', { type: 'button', class: 'small', 'aria-label': `Join link for ${p.name || p.custom_participant_id}`,
        onclick: async () => {
          const fresh = await act(button, () => api.patch(`/meetings/${id}/participants/${p.id}`, {}));
          if (fresh) { showLink(fresh); copy(joinLink(fresh.token), 'Join link copied'); }
        } }, 'Join link');
      return h('li', { class: 'item' }, h('div', { class: 'grow' }, h('div', { class: 'title' }, p.name || p.custom_participant_id),
        h('div', { class: 'meta' }, `${p.custom_participant_id} · ${p.preset_name}`)), button);
    }));
    if (!answer.data.length) people.append(h('li', { class: 'muted' }, 'Nobody yet.'));
    paging.replaceChildren(pager(answer.paging, page, PER_PAGE, (n) => { page = n; loadPeople(); }));
  }

  const name = h('input', { maxlength: 255, 'data-testid': 'participant-name' });
  const custom = h('input', { maxlength: 255, required: true, 'data-testid': 'participant-custom-id' });
  const preset = h('select', { 'data-testid': 'participant-preset' }, ...presets.map((p) =>
    h('option', { value: p.name, selected: p.name === 'group_call_participant' }, p.name)));
  const add = h('form', { class: 'row', 'aria-label': 'Add a participant', onsubmit: async (event) => {
    event.preventDefault();
    const body = { custom_participant_id: custom.value.trim(), preset_name: preset.value };
    if (name.value.trim()) body.name = name.value.trim();
    const made = await act(event.submitter, () => api.post(`/meetings/${id}/participants`, body), 'Participant added.');
    if (made) { showLink(made); custom.value = ''; name.value = ''; loadPeople(); }
  } }, h('div', { class: 'grow' }, field('Name', name)), h('div', { class: 'grow' }, field('Custom participant id', custom)),
  h('div', { class: 'grow' }, field('Preset', preset)), h('button', { class: 'primary', type: 'submit', 'data-testid': 'add-participant' }, 'Add participant'));

  root.append(h('p', {}, h('a', { href: '#/meetings' }, '← Meetings')), heading,
    h('p', { class: 'muted' }, id, ' ', status),
    h('h2', {}, 'Participants'), add, link, people, paging,
    h('h2', {}, 'Settings'), editor);
  await loadPeople();
}
