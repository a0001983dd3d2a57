// The dashboard's shell: sign-in, the app picker, the theme, and hash routing to one
// view module per page. Views get `ctx` ({api, session, params, go}) and may return a
// function that stops what they started (the live page's polling).

import { client, verify } from './api.js';
import { errorBox, h } from './dom.js';
import * as state from './state.js';

const ROUTES = [
  [/^#\/apps$/, 'apps'],
  [/^#\/meetings$/, 'meetings'],
  [/^#\/meetings\/([\w-]+)$/, 'meeting_editor', 'meetings'],
  [/^#\/live$/, 'live'],
  [/^#\/sessions$/, 'sessions'],
  [/^#\/sessions\/([\w-]+)$/, 'session_detail', 'sessions'],
  [/^#\/presets$/, 'presets'],
  [/^#\/presets\/([\w-]+)$/, 'preset_editor', 'presets'],
  [/^#\/webhooks$/, 'webhooks'],
  [/^#\/webhooks\/([\w-]+)$/, 'webhook_deliveries', 'webhooks'],
  [/^#\/usage$/, 'usage'],
];

const $ = (id) => document.getElementById(id);
const api = client(state.session);
let stopView = null;
let rendering = 0;

function applyTheme() {
  const chosen = state.theme();
  const dark = chosen ? chosen === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  if (chosen) document.documentElement.dataset.theme = chosen;
  else delete document.documentElement.dataset.theme;
  const toggle = $('theme-toggle');
  toggle.setAttribute('aria-pressed', String(dark));
  toggle.textContent = 'Dark theme';
}

function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

async function route() {
  if (!state.session.token) return;
  const hash = location.hash || '#/meetings';
  const match = ROUTES.map(([re, name, nav]) => [hash.match(re), name, nav || name]).find(([m]) => m);
  if (!match) { go('#/meetings'); return; }
  const [found, name, nav] = match;
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.route === nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  $('nav').classList.remove('open');
  $('menu-toggle').setAttribute('aria-expanded', 'false');
  if (stopView) { stopView(); stopView = null; }
  const ticket = ++rendering;
  const main = $('main');
  if (!state.session.appId && name !== 'apps') {
    main.replaceChildren(h('h1', {}, 'No app yet'),
      h('p', {}, 'This account has no app. Create one on ', h('a', { href: '#/apps' }, 'Apps and tokens'), '.'));
    return;
  }
  main.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  try {
    const module = await import(`./views/${name}.js`);
    if (ticket !== rendering) return;
    const root = h('div', { 'data-view': name });
    const stop = await module.default(root, { api, session: state.session, params: found.slice(1), go });
    if (ticket !== rendering) { if (typeof stop === 'function') stop(); return; }
    stopView = typeof stop === 'function' ? stop : null;
    main.replaceChildren(root);
    const heading = root.querySelector('h1');
    if (heading) document.title = `${heading.textContent} · salon dashboard`;
  } catch (error) {
    if (ticket !== rendering) return;
    if (error.status === 401) { signOut('The token is no longer valid; sign in again.'); return; }
    main.replaceChildren(h('h1', {}, 'Something went wrong'), errorBox(error));
  }
}

function fillApps() {
  const picker = $('app-picker');
  picker.replaceChildren(...state.session.apps.map((app) =>
    h('option', { value: app.id, selected: app.id === state.session.appId }, `${app.name} (${app.id.slice(0, 8)})`)));
}

async function loadApps() {
  const answer = await api.account('GET', '/apps', { params: { per_page: 100, sort_order: 'ASC' } });
  state.setApps(answer.data);
  fillApps();
}

async function enter() {
  $('signin').hidden = true;
  $('shell').hidden = false;
  await loadApps();
  route();
}

function signOut(message) {
  if (stopView) { stopView(); stopView = null; }
  state.signOut();
  $('shell').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = message || '';
  $('signin-token').value = '';
  $('signin-token').focus();
}

$('signin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = $('signin-token').value.trim();
  const error = $('signin-error');
  error.textContent = '';
  if (!token) { error.textContent = 'Type an API token.'; return; }
  const button = event.submitter;
  if (button) button.disabled = true;
  try {
    state.signIn(token, await verify(token));
    $('signin-token').value = '';
    await enter();
    $('main').focus();
  } catch (failure) {
    error.textContent = failure.status === 401 ? 'This token is unknown or revoked.' : failure.message;
  } finally {
    if (button) button.disabled = false;
  }
});
$('signout').addEventListener('click', () => signOut());
$('app-picker').addEventListener('change', (event) => {
  state.selectApp(event.target.value);
  // A page of one object (#/meetings/<id>) belongs to the app it came from: go to its list.
  const section = (location.hash.match(/^#\/(\w+)/) || [])[1] || 'meetings';
  go(`#/${section}`);
});
$('theme-toggle').addEventListener('click', () => {
  const dark = $('theme-toggle').getAttribute('aria-pressed') === 'true';
  state.setTheme(dark ? 'light' : 'dark');
  applyTheme();
});
$('menu-toggle').addEventListener('click', () => {
  const open = $('nav').classList.toggle('open');
  $('menu-toggle').setAttribute('aria-expanded', String(open));
});
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
addEventListener('hashchange', route);
addEventListener('salon:apps-changed', () => loadApps().catch(() => {}));

applyTheme();
if (state.restore()) enter().catch((error) => signOut(error.status === 401 ? 'The token is no longer valid; sign in again.' : error.message));
else { $('signin').hidden = false; $('signin-token').focus(); }
