// The entry of the Auth0 Lock bundle (static/vendor/auth0-lock.js): `make frontend`
// bundles it with esbuild (flags in package.json). The bundle is a classic script that
// defines window.Auth0Lock, for the page (static/app.js) and the development tenant's
// Lock browser test.
//
// Lock fetches its English dictionary from Auth0's CDN at run time unless one is
// registered; registering it here keeps every request on linkbff and the tenant.
import Auth0Lock from 'auth0-lock';
import en from 'auth0-lock/lib/i18n/en';

// Lock's i18n module installs window.Auth0.registerLanguageDictionary when it loads,
// which the import above has done.
window.Auth0.registerLanguageDictionary('en', en);
window.Auth0Lock = Auth0Lock;
