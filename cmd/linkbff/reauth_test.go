package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/devtenant"
)

// loginURLWant is the login_url of reauth_required: a forced login back to the page.
const loginURLWant = "/auth/login?max_age=0&prompt=login&returnTo=%2F"

// staleLogin makes the tenant's ID tokens say the login happened an hour ago.
func staleLogin(tenant *browserTenant) {
	old := func(c map[string]any) { c["auth_time"] = time.Now().Add(-time.Hour).Unix() }
	tenant.tamper.Store(&old)
}

// wantReauth checks a 401 reauth_required with the RFC 9470 challenge for max_age
// and the given login_url ("" for none).
func wantReauth(t *testing.T, r response, maxAge, loginURL string) {
	t.Helper()
	p := wantProblem(t, r, http.StatusUnauthorized, "reauth_required")
	if got, _ := p["login_url"].(string); got != loginURL {
		t.Errorf("login_url = %q, want %q", got, loginURL)
	}
	if wa := r.header.Get("WWW-Authenticate"); !strings.Contains(wa, `error="insufficient_user_authentication"`) || !strings.Contains(wa, `max_age="`+maxAge+`"`) {
		t.Errorf("WWW-Authenticate = %q, want insufficient_user_authentication with max_age=%q", wa, maxAge)
	}
}

// TestReauthCookie: a browser whose sign-in is older than REAUTH_MAX_AGE may list
// and start a link, but a link or unlink gets reauth_required (no call to Auth0)
// with a login_url. That login forces Auth0 to authenticate again (prompt=login,
// max_age=0); one that comes back with an old auth_time is refused; after a real
// one, the same link succeeds.
func TestReauthCookie(t *testing.T) {
	tenant := startBrowserTenant(t)
	b := newBrowser(t, startBrowserApp(t, tenant, nil))
	staleLogin(tenant)
	b.loginAsAlice()
	tenant.tamper.Store(nil)

	if r := b.api(http.MethodGet, "/me/identities", nil); r.status != http.StatusOK {
		t.Fatalf("list with a stale login: %d %s", r.status, r.body)
	}
	r := b.api(http.MethodPost, "/me/identities/nonce", nil)
	if r.status != http.StatusCreated {
		t.Fatalf("nonce with a stale login: %d %s", r.status, r.body)
	}
	secondary, err := tenant.Mint(devtenant.MintRequest{UserID: "github|4242", ClientID: testClientID, Nonce: r.json(t)["nonce"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	link := map[string]string{"link_with": secondary.IDToken}
	tenant.ResetRequests()
	wantReauth(t, b.api(http.MethodPost, "/me/identities", link), "600", loginURLWant)
	wantReauth(t, b.api(http.MethodDelete, "/me/identities/github/4242", nil), "600", loginURLWant)
	if n := tenant.ManagementRequests(); n != 0 {
		t.Errorf("refused changes made %d Management API calls, want 0", n)
	}

	// The forced login: Auth0 is asked to authenticate again, although its own
	// session would have answered at once.
	forcedLogin := func(t *testing.T) string {
		t.Helper()
		r := b.get(loginURLWant)
		authorize, err := url.Parse(b.lastHops()[0])
		if err != nil {
			t.Fatal(err)
		}
		if q := authorize.Query(); q.Get("prompt") != "login" || q.Get("max_age") != "0" {
			t.Errorf("authorize request %s, want prompt=login and max_age=0", authorize)
		}
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `id="database-login"`) {
			t.Fatalf("the forced login did not show the login form: %d, hops %v", r.status, b.lastHops())
		}
		action, fields := loginForm(t, string(r.body))
		fields.Set("email", "alice@example.com")
		fields.Set("password", "alice-password")
		r = b.do(http.MethodPost, action, strings.NewReader(fields.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		return r.header.Get("Location")
	}

	// A tenant that answers with the old authentication is not believed.
	staleLogin(tenant)
	if got := forcedLogin(t); got != "/?login_error=stale_login" {
		t.Errorf("a forced login with an old auth_time ended at %q, want /?login_error=stale_login", got)
	}
	tenant.tamper.Store(nil)
	if s := b.session(); !s.Authenticated {
		t.Fatal("a refused re-login signed the person out")
	}
	wantReauth(t, b.api(http.MethodPost, "/me/identities", link), "600", loginURLWant)

	if got := forcedLogin(t); got != "/" {
		t.Fatalf("the forced login ended at %q, want /", got)
	}
	r = b.api(http.MethodPost, "/me/identities", link)
	if r.status != http.StatusCreated {
		t.Fatalf("link after the fresh login: %d %s", r.status, r.body)
	}
	if r := b.api(http.MethodDelete, "/me/identities/github/4242", nil); r.status != http.StatusOK {
		t.Errorf("unlink after the fresh login: %d %s", r.status, r.body)
	}
}

// TestReauthOff: REAUTH_MAX_AGE=0 turns the rule off.
func TestReauthOff(t *testing.T) {
	tenant := startBrowserTenant(t)
	b := newBrowser(t, startBrowserApp(t, tenant, map[string]string{"REAUTH_MAX_AGE": "0"}))
	staleLogin(tenant)
	b.loginAsAlice()
	tenant.tamper.Store(nil)
	if r := b.api(http.MethodDelete, "/me/identities/github/4242", nil); r.status != http.StatusNotFound {
		t.Errorf("unlink with the rule off: %d %s, want 404 identity_not_found (the rule let it through)", r.status, r.body)
	}
}

// TestReauthBearer: a bearer token is held to the rule when it carries its login
// time (auth_time, or the claim REAUTH_AUTH_TIME_CLAIM names, as an Auth0 Action
// would add it), and gets the RFC 9470 challenge without a login_url.
func TestReauthBearer(t *testing.T) {
	a := startApp(t, map[string]string{"REAUTH_MAX_AGE": "5m"}, nil)
	token := func(claims map[string]any) string {
		return a.mint(devtenant.MintRequest{UserID: "auth0|alice", Audience: testAudience, Scope: testScope, AccessTokenClaims: claims}).AccessToken
	}
	hourAgo, now := time.Now().Add(-time.Hour).Unix(), time.Now().Unix()
	stale := token(map[string]any{"auth_time": hourAgo})

	a.tenant.ResetRequests()
	wantReauth(t, a.do(http.MethodPost, "/me/identities", stale, map[string]string{"link_with": "a.b.c"}), "300", "")
	wantReauth(t, a.do(http.MethodDelete, "/me/identities/github/4242", stale, nil), "300", "")
	wantReauth(t, a.do(http.MethodDelete, "/me/identities/github/4242", token(map[string]any{"auth_time": "an hour ago"}), nil), "300", "")
	if n := a.tenant.ManagementRequests(); n != 0 {
		t.Errorf("refused changes made %d Management API calls, want 0", n)
	}
	// Starting a link is harmless: a nonce needs no recent login.
	if r := a.do(http.MethodPost, "/me/identities/nonce", stale, nil); r.status != http.StatusCreated {
		t.Errorf("nonce with an old login: %d %s", r.status, r.body)
	}
	// A recent login, or a token that does not say when it logged in, passes the
	// rule (and then finds no such identity).
	for name, tok := range map[string]string{"recent": token(map[string]any{"auth_time": now}), "without auth_time": token(nil)} {
		if r := a.do(http.MethodDelete, "/me/identities/github/4242", tok, nil); r.status != http.StatusNotFound {
			t.Errorf("%s: unlink %d %s, want 404 past the rule", name, r.status, r.body)
		}
	}

	// With a namespaced claim configured, that claim counts, and auth_time does not.
	const claim = "https://linkbff.example/auth_time"
	b := startAppOn(t, a.tenant, map[string]string{"REAUTH_AUTH_TIME_CLAIM": claim})
	wantReauth(t, b.do(http.MethodDelete, "/me/identities/github/4242", token(map[string]any{claim: hourAgo}), nil), "600", "")
	if r := b.do(http.MethodDelete, "/me/identities/github/4242", stale, nil); r.status != http.StatusNotFound {
		t.Errorf("plain auth_time with a namespaced claim configured: %d %s, want 404 past the rule", r.status, r.body)
	}
}
