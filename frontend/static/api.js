// Calls to linkbff's own API, same origin, authenticated by the session cookie. State-
// changing calls carry X-CSRF: 1, which linkbff requires of cookie-authenticated POST
// and DELETE requests (a cross-site form cannot set it).

// Problem is a failed call: an application/problem+json answer (code, title, detail,
// request_id) or, when linkbff could not be reached or answered something else, one
// with the code "network" or "unexpected".
export class Problem extends Error {
  constructor(status, body, retryAfter) {
    super(body.detail || body.title || 'Request failed');
    this.status = status;
    this.code = body.code || '';
    this.title = body.title || '';
    this.detail = body.detail || '';
    this.requestId = body.request_id || '';
    this.body = body;
    this.retryAfter = retryAfter; // seconds, or 0 when the answer gave none
  }
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (method !== 'GET') {
    headers['X-CSRF'] = '1';
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new Problem(0, { code: 'network' }, 0);
  }
  const type = res.headers.get('Content-Type') || '';
  if (res.ok && type.startsWith('application/json')) {
    return res.json();
  }
  let problem = { code: 'unexpected' };
  if (type.startsWith('application/problem+json')) {
    problem = await res.json().catch(() => problem);
  }
  const retryAfter = Number.parseInt(res.headers.get('Retry-After') || '', 10);
  throw new Problem(res.status, problem, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 0);
}

export const getJSON = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body);
export const del = (path) => call('DELETE', path);
