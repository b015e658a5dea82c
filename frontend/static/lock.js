// Auth0 Lock for the secondary login: the login to the account being linked. The Lock
// bundle (vendor/auth0-lock.js, about 1.2 MB) is loaded only when it is needed.

const SCOPE = 'openid profile email';

let loading; // the promise of window.Auth0Lock, once the bundle was asked for

function loadBundle() {
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/vendor/auth0-lock.js';
    script.onload = () => resolve(window.Auth0Lock);
    script.onerror = () => {
      loading = undefined; // a later attempt may succeed
      reject(new Error('the login window could not be loaded'));
    };
    document.head.append(script);
  });
  return loading;
}

// createLock constructs the page's one Lock (Lock reads a login's result from the URL
// only in the first instance of a page). config is /config.json. on holds the
// handlers: authenticated(idToken, sub), failed(kind, error), closed(), nothing().
//
// Right after construction Lock parses the URL's hash (on its next tick): on the way
// back from the login it emits 'authenticated' or 'authorization_error' and removes the
// hash; with no login result in the hash, 'hash_parsed' with null.
export async function createLock(config, on) {
  const Auth0Lock = await loadBundle();
  const options = {
    configurationBaseUrl: config.configuration_base_url,
    // On a custom domain Lock cannot read the tenant's name from the domain.
    overrides: {
      __token_issuer: config.issuer,
      __jwks_uri: config.jwks_uri,
      ...(config.tenant ? { __tenant: config.tenant } : {}),
    },
    auth: {
      // The login comes back to this page, on this host: auth0.js keeps the login's
      // state and nonce in a cookie of the host that started it.
      redirectUrl: `${window.location.origin}/`,
      responseType: 'id_token',
      params: { scope: SCOPE },
      sso: false,
    },
    rememberLastLogin: false,
    avatar: null, // no Gravatar lookups
    theme: { logo: '/logo.svg', primaryColor: '#4b45c6' },
    languageDictionary: { title: 'Link an account' },
  };
  if (config.connections && config.connections.length > 0) {
    options.allowedConnections = config.connections;
  }
  const lock = new Auth0Lock(config.client_id, config.domain, options);
  lock.on('authenticated', (result) => {
    forgetLastLogin();
    on.authenticated(result.idToken, result.idTokenPayload && result.idTokenPayload.sub);
  });
  lock.on('authorization_error', (err) => {
    forgetLastLogin();
    on.failed('authorization_error', err);
  });
  lock.on('unrecoverable_error', (err) => on.failed('unrecoverable_error', err));
  let closing = Promise.resolve(); // settles when a closed widget has left the page
  lock.on('hide', () => {
    closing = widgetGone();
    on.closed();
  });
  lock.on('hash_parsed', (parsed) => {
    if (!parsed) {
      on.nothing();
    }
  });
  return {
    // show opens the login window; the ID token it yields carries nonce.
    async show(nonce) {
      await closing;
      // prompt=login: the other account is logged in to now, never taken silently from
      // an earlier login at the tenant (whose auth_time linkbff would find too old).
      lock.show({ auth: { params: { scope: SCOPE, nonce, prompt: 'login' } } });
    },
  };
}

// widgetGone resolves once Lock's widget has left the page, or after a few seconds
// whatever happens. Lock emits 'hide' when it starts to close, and resets itself and
// removes the widget about a second later: opened again before that, it stays closed.
function widgetGone() {
  return new Promise((resolve) => {
    const gone = () => !document.querySelector('.auth0-lock');
    const observer = new MutationObserver(() => gone() && done());
    const timer = setTimeout(done, 3000);
    function done() {
      observer.disconnect();
      clearTimeout(timer);
      setTimeout(resolve); // after the task that removed the widget, which resets Lock
    }
    if (gone()) {
      done();
    } else {
      observer.observe(document.body, { childList: true, subtree: true });
    }
  });
}

// forgetLastLogin deletes the cookie in which auth0.js notes the last login's
// connection and user id (no token, but the page has no use for it, and it would
// name the linked account to whoever uses the browser next).
function forgetLastLogin() {
  for (const name of ['auth0.ssodata', '_auth0.ssodata_compat']) {
    document.cookie = `${name}=; Max-Age=0; Path=/`;
  }
}

// isLoginResult reports whether the URL's hash holds a login's answer for Lock.
export function isLoginResult(hash) {
  return /(^#|&)(id_token|access_token|error)=/.test(hash);
}
