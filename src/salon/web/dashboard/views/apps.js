// Apps and their API tokens: A1/A2, and the token routes (GET/POST /api_tokens,
// DELETE /api_tokens/{id}). A token's secret is shown once, right after it is made.

import { act, confirmAction, copy, field, h, pill, when } from '../dom.js';

export default async function apps(root, { api, session }) {
  const scoped = Boolean(session.scopedAppId);
  const [appList, tokenList] = await Promise.all([
    api.account('GET', '/apps', { params: { per_page: 100, sort_order: 'ASC' } }),
    api.account('GET', '/api_tokens', { params: { per_page: 100 } }),
  ]);
  const appName = (id) => appList.data.find((a) => a.id === id)?.name || id;

  const appName$ = h('input', { required: true, maxlength: 255, 'data-testid': 'new-app-name' });
  const newApp = h('form', { class: 'row', 'aria-label': 'Create an app', onsubmit: async (event) => {
    event.preventDefault();
    const made = await act(event.submitter, () => api.account('POST', '/apps', { body: { name: appName$.value } }), 'App created.');
    if (made) { dispatchEvent(new Event('salon:apps-changed')); render(); }
  } }, h('div', { class: 'grow' }, field('New app name', appName$)), h('button', { class: 'primary', type: 'submit' }, 'Create app'));

  const tokenName = h('input', { required: true, maxlength: 255, value: 'dashboard', 'data-testid': 'new-token-name' });
  const scope = h('select', { 'data-testid': 'new-token-scope' },
    scoped ? null : h('option', { value: '' }, 'Account-wide (every app)'),
    ...appList.data.map((a) => h('option', { value: a.id }, `Only app ${a.name}`)));
  const secret = h('div', { 'aria-live': 'polite' });
  const newToken = h('form', { class: 'row', 'aria-label': 'Create an API token', onsubmit: async (event) => {
    event.preventDefault();
    const made = await act(event.submitter, () => api.account('POST', '/api_tokens',
      { body: { name: tokenName.value, app_id: scope.value || null } }), 'Token created.');
    if (!made) return;
    await render();
    secret.replaceChildren(h('div', { class: 'card stack', 'data-testid': 'new-token-secret' },
      h('strong', {}, 'Copy this token now: it is not shown again.'),
      h('code', { class: 'secret' }, made.data.token),
      h('div', {}, h('button', { type: 'button', onclick: () => copy(made.data.token, 'Token copied') }, 'Copy token'))));
  } },
  h('div', { class: 'grow' }, field('Token name', tokenName)),
  h('div', { class: 'grow' }, field('Reaches', scope)),
  h('button', { class: 'primary', type: 'submit' }, 'Create token'));

  const tokens = h('ul', { class: 'list', 'data-testid': 'token-list' });
  const appsList = h('ul', { class: 'list', 'data-testid': 'app-list' });

  async function render() {
    const [fresh, freshApps] = await Promise.all([
      api.account('GET', '/api_tokens', { params: { per_page: 100 } }),
      api.account('GET', '/apps', { params: { per_page: 100, sort_order: 'ASC' } }),
    ]);
    appList.data = freshApps.data;
    fill(fresh.data);
  }

  function fill(rows) {
    appsList.replaceChildren(...appList.data.map((a) => h('li', { class: 'item' },
      h('div', { class: 'grow' }, h('div', { class: 'title' }, a.name), h('div', { class: 'meta' }, `${a.id} · created ${when(a.created_at)}`)),
      a.id === session.appId ? pill('selected', 'ok') : null)));
    tokens.replaceChildren(...rows.map((t) => {
      const revoke = h('button', { type: 'button', class: 'small danger', disabled: t.status !== 'ACTIVE',
        'aria-label': `Revoke token ${t.name}`, onclick: async () => {
          const self = t.id === session.tokenId;
          if (!await confirmAction(`Revoke the token “${t.name}”? Clients using it stop working at once.${self ? ' It is the token you are signed in with.' : ''}`)) return;
          if (await act(revoke, () => api.account('DELETE', `/api_tokens/${t.id}`), 'Token revoked.')) render();
        } }, 'Revoke');
      return h('li', { class: 'item', 'data-token-id': t.id },
        h('div', { class: 'grow' }, h('div', { class: 'title' }, t.name),
          h('div', { class: 'meta' }, `${t.app_id ? `app ${appName(t.app_id)}` : 'account-wide'} · created ${when(t.created_at)}${t.revoked_at ? ` · revoked ${when(t.revoked_at)}` : ''}`)),
        t.id === session.tokenId ? pill('you are signed in with it', 'warn') : null,
        pill(t.status === 'ACTIVE' ? 'active' : 'revoked', t.status === 'ACTIVE' ? 'ok' : 'bad'), revoke);
    }));
  }
  fill(tokenList.data);

  root.append(
    h('h1', {}, 'Apps and API tokens'),
    h('h2', {}, 'Apps'),
    scoped ? h('p', { class: 'muted' }, 'This token is scoped to one app: it cannot create apps.') : newApp,
    appsList,
    h('h2', {}, 'API tokens'),
    h('p', { class: 'muted' }, scoped ? 'This token sees the tokens of its own app only, and can make only tokens of that app.'
      : 'An account-wide token reaches every app; an app token only its app. Secrets are stored as hashes only.'),
    newToken, secret, tokens);
}
