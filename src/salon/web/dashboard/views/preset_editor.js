// One preset: every field of config, permissions and ui with its default beside it (the
// defaults and bounds come from the served OpenAPI document's PresetBody); saving sends
// PR4 with only what changed; PR6 deletes it.

import { DOC_PREFIX, openapi } from '../api.js';
import { act, confirmAction, h, toast } from '../dom.js';
import { bodySchema, changes, schemaForm } from '../schema_form.js';

export default async function presetEditor(root, { api, params, go }) {
  const [id] = params;
  const [preset, doc] = await Promise.all([api.get(`/presets/${id}`), openapi()]);
  const schema = bodySchema(doc, `${DOC_PREFIX}/presets`, 'post');
  let current = preset;
  let form = schemaForm(schema, current, doc);
  const holder = h('div', {}, form.element);
  const heading = h('h1', {}, `Preset ${preset.name}`);

  const editor = h('form', { class: 'stack', 'aria-label': 'Preset settings', 'data-testid': 'preset-form', onsubmit: async (event) => {
    event.preventDefault();
    let diff;
    try { diff = changes(current, form.read()); } catch (error) { toast(error.message, true); return; }
    if (!diff) { toast('Nothing changed.'); return; }
    const saved = await act(event.submitter, () => api.patch(`/presets/${id}`, diff), 'Preset saved.');
    if (!saved) return;
    current = saved;
    heading.textContent = `Preset ${saved.name}`;
    form = schemaForm(schema, current, doc);
    holder.replaceChildren(form.element);
  } }, holder, h('div', { class: 'row end' }, h('button', { class: 'primary', type: 'submit', 'data-testid': 'save-preset' }, 'Save changes')));

  const remove = h('button', { type: 'button', class: 'danger', onclick: async () => {
    if (!await confirmAction(`Delete the preset “${current.name}”?`)) return;
    if (await act(remove, () => api.del(`/presets/${id}`), 'Preset deleted.')) go('#/presets');
  } }, 'Delete preset');

  root.append(h('p', {}, h('a', { href: '#/presets' }, '← Presets')), heading,
    h('p', { class: 'muted' }, 'Each field shows its default. Peers already in a meeting keep the permissions they joined with.'),
    editor, h('h2', {}, 'Delete'), remove);
}
