package webauth

import "net/url"

// ReauthURL is where a browser starts a login that makes Auth0 authenticate the
// person again (prompt=login, max_age=0) and that comes back to returnTo (made safe
// by SafeReturnTo). The callback refuses it when the new ID token's auth_time is
// older than the moment the login was asked for (login_error=stale_login).
func ReauthURL(returnTo string) string {
	q := url.Values{"returnTo": {SafeReturnTo(returnTo)}, "prompt": {"login"}, "max_age": {"0"}}
	return "/auth/login?" + q.Encode()
}
