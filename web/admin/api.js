// The API client of the admin pages: same-origin fetch with the operator's API token.
//
// The token (when the server has SMPLAT_API_TOKEN or CHECKOUT_API_KEY) is asked for once, when
// the API first answers 401, and kept in sessionStorage: it lives as long as the tab, is not
// shared with other tabs or sites, and is never a cookie (so no other origin can make the
// browser send it) and never localStorage (so it does not outlive the session).
// It is sent as the X-API-Key header on every /api/v1 call.

export const PROVIDERS = '/api/v1/fulfillment/providers';
const TOKEN_KEY = 'smplat.apiToken';

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function forgetToken() {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: nothing kept */
  }
}

let pendingPrompt = null;

// Shows the token dialog (one at a time, shared by concurrent 401s) and resolves once the
// operator has entered a token.
function askToken(refused) {
  if (pendingPrompt) return pendingPrompt;
  const dialog = document.getElementById('token-dialog');
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  const error = document.getElementById('token-error');
  error.textContent = refused ? 'The server refused this token (Invalid API key). Try again.' : '';
  input.value = '';
  pendingPrompt = new Promise((resolve) => {
    const onSubmit = (ev) => {
      const value = input.value.trim();
      if (!value) {
        ev.preventDefault();
        error.textContent = 'Enter the API token.';
        return;
      }
      try {
        sessionStorage.setItem(TOKEN_KEY, value);
      } catch {
        /* without storage the token is kept for this page only */
        memoryToken = value;
      }
      form.removeEventListener('submit', onSubmit);
      pendingPrompt = null;
      const forget = document.getElementById('token-forget');
      if (forget) forget.hidden = false;
      resolve(value);
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('cancel', (ev) => ev.preventDefault(), { once: true });
    if (typeof dialog.showModal === 'function') dialog.showModal();
    else dialog.setAttribute('open', '');
    input.focus();
  });
  return pendingPrompt;
}

let memoryToken = null;

// The message of a failed call, in the original's order: `detail` when a string, else `error`
// when a string, else the validation errors of a 422, else "Request failed with status N".
export function errorMessage(data, status) {
  if (data && typeof data === 'object') {
    if (typeof data.detail === 'string') return data.detail;
    if (typeof data.error === 'string') return data.error;
    if (Array.isArray(data.detail) && data.detail.length) {
      return data.detail
        .map((d) => {
          const loc = Array.isArray(d.loc) ? d.loc.filter((x) => x !== 'body').join('.') : '';
          return (loc ? loc + ': ' : '') + (d.msg || d.type || 'invalid');
        })
        .join('; ');
    }
  }
  return `Request failed with status ${status}`;
}

// Calls the API. Resolves with the parsed JSON (null for 204); rejects with an ApiError whose
// message is what the pages show.
export async function api(path, options) {
  return (await request(path, options)).data;
}

// GET of a paged listing (GET /api/v1/orders): resolves with { data, next }, next being the
// X-Next-Cursor header (null on the last page).
export async function apiPage(path) {
  const { data, res } = await request(path);
  return { data, next: res ? res.headers.get('X-Next-Cursor') : null };
}

async function request(path, { method = 'GET', body } = {}) {
  let refused = false;
  for (let attempt = 0; attempt < 5; attempt++) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const token = storedToken() || memoryToken;
    if (token) headers['X-API-Key'] = token;
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        redirect: 'follow',
      });
    } catch (err) {
      throw new ApiError(`Network error: ${err.message}`, 0, null);
    }
    if (res.status === 401) {
      if (token) {
        forgetToken();
        memoryToken = null;
        refused = true;
      }
      await askToken(refused);
      continue;
    }
    if (res.status === 204) return { data: null, res };
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) throw new ApiError(errorMessage(data, res.status), res.status, data);
    return { data, res };
  }
  throw new ApiError('Invalid API key', 401, null);
}

// Runs promises together and never rejects: [{ok, value} | {ok: false, error}] in order.
export async function settle(promises) {
  const out = await Promise.allSettled(promises);
  return out.map((r) => (r.status === 'fulfilled' ? { ok: true, value: r.value } : { ok: false, error: r.reason }));
}

export function hasToken() {
  return Boolean(storedToken() || memoryToken);
}
