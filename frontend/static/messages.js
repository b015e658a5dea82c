// What each problem linkbff (or the login window) can report means to a person, and
// what they can do next. describe() never shows a bare status code: a code this page
// does not know is described by the problem's own title and detail.

const LOGIN = '/auth/login?returnTo=%2F';
const tryAgainIn = (p) =>
  p.retryAfter ? `Try again in ${p.retryAfter} second${p.retryAfter === 1 ? '' : 's'}.` : 'Try again in a minute.';
const logInAgain = { href: LOGIN, text: 'Log in again' };
const reference = (p) => (p.requestId ? ` If it keeps happening, give this reference to support: ${p.requestId}.` : '');

// Each entry is the message's text alone, or returns {text, action?, signedOut?,
// refresh?}. action is a link offered with the message; signedOut means the session
// is gone; refresh means the list of accounts may have changed and is read again.
const messages = {
  invalid_token: () => ({
    text: 'Your session has ended. Log in again to manage your linked accounts.',
    action: logInAgain,
    signedOut: true,
  }),
  reauth_required: (p) => ({
    text: 'For your safety, log in again before you change your linked accounts.',
    action: { href: sameOriginPath(p.body.login_url) || LOGIN, text: 'Log in again' },
  }),
  account_not_found: () => ({
    text: 'Your account is not there any more under this login: it was deleted, or linked into another account since you logged in. Log in again to continue with the account it belongs to now.',
    action: logInAgain,
    signedOut: true,
  }),
  insufficient_scope: () => ({
    text: "Your login does not allow this change. Log in again; if it keeps happening, tell the site's administrator.",
    action: logInAgain,
  }),
  csrf_failed: 'The request was refused because it did not come from this page. Reload the page and try again.',
  invalid_link_token: "The other account's login could not be verified, so nothing was linked. Choose “Link another account” and log in to it again.",
  link_token_too_old: 'The login to the other account is too old to be used for linking. Choose “Link another account” and log in to it again.',
  nonce_mismatch: 'That linking attempt expired or was already used, so nothing was linked. Choose “Link another account” to start again.',
  already_linked: 'That login already belongs to this account, so there is nothing to link. To add a different login, choose “Link another account” and pick another one.',
  email_not_verified: "The other account's email address is not verified, so it cannot be linked. Verify it first (look for the verification email from that service), then try again.",
  identity_already_exists: () => ({
    text: 'That login is already linked to another account. If that account is yours, log in with it and unlink the login there first, then link it here.',
    refresh: true,
  }),
  identity_not_found: () => ({
    text: 'That login is no longer linked to your account (it may have been unlinked elsewhere). The list below is up to date.',
    refresh: true,
  }),
  primary_identity: 'The primary login of your account cannot be unlinked. You can unlink any of the others.',
  account_busy: () => ({
    text: 'Another change to your linked accounts is still in progress. Wait a moment, then try again.',
    refresh: true,
  }),
  rate_limited: (p) => ({
    text: `That was a lot of requests in a short time, so linkbff is pausing yours. ${tryAgainIn(p)}`,
  }),
  upstream_rate_limited: (p) => ({
    text: `Auth0, the login service, is handling too many requests right now. ${tryAgainIn(p)}`,
  }),
  upstream_unavailable: (p) => ({
    text: `Auth0, the login service, cannot be reached right now. ${tryAgainIn(p)}`,
  }),
  upstream_timeout: () => ({
    text: 'Auth0, the login service, took too long to answer. The list below shows what your account has now; try again if your change is missing.',
    refresh: true,
  }),
  upstream_error: (p) => ({
    text: `Auth0, the login service, refused the change. Try again later.${reference(p)}`,
  }),
  store_unavailable: (p) => ({
    text: `linkbff cannot save your request right now. ${tryAgainIn(p)}`,
  }),
  session_unavailable: (p) => ({
    text: `linkbff cannot check your login right now. ${tryAgainIn(p)}`,
  }),
  internal_error: (p) => ({
    text: `Something went wrong in linkbff. Try again.${reference(p)}`,
  }),
  network: 'linkbff cannot be reached. Check your internet connection, then try again.',
  unexpected: (p) => ({
    text: `linkbff gave an unexpected answer. Reload the page and try again.${reference(p)}`,
  }),
  // Mistakes in this page's own requests: nothing the person did, so say so.
  invalid_body: pageMistake,
  invalid_path: pageMistake,
  body_too_large: pageMistake,
  unsupported_media_type: pageMistake,
  not_found: pageMistake,
  method_not_allowed: pageMistake,
};

function pageMistake(p) {
  return {
    text: `This page sent linkbff a request it could not handle (${p.title || p.code}). Reload the page and try again.${reference(p)}`,
  };
}

// describe turns a Problem (see api.js) into a message.
export function describe(p) {
  const known = Object.hasOwn(messages, p.code) ? messages[p.code] : undefined;
  if (known) {
    return typeof known === 'string' ? { text: known } : known(p);
  }
  if (p.status === 401) {
    return { ...messages.invalid_token(), text: `${p.title || 'You are not logged in'}. Log in again to continue.` };
  }
  const said = [p.title, p.detail].filter(Boolean).join(': ');
  return { text: `${said || 'The request failed'}. Try again in a moment.${reference(p)}` };
}

// The login window's own outcomes (Lock's events), which never reach linkbff.
export function describeLock(kind, err) {
  const why = err && (err.errorDescription || err.description || err.error_description || err.message);
  switch (kind) {
    case 'closed':
      return { text: 'Linking cancelled: the login window was closed before you logged in. Nothing was changed.' };
    case 'authorization_error':
      if (err && err.error === 'access_denied') {
        return { text: 'The login to the other account was cancelled or refused, so nothing was linked. Choose “Link another account” to try again.' };
      }
      return { text: `The login to the other account did not complete${why ? ` (${why})` : ''}, so nothing was linked. Choose “Link another account” to try again.` };
    case 'load_failed':
      return { text: 'The login window could not be loaded. Check your internet connection, then try again.' };
    default:
      return { text: `The login window stopped with an error${why ? ` (${why})` : ''}. Reload the page and try again.` };
  }
}

// What the first login (through /auth/login) that linkbff sent back to the page as
// /?login_error=CODE means: linkbff's own codes, then the OAuth errors Auth0 can answer
// /authorize with, which linkbff passes on. The URL is anyone's to write, so a code
// this page does not know gets a general message, never the code itself.
const loginErrors = {
  invalid_state:
    'The login could not be matched to this browser: it was started in another tab or browser, took more than 10 minutes, or was already used.',
  invalid_id_token:
    "Auth0's answer to the login could not be verified, so it was not used. If this keeps happening, tell the site's administrator.",
  login_failed: 'The login could not be completed with Auth0. Wait a moment, then try again.',
  access_denied: 'The login was cancelled or refused.',
  unauthorized: "Auth0 refused the login for this account. If you think it should work, tell the site's administrator.",
  login_required: 'Auth0 needs you to log in again.',
  interaction_required: 'Auth0 needs you to complete the login yourself.',
  consent_required: 'Auth0 needs your consent before this site can log you in.',
  temporarily_unavailable: 'Auth0, the login service, is unavailable right now. Wait a minute, then try again.',
  server_error: 'Auth0, the login service, had a problem with the login. Wait a minute, then try again.',
  stale_login:
    'The login service did not ask for your password again, so nothing was changed. Log in again and try once more.',
};
// Auth0's answers to a request it finds malformed: nothing the person can change.
for (const code of ['invalid_request', 'unauthorized_client', 'invalid_scope', 'unsupported_response_type']) {
  loginErrors[code] =
    "The login did not complete because of a problem in how this site is set up with Auth0. Tell the site's administrator.";
}

// describeLoginError turns a login_error code into a message offering to log in
// again; code is "login_" and the code when the page knows it, else "login_unknown".
export function describeLoginError(code) {
  const known = Object.hasOwn(loginErrors, code);
  return {
    code: known ? `login_${code}` : 'login_unknown',
    text: known
      ? loginErrors[code]
      : "The login did not complete because of a problem between this site and Auth0. If this keeps happening, tell the site's administrator.",
    action: logInAgain,
  };
}

// A login URL a problem suggests is used only when it is a path on this site.
function sameOriginPath(url) {
  return typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\') ? url : '';
}
