// The dashboard's REST client: every call goes to this server's documented REST API
// (docs/api.md) with the API token typed in at sign-in, as `Authorization: Bearer`.
// Errors come back in RealtimeKit's envelope; they are thrown as ApiError with the
// server's own message, which the views show as is.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const KIT = (account) => `/client/v4/accounts/${encodeURIComponent(account)}/realtime/kit`;

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === '') continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(key, String(one));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export async function call(token, method, path, { params, body } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path + query(params), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', credentials: 'omit',
    });
  } catch (error) {
    throw new ApiError(0, 'The server cannot be reached; check the connection.');
  }
  let answer = null;
  try { answer = await response.json(); } catch { /* not JSON: said below */ }
  if (!response.ok || !answer || answer.success !== true) {
    const message = answer?.error?.message || answer?.errors?.[0]?.message
      || `The server answered ${response.status}.`;
    throw new ApiError(response.status, message);
  }
  return answer;
}

/** The REST API as the signed-in operator sees it: `account(...)` for account-level
 *  routes, `app(...)` for the selected app's routes. */
export function client(session) {
  const base = () => KIT(session.accountId);
  const appBase = () => `${base()}/${encodeURIComponent(session.appId)}`;
  const run = (root) => async (method, path, options) =>
    call(session.token, method, root() + path, options);
  const account = run(base);
  const app = run(appBase);
  return {
    account, app,
    get: async (path, params) => (await app('GET', path, { params })).data,
    paged: async (path, params) => app('GET', path, { params }),
    post: async (path, body) => (await app('POST', path, { body })).data,
    patch: async (path, body) => (await app('PATCH', path, { body })).data,
    put: async (path, body) => (await app('PUT', path, { body })).data,
    del: async (path) => (await app('DELETE', path)).data,
  };
}

/** What a token reaches: `{id, status, account_id, app_id}` (GET /client/v4/user/tokens/verify). */
export async function verify(token) {
  return (await call(token, 'GET', '/client/v4/user/tokens/verify')).data;
}

let documentCache = null;
/** The served OpenAPI document: the editors read fields, bounds and defaults from it. */
export async function openapi() {
  if (!documentCache) {
    documentCache = fetch('/openapi.json', { cache: 'no-store' }).then((r) => {
      if (!r.ok) throw new ApiError(r.status, 'The API description could not be loaded.');
      return r.json();
    });
  }
  return documentCache;
}

/** How the OpenAPI document writes the app's routes (its `paths` keys). */
export const DOC_PREFIX = '/client/v4/accounts/{account_id}/realtime/kit/{app_id}';
