// One webhook: its settings (W4 replaces name, URL, events, enabled) and its delivery
// log (GET …/webhooks/{id}/deliveries): event, status, HTTP status code, attempts,
// next retry, last error; redeliver one (POST …/redeliver).

import { openapi } from '../api.js';
import { act, check, field, h, pager, pill, when } from '../dom.js';

const PER_PAGE = 25;
const KIND = { delivered: 'ok', failed: 'bad', pending: 'warn' };

export default async function webhookDeliveries(root, { api, params }) {
  const [id] = params;
  const [hook, doc] = await Promise.all([api.get(`/webhooks/${id}`), openapi()]);
  const events = doc.components.schemas.WebhookBody.properties.events.items.enum;
  const heading = h('h1', {}, `Webhook ${hook.name}`);
  const name = h('input', { required: true, maxlength: 255, value: hook.name, 'data-testid': 'edit-webhook-name' });
  const url = h('input', { required: true, type: 'url', maxlength: 2048, value: hook.url, 'data-testid': 'edit-webhook-url' });
  const enabled = h('input', { type: 'checkbox', checked: hook.enabled, 'data-testid': 'edit-webhook-enabled' });
  const boxes = events.map((e) => h('input', { type: 'checkbox', value: e, checked: hook.events.includes(e) }));
  const settings = h('form', { class: 'stack card', 'aria-label': 'Webhook settings', onsubmit: async (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), url: url.value.trim(), enabled: enabled.checked,
      events: boxes.filter((b) => b.checked).map((b) => b.value) };
    const saved = await act(event.submitter, () => api.put(`/webhooks/${id}`, body), 'Webhook saved.');
    if (saved) heading.textContent = `Webhook ${saved.name}`;
  } }, h('div', { class: 'grid2' }, field('Name', name), field('URL (http or https)', url)),
  h('fieldset', {}, h('legend', {}, 'Events'), h('div', { class: 'grid2' }, boxes.map((b) => check(b.value, b)))),
  check('Enabled', enabled),
  h('div', {}, h('button', { class: 'primary', type: 'submit', 'data-testid': 'save-webhook' }, 'Save webhook')));
  const status = h('select', { 'data-testid': 'delivery-status' }, h('option', { value: '' }, 'Any'),
    ...['pending', 'delivered', 'failed'].map((s) => h('option', { value: s }, s)));
  const list = h('ul', { class: 'list', 'data-testid': 'delivery-list' });
  const paging = h('div');
  let page = 1;
  let loads = 0;

  async function load() {
    const ticket = ++loads;
    const answer = await api.paged(`/webhooks/${id}/deliveries`, { status: status.value, page_no: page, per_page: PER_PAGE });
    if (ticket !== loads) return; // a later search is on its way
    list.replaceChildren(...answer.data.map((d) => {
      // A pending delivery is waiting for a retry or being sent: a copy would reach the
      // receiver twice (the API answers 409), so it has no Redeliver button.
      const again = d.status === 'pending' ? null : h('button', { type: 'button', class: 'small', 'aria-label': `Redeliver ${d.event} of ${when(d.created_at)}`,
        onclick: async () => { if (await act(again, () => api.post(`/webhooks/${id}/deliveries/${d.id}/redeliver`), 'Queued again.')) load(); } },
      'Redeliver');
      return h('li', { class: 'item', 'data-delivery-id': d.id, 'data-status': d.status },
        h('div', { class: 'grow' }, h('div', { class: 'title' }, d.event),
          h('div', { class: 'meta' }, [
            `created ${when(d.created_at)}`,
            `${d.attempts} ${d.attempts === 1 ? 'attempt' : 'attempts'}`,
            d.last_status_code !== null ? `HTTP ${d.last_status_code}` : null,
            d.last_error && d.last_status_code === null ? d.last_error : null,
            d.next_attempt_at ? `next try ${when(d.next_attempt_at)}` : null,
            d.delivered_at ? `delivered ${when(d.delivered_at)}` : null,
          ].filter(Boolean).join(' · '))),
        pill(d.status, KIND[d.status]), again);
    }));
    if (!answer.data.length) list.append(h('li', { class: 'muted' }, 'No deliveries.'));
    paging.replaceChildren(pager(answer.paging, page, PER_PAGE, (p) => { page = p; load(); }));
  }

  root.append(h('p', {}, h('a', { href: '#/webhooks' }, '← Webhooks')), heading,
    h('h2', {}, 'Settings'), settings,
    h('h2', {}, 'Deliveries'),
    h('p', { class: 'muted' }, 'Deliveries that get a 5xx answer or none are retried with backoff; a 4xx answer is final. Redelivering sends the same event again as a new delivery.'),
    h('form', { class: 'toolbar', 'aria-label': 'Filter deliveries', onsubmit: (e) => { e.preventDefault(); page = 1; load(); } },
      field('Status', status), h('button', { type: 'submit' }, 'Filter'),
      h('button', { type: 'button', onclick: () => load() }, 'Refresh')),
    list, paging);
  await load();
}
