// The Auth0 Lock bundle for the development tenant's browser test
// (internal/devtenant/lock_test.go). `npm run build` writes dist/lock.js.
//
// Lock's npm package ships CommonJS only; esbuild bundles it (see the build script in
// package.json for the flags that matter). The English dictionary is registered here so
// Lock does not fetch it from Auth0's CDN at run time: the test allows no request to
// any host but the tenant and the test page.
import Auth0Lock from 'auth0-lock';
import en from 'auth0-lock/lib/i18n/en';

// Lock's i18n module installs window.Auth0.registerLanguageDictionary when it loads,
// which the import above has done.
window.Auth0.registerLanguageDictionary('en', en);
window.Auth0Lock = Auth0Lock;
