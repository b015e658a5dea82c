// What the page was doing, kept in sessionStorage across a trip to the login page
// and back: never a token, and nothing about another account beyond the connection
// to log in with.
//
// - The link in progress: which connection the login window was opened for (a
//   suggested account's), so that the link can be started again for it.
// - A change to finish after a fresh login (linkbff's reauth_required): a link to
//   start again, or an unlink the person already confirmed.

const LINKING = 'linkbff.linking';
const PENDING = 'linkbff.pending';
const PENDING_TTL = 15 * 60 * 1000; // a login takes minutes, not hours

function read(key) {
  try {
    const value = JSON.parse(sessionStorage.getItem(key) || 'null');
    sessionStorage.removeItem(key);
    return value && typeof value === 'object' ? value : null;
  } catch {
    return null; // storage off, or not ours: as if nothing was pending
  }
}

function write(key, value) {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Without storage the page cannot resume; the person starts again.
  }
}

const str = (v) => (typeof v === 'string' ? v : '');

// target is the {connection, social} of a login window (an empty connection for any
// account) out of v, an object read back from storage or given by the page.
const target = (v) => ({ connection: str(v.connection), social: Boolean(v.social) });

// rememberLinking remembers the target of the login window being opened.
export function rememberLinking(t) {
  write(LINKING, target(t));
}

// takeLinking returns (and forgets) the target of the last login window.
export function takeLinking() {
  return target(read(LINKING) || {});
}

// rememberPending keeps a change to finish after the fresh login: {action: 'link',
// connection, social} or {action: 'unlink', provider, user_id}.
export function rememberPending(change) {
  write(PENDING, { ...change, at: Date.now() });
}

// takePending returns (and forgets) the change to finish, or null when there is none
// or it is too old.
export function takePending() {
  const v = read(PENDING);
  if (!v || !(Date.now() - v.at < PENDING_TTL)) {
    return null;
  }
  if (v.action === 'link') {
    return { action: 'link', ...target(v) };
  }
  if (v.action === 'unlink' && str(v.provider) && str(v.user_id)) {
    return { action: 'unlink', provider: v.provider, user_id: v.user_id };
  }
  return null;
}
