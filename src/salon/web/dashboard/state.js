// The signed-in operator's state, kept apart from the views: the token and what it
// reaches, the app being looked at, the theme. The token lives in sessionStorage (this
// tab only, gone when it closes) and never in the URL.

const KEY = 'salon.dashboard.session';
const THEME = 'salon.dashboard.theme';

export const session = {
  token: null,
  tokenId: null,
  accountId: null,
  /** Set when the token is scoped to one app: it can see nothing else. */
  scopedAppId: null,
  appId: null,
  apps: [],
};

const listeners = new Set();
export function onChange(listener) { listeners.add(listener); return () => listeners.delete(listener); }
function changed() { for (const listener of listeners) listener(session); }

export function restore() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (saved && saved.token && saved.accountId) Object.assign(session, saved);
  } catch { /* a damaged entry is ignored: sign in again */ }
  return Boolean(session.token);
}

function save() {
  const { token, tokenId, accountId, scopedAppId, appId } = session;
  sessionStorage.setItem(KEY, JSON.stringify({ token, tokenId, accountId, scopedAppId, appId }));
}

export function signIn(token, verified) {
  Object.assign(session, { token, tokenId: verified.id, accountId: verified.account_id,
    scopedAppId: verified.app_id, appId: verified.app_id });
  save();
  changed();
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  Object.assign(session, { token: null, tokenId: null, accountId: null, scopedAppId: null, appId: null, apps: [] });
  changed();
}

export function setApps(apps) {
  session.apps = apps;
  if (!apps.some((a) => a.id === session.appId)) session.appId = apps[0]?.id || null;
  save();
  changed();
}

export function selectApp(appId) {
  session.appId = appId;
  save();
  changed();
}

export function theme() { return localStorage.getItem(THEME); }
export function setTheme(value) {
  if (value) localStorage.setItem(THEME, value); else localStorage.removeItem(THEME);
}
