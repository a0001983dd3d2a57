// Webhooks: W1 list, W2 create, W5 enable/disable, W6 delete; each opens its delivery
// log (#/webhooks/<id>). The events offered are the API's own enum (OpenAPI document).

import { openapi } from '../api.js';
import { act, confirmAction, field, h, pill, when } from '../dom.js';

export default async function webhooks(root, { api }) {
  const [hooks, doc] = await Promise.all([api.get('/webhooks'), openapi()]);
  const events = doc.components.schemas.WebhookEvent?.enum
    || doc.components.schemas.WebhookBody.properties.events.items.enum || [];
  const list = h('ul', { class: 'list', 'data-testid': 'webhook-list' });

  async function load() {
    const rows = await api.get('/webhooks');
    fill(rows);
  }

  function fill(rows) {
    list.replaceChildren(...rows.map((w) => {
      const toggle = h('button', { type: 'button', class: 'small', 'aria-label': `${w.enabled ? 'Disable' : 'Enable'} ${w.name}`,
        onclick: async () => { if (await act(toggle, () => api.patch(`/webhooks/${w.id}`, { enabled: !w.enabled }))) load(); } },
      w.enabled ? 'Disable' : 'Enable');
      const remove = h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${w.name}`, onclick: async () => {
        if (!await confirmAction(`Delete the webhook “${w.name}”? Its pending deliveries are dropped.`)) return;
        if (await act(remove, () => api.del(`/webhooks/${w.id}`), 'Webhook deleted.')) load();
      } }, 'Delete');
      return h('li', { class: 'item', 'data-webhook-id': w.id },
        h('div', { class: 'grow' }, h('a', { class: 'title', href: `#/webhooks/${w.id}` }, w.name),
          h('div', { class: 'meta' }, `${w.url} · ${w.events.join(', ')} · created ${when(w.created_at)}`)),
        pill(w.enabled ? 'enabled' : 'disabled', w.enabled ? 'ok' : ''), toggle, remove);
    }));
    if (!rows.length) list.append(h('li', { class: 'muted' }, 'No webhooks yet.'));
  }

  const name = h('input', { required: true, maxlength: 255, 'data-testid': 'webhook-name' });
  const url = h('input', { required: true, type: 'url', maxlength: 2048, 'data-testid': 'webhook-url' });
  const boxes = events.map((e) => h('input', { type: 'checkbox', value: e, checked: e.startsWith('meeting.') }));
  const create = h('form', { class: 'stack card', 'aria-label': 'Create a webhook', onsubmit: async (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), url: url.value.trim(), events: boxes.filter((b) => b.checked).map((b) => b.value) };
    if (await act(event.submitter, () => api.post('/webhooks', body), 'Webhook created.')) { name.value = ''; url.value = ''; load(); }
  } }, h('div', { class: 'grid2' }, field('Name', name), field('URL (http or https)', url)),
  h('fieldset', {}, h('legend', {}, 'Events'), h('div', { class: 'grid2' }, boxes.map((b) => h('label', { class: 'check' }, b, h('span', {}, b.value))))),
  h('div', {}, h('button', { class: 'primary', type: 'submit', 'data-testid': 'create-webhook' }, 'Create webhook')));

  fill(hooks);
  root.append(h('h1', {}, 'Webhooks'), create, h('h2', {}, 'Subscriptions'), list);
}
