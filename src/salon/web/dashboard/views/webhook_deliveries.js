// One webhook's delivery log (GET …/webhooks/{id}/deliveries): event, status, HTTP
// status code, attempts, next retry, last error; redeliver one (POST …/redeliver).

import { act, field, h, pager, pill, when } from '../dom.js';

const PER_PAGE = 25;
const KIND = { delivered: 'ok', failed: 'bad', pending: 'warn' };

export default async function webhookDeliveries(root, { api, params }) {
  const [id] = params;
  const hook = await api.get(`/webhooks/${id}`);
  const status = h('select', { 'data-testid': 'delivery-status' }, h('option', { value: '' }, 'Any'),
    ...['pending', 'delivered', 'failed'].map((s) => h('option', { value: s }, s)));
  const list = h('ul', { class: 'list', 'data-testid': 'delivery-list' });
  const paging = h('div');
  let page = 1;

  async function load() {
    const answer = await api.paged(`/webhooks/${id}/deliveries`, { status: status.value, page_no: page, per_page: PER_PAGE });
    list.replaceChildren(...answer.data.map((d) => {
      const again = h('button', { type: 'button', class: 'small', 'aria-label': `Redeliver ${d.event} of ${when(d.created_at)}`,
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

  root.append(h('p', {}, h('a', { href: '#/webhooks' }, '← Webhooks')), h('h1', {}, `Deliveries of ${hook.name}`),
    h('p', { class: 'muted' }, `${hook.url} · failed deliveries are retried with backoff on 5xx and network errors; a 4xx is final.`),
    h('form', { class: 'toolbar', 'aria-label': 'Filter deliveries', onsubmit: (e) => { e.preventDefault(); page = 1; load(); } },
      field('Status', status), h('button', { type: 'submit' }, 'Filter'),
      h('button', { type: 'button', onclick: () => load() }, 'Refresh')),
    list, paging);
  await load();
}
