// The REST API, called with the signed-in user's token. The token lives in
// sessionStorage (this tab only); every failure is an ApiError that names
// the call and its status, for the page's banner.

const TOKEN_KEY = 'hotswap.token';

export class ApiError extends Error {
  constructor(call, status, code, message) {
    super(`${call} failed: ${status ? `HTTP ${status}` : 'no response'}` +
          `${code ? ` ${code}` : ''}${message ? ` (${message})` : ''}`);
    this.call = call;
    this.status = status;
    this.code = code;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// GET /api/v1`path` (already encoded) and its JSON body.
export async function get(path) {
  const call = `GET /api/v1${path}`;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      headers: { Authorization: `Bearer ${token()}`, Accept: 'application/json' },
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(call, 0, '', e.message);
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const err = body && body.error ? body.error : {};
    throw new ApiError(call, res.status, err.code ?? '', err.message ?? text.slice(0, 200));
  }
  return body;
}

// Path segments for a namespace id "tenant/name".
export function nsPath(id) {
  const [tenant, name] = id.split('/');
  return `/namespaces/${encodeURIComponent(tenant)}/${encodeURIComponent(name)}`;
}
