// The page: who is logged in, their linked accounts, link (through Auth0 Lock) and
// unlink. Everything it reads and changes goes through linkbff with the session
// cookie; the one token it ever sees, the other account's ID token, lives only in the
// call that hands it to linkbff.

import { Problem, getJSON, post, del } from './api.js';
import { describe, describeLock, describeLoginError } from './messages.js';
import { provider } from './providers.js';
import { createLock, isLoginResult } from './lock.js';
import { rememberLinking, takeLinking, rememberPending, takePending } from './pending.js';

const $ = (id) => document.getElementById(id);

const page = {
  config: null, // /config.json
  user: null, // the session's user
  identities: [], // the account's identities, as last listed
  lock: null, // the promise of the page's Lock, once asked for
  prefilled: null, // the promise of a Lock with the user's email filled in, once asked for
  listed: false, // the list shows the account's identities (not placeholders)
  loading: null, // the identity list being read
  busy: false, // a link or unlink is running
};

// ---- status region ---------------------------------------------------------------

// say puts a message in the status region (an aria-live region, so screen readers
// read it). code is a stable name of the outcome, for tests; action a link to offer.
function say(text, { kind = 'info', code = '', action } = {}) {
  const status = $('status');
  const nodes = [document.createTextNode(text)];
  if (action) {
    const a = document.createElement('a');
    a.id = 'status-action';
    a.href = action.href;
    a.textContent = action.text;
    nodes.push(' ', a);
  }
  status.dataset.kind = kind;
  status.dataset.code = code;
  status.replaceChildren(...nodes);
}

// fail reports a failed call or a login window that could not load.
function fail(err, { refresh = true } = {}) {
  if (!(err instanceof Problem)) {
    say(describeLock('load_failed').text, { kind: 'error', code: 'lock_unavailable' });
    return;
  }
  const m = describe(err);
  say(m.text, { kind: 'error', code: err.code || 'unexpected', action: m.action });
  if (m.signedOut) {
    show('signed-out');
  } else if (m.refresh && refresh) {
    loadIdentities();
  }
}

// ---- views -----------------------------------------------------------------------

function show(state) {
  const main = $('main');
  main.dataset.state = state;
  main.setAttribute('aria-busy', String(state === 'loading'));
  $('signed-out').hidden = state !== 'signed-out';
  $('signed-in').hidden = state === 'signed-out'; // with placeholders while loading
  $('logout-form').hidden = state !== 'signed-in';
}

function showUser(user) {
  const name = user.name || user.email || 'Your account';
  $('user-name').textContent = name;
  $('user-email').textContent = user.email && user.email !== name ? user.email : '';
  $('user-initials').textContent = initials(name);
  const img = $('user-picture');
  // Only https and data: pictures, which the Content-Security-Policy allows (the
  // development tenant's users have data: pictures, so nothing leaves the machine).
  if (typeof user.picture === 'string' && /^(https:\/\/|data:image\/)/.test(user.picture)) {
    img.onerror = () => {
      img.hidden = true; // the initials underneath stay
    };
    img.src = user.picture;
    img.hidden = false;
  }
}

function initials(name) {
  const words = name.replace(/@.*/, '').split(/[\s._-]+/).filter(Boolean);
  return words.slice(0, 2).map((w) => w[0].toUpperCase()).join('') || '?';
}

function label(identity) {
  const p = identity.profile || {};
  return p.email || p.name || identity.user_id;
}

function renderIdentities(list) {
  page.identities = list.identities;
  const template = $('identity-template').content.firstElementChild;
  const items = list.identities.map((identity) => {
    const li = template.cloneNode(true);
    const kind = provider(identity);
    const text = label(identity);
    li.dataset.provider = identity.provider;
    li.dataset.userId = identity.user_id;
    li.dataset.primary = String(identity.primary);
    li.querySelector('.provider-icon').src = kind.icon;
    li.querySelector('.provider-name').textContent = kind.name;
    li.querySelector('.identity-label').textContent = text;
    li.querySelector('.badge').hidden = !identity.primary;
    const unlink = li.querySelector('.unlink');
    if (identity.primary) {
      unlink.remove();
    } else {
      unlink.setAttribute('aria-label', `Unlink ${kind.name} (${text})`);
      unlink.addEventListener('click', () => confirmUnlink(identity, kind.name, text));
    }
    return li;
  });
  const ul = $('identities');
  ul.replaceChildren(...items);
  ul.dataset.state = 'ready';
  ul.setAttribute('aria-busy', 'false');
  page.listed = true;
  setBusy(page.busy);
}

function listFailed() {
  const ul = $('identities');
  const li = document.createElement('li');
  li.className = 'identity list-error';
  const retry = document.createElement('button');
  retry.id = 'retry-identities';
  retry.type = 'button';
  retry.className = 'button secondary';
  retry.textContent = 'Try again';
  retry.addEventListener('click', () => loadIdentities());
  li.append('Your linked accounts could not be loaded.', retry);
  ul.replaceChildren(li);
  ul.dataset.state = 'error';
  ul.setAttribute('aria-busy', 'false');
}

// setBusy marks the link and unlink buttons unavailable while a change runs. They
// keep their focus (aria-disabled, not disabled), and their handlers check page.busy.
function setBusy(on) {
  page.busy = on;
  for (const b of document.querySelectorAll('#link-account, #identities .unlink, #suggestion-list .link-suggestion')) {
    b.setAttribute('aria-disabled', String(on));
  }
}

// ---- identities ------------------------------------------------------------------

function loadIdentities() {
  page.loading ??= (async () => {
    $('identities').setAttribute('aria-busy', 'true');
    try {
      renderIdentities(await getJSON('/me/identities'));
      loadSuggestions();
    } catch (err) {
      if (!page.listed) {
        listFailed();
      }
      fail(err, { refresh: false });
    } finally {
      page.loading = null;
    }
  })();
  return page.loading;
}

// ensureListed reads the list unless it shows already: a page back from the other
// account's login reads it only once Lock has told what became of that login.
function ensureListed() {
  if (!page.listed) {
    loadIdentities();
  }
}

function confirmUnlink(identity, name, text) {
  if (page.busy) {
    return;
  }
  const dialog = $('unlink-dialog');
  $('unlink-text').textContent =
    `After this, logging in with ${name} (${text}) no longer opens this account. You can link it again later.`;
  dialog.returnValue = '';
  dialog.onclose = () => {
    if (dialog.returnValue === 'confirm') {
      unlink(identity, name, text);
    }
  };
  dialog.showModal();
}

async function unlink(identity, name, text) {
  setBusy(true);
  say(`Unlinking ${name} (${text})…`, { code: 'unlinking' });
  try {
    const path = `/me/identities/${encodeURIComponent(identity.provider)}/${encodeURIComponent(identity.user_id)}`;
    renderIdentities(await del(path));
    say(`${name} (${text}) is unlinked: it no longer logs in to this account.`, { kind: 'success', code: 'unlinked' });
    $('identities-title').focus(); // the button that had focus is gone
    loadSuggestions();
  } catch (err) {
    if (err instanceof Problem && err.code === 'reauth_required') {
      reauthenticate(err, { action: 'unlink', provider: identity.provider, user_id: identity.user_id });
      return;
    }
    fail(err);
  } finally {
    setBusy(false);
  }
}

// ---- a fresh login before a change -----------------------------------------------

// reauthenticate follows linkbff's reauth_required: the change is remembered (never
// a token), and the browser goes to the problem's login_url, which asks Auth0 to log
// the person in again and comes back here, where start() finishes the change.
function reauthenticate(err, change) {
  const m = describe(err);
  rememberPending(change);
  say(`${m.text} Taking you to the login…`, { code: 'reauth_required' });
  window.location.assign(m.action.href);
}

// resume finishes the change a fresh login interrupted.
async function resume(change) {
  if (change.action === 'unlink') {
    await loadIdentities();
    const identity = findIdentity(change.provider, change.user_id);
    if (!identity) {
      say('You are logged in again. That login is no longer linked to your account, so there was nothing to unlink.', { code: 'resume_gone' });
      return;
    }
    const kind = provider(identity);
    unlink(identity, kind.name, label(identity));
    return;
  }
  loadIdentities();
  say('You are logged in again. Now log in to the account you want to link.', { code: 'resume_link' });
  startLink({ connection: change.connection, social: change.social });
}

function findIdentity(providerName, userID) {
  return page.identities.find((i) => !i.primary && i.provider === providerName && i.user_id === userID);
}

// ---- suggestions -----------------------------------------------------------------

// loadSuggestions shows the other accounts that have the person's verified email.
// They are an offer, not a result: when they cannot be read, the page just goes
// without them.
async function loadSuggestions() {
  const section = $('suggestions');
  section.dataset.state = 'loading';
  let found;
  try {
    found = (await getJSON('/me/identities/suggestions')).suggestions || [];
  } catch {
    found = [];
  }
  const template = $('suggestion-template').content.firstElementChild;
  const items = found.map((s) => {
    const li = template.cloneNode(true);
    const kind = provider(s);
    li.dataset.connection = s.connection;
    li.querySelector('.provider-icon').src = kind.icon;
    li.querySelector('.suggestion-text').textContent = `We found ${article(kind.name)} ${kind.name} account with your email (${s.email}). Link it?`;
    li.querySelector('.suggestion-name').textContent = s.name || '';
    const button = li.querySelector('.link-suggestion');
    button.setAttribute('aria-label', `Link the ${kind.name} account with your email (${s.email})`);
    button.addEventListener('click', () => startLink({ connection: s.connection, social: s.is_social }));
    return li;
  });
  $('suggestion-list').replaceChildren(...items);
  section.hidden = items.length === 0;
  section.dataset.state = 'ready';
  setBusy(page.busy);
}

// article is "a" or "an" before a provider's name ("an Email and password account").
function article(name) {
  return /^[aeiou]/i.test(name) ? 'an' : 'a';
}

// ---- linking ---------------------------------------------------------------------

// lockEvents are what the page does with a Lock's events.
const lockEvents = {
  authenticated: link,
  failed(kind, err) {
    say(describeLock(kind, err).text, { kind: 'error', code: `lock_${kind}` });
    ensureListed();
  },
  closed() {
    say(describeLock('closed').text, { code: 'lock_closed' });
    $('link-account').focus();
  },
  nothing: ensureListed,
};

// pageLock returns the promise of the Lock kept in page[key], constructing it with
// options the first time.
function pageLock(key, options) {
  page[key] ??= createLock(page.config, lockEvents, options).catch((err) => {
    page[key] = null; // a later attempt loads the bundle again
    throw err;
  });
  return page[key];
}

const lock = () => pageLock('lock');

// prefilledLock is a Lock whose email field holds the person's own email, for a
// suggested database account (the same email, by definition). Lock takes prefill only
// at construction, so it is an instance of its own. The login comes back through a
// redirect, whose result the next page load's Lock reads.
const prefilledLock = () => pageLock('prefilled', { prefillEmail: page.user.email });

// startLink opens the login window for the account to link: any account, or, for a
// suggestion, only its connection ({connection, social}).
async function startLink(target = {}) {
  if (page.busy) {
    return;
  }
  setBusy(true);
  say('Opening the login window…', { code: 'lock_opening' });
  try {
    // The nonce binds the other account's login to this session, once.
    const { nonce } = await post('/me/identities/nonce');
    const prefill = target.connection && !target.social && page.user && page.user.email;
    const login = await (prefill ? prefilledLock() : lock());
    rememberLinking(target);
    await login.show(nonce, { connection: target.connection }); // once a Lock closed just before has left the page
    say('Log in with the account you want to link to this one.', { code: 'lock_open' });
  } catch (err) {
    fail(err);
  } finally {
    setBusy(false);
  }
}

// link hands the other account's ID token to linkbff. sub names that account, to say
// which identity is new.
async function link(idToken, sub) {
  setBusy(true);
  say('Linking the account…', { code: 'linking' });
  const target = takeLinking();
  try {
    const list = await post('/me/identities', { link_with: idToken });
    renderIdentities(list);
    const added = list.identities.find((i) => !i.primary && `${i.provider}|${i.user_id}` === sub);
    const what = added ? `${provider(added).name} (${label(added)})` : 'The other account';
    say(`${what} is now linked: logging in with it opens this account.`, { kind: 'success', code: 'linked' });
    loadSuggestions();
  } catch (err) {
    if (err instanceof Problem && err.code === 'reauth_required') {
      // The other account's ID token is dropped here: after the fresh login, that
      // account is logged in to again.
      reauthenticate(err, { action: 'link', ...target });
      return;
    }
    fail(err);
    ensureListed();
  } finally {
    setBusy(false);
  }
}

// ---- start -----------------------------------------------------------------------

// forgetLoginResult drops a login result from the URL without Lock reading it.
function forgetLoginResult() {
  history.replaceState(null, '', window.location.pathname + window.location.search);
}

// loginError reports a failed login that linkbff's /auth/callback sent back here as
// /?login_error=CODE, removes the code from the URL (a reload does not repeat it), and
// says whether there was one.
function loginError() {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('login_error');
  if (code === null) {
    return false;
  }
  params.delete('login_error');
  const rest = params.toString();
  history.replaceState(null, '', window.location.pathname + (rest ? `?${rest}` : '') + window.location.hash);
  const m = describeLoginError(code);
  say(m.text, { kind: 'error', code: m.code, action: m.action });
  return true;
}

async function start() {
  $('link-account').addEventListener('click', () => startLink());
  const returning = isLoginResult(window.location.hash);
  // A change interrupted by a fresh login is finished only when that login worked.
  const pending = takePending();
  const failedLogin = loginError();
  let session;
  try {
    [page.config, session] = await Promise.all([getJSON('/config.json'), getJSON('/auth/session')]);
  } catch (err) {
    if (returning) {
      forgetLoginResult();
    }
    show('signed-out');
    fail(err, { refresh: false });
    return;
  }
  if (!session.authenticated) {
    show('signed-out');
    if (returning) {
      forgetLoginResult();
      say('Your session ended before the account could be linked. Log in, then choose “Link another account” again.', {
        kind: 'error',
        code: 'session_ended',
      });
    }
    return;
  }
  page.user = session.user || {};
  showUser(page.user);
  show('signed-in');
  if (!returning) {
    if (pending && !failedLogin) {
      resume(pending);
      return;
    }
    loadIdentities();
    return;
  }
  // Back from the other account's login: Lock reads the result from the URL and
  // emits an event (see lock()).
  say('Finishing the login to the other account…', { code: 'lock_returning' });
  try {
    await lock();
  } catch (err) {
    forgetLoginResult();
    fail(err);
    loadIdentities();
  }
}

start();
