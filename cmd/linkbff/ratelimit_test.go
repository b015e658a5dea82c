package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/testkit"
)

// noLimits turns every abuse limit off, for tests that must not meet one.
var noLimits = map[string]string{
	"RATE_LIMIT_USER_WRITES_PER_MINUTE": "0", "RATE_LIMIT_USER_READS_PER_MINUTE": "0",
	"RATE_LIMIT_IP_WRITES_PER_MINUTE": "0", "RATE_LIMIT_IP_READS_PER_MINUTE": "0",
}

// wantRateLimited checks a 429 rate_limited problem with a Retry-After in seconds.
func wantRateLimited(t *testing.T, r response) {
	t.Helper()
	wantProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s <= 0 {
		t.Errorf("Retry-After = %q, want a number of seconds", r.header.Get("Retry-After"))
	}
}

// TestRateLimitRefusesBeforeAuth0: past a user's limit, nonce, link and unlink are
// 429 with Retry-After, and nothing reaches the Management API; reads have their own,
// looser count.
func TestRateLimitRefusesBeforeAuth0(t *testing.T) {
	a := startApp(t, map[string]string{"RATE_LIMIT_USER_WRITES_PER_MINUTE": "2", "RATE_LIMIT_USER_READS_PER_MINUTE": "3"}, nil)
	alice := a.accessToken("auth0|alice")
	a.nonce(alice)
	a.nonce(alice)
	a.tenant.ResetRequests()
	secondary := a.mint(devtenant.MintRequest{UserID: "google-oauth2|1077", ClientID: testClientID}).IDToken
	for _, r := range []response{
		a.do("POST", "/me/identities/nonce", alice, nil),
		a.do("POST", "/me/identities", alice, map[string]string{"link_with": secondary}),
		a.do("DELETE", "/me/identities/github/4242", alice, nil),
	} {
		wantRateLimited(t, r)
	}
	if n := a.tenant.ManagementRequests(); n != 0 {
		t.Errorf("%d Management API requests for refused requests, want 0", n)
	}
	for i := range 3 {
		if r := a.do("GET", "/me/identities", alice, nil); r.status != http.StatusOK {
			t.Fatalf("read %d: %d %s", i, r.status, r.body)
		}
	}
	wantRateLimited(t, a.do("GET", "/me/identities", alice, nil))
	// Another user is not affected.
	if r := a.do("POST", "/me/identities/nonce", a.accessToken("auth0|bob"), nil); r.status != http.StatusCreated {
		t.Errorf("Bob's nonce: %d %s", r.status, r.body)
	}
}

// TestRateLimitSharedByReplicas: two linkbff processes on one Redis count one user's
// writes together.
func TestRateLimitSharedByReplicas(t *testing.T) {
	env := redisEnv(t)
	env["RATE_LIMIT_USER_WRITES_PER_MINUTE"] = "3"
	tenant := devtenanttest.Start(t, devtenant.Options{})
	a, b := startAppOn(t, tenant, env), startAppOn(t, tenant, env)
	alice := a.accessToken("auth0|alice")
	a.nonce(alice)
	b.nonce(alice)
	a.nonce(alice)
	wantRateLimited(t, b.do("POST", "/me/identities/nonce", alice, nil))
	wantRateLimited(t, a.do("POST", "/me/identities/nonce", alice, nil))
}

// TestRateLimitByAddressAndForwardedFor: the address limit counts the connection's
// peer, whatever X-Forwarded-For claims, unless TRUSTED_PROXIES names the peer as a
// proxy; then each forwarded client has its own count.
func TestRateLimitByAddressAndForwardedFor(t *testing.T) {
	limits := map[string]string{"RATE_LIMIT_IP_WRITES_PER_MINUTE": "1"}
	nonce := func(a *app, user, xff string) response {
		req, err := http.NewRequest("POST", a.url+"/me/identities/nonce", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+a.accessToken(user))
		req.Header.Set("X-Forwarded-For", xff)
		return a.send(req)
	}

	spoofed := startApp(t, limits, nil)
	if r := nonce(spoofed, "auth0|alice", "203.0.113.1"); r.status != http.StatusCreated {
		t.Fatalf("first write: %d %s", r.status, r.body)
	}
	wantRateLimited(t, nonce(spoofed, "auth0|bob", "203.0.113.2"))

	limits["TRUSTED_PROXIES"] = "127.0.0.1/32, ::1"
	proxied := startApp(t, limits, nil)
	if r := nonce(proxied, "auth0|alice", "203.0.113.1"); r.status != http.StatusCreated {
		t.Fatalf("first client: %d %s", r.status, r.body)
	}
	if r := nonce(proxied, "auth0|bob", "198.51.100.1, 203.0.113.2"); r.status != http.StatusCreated {
		t.Errorf("another client behind the proxy: %d %s", r.status, r.body)
	}
	wantRateLimited(t, nonce(proxied, "auth0|bob", "203.0.113.1"))
	// The access log names the forwarded client.
	if !strings.Contains(proxied.stderr.String(), `"client_ip":"203.0.113.2"`) {
		t.Errorf("the log does not name the forwarded client 203.0.113.2:\n%s", proxied.stderr)
	}
}

// TestRateLimitCoversSignIn: the per-address limits also count /auth/login (each
// one stores a login state) and the other sign-in routes; a refused login gets a
// 429 problem, as openapi.yaml describes it, with no redirect to the tenant and no
// session cookie.
func TestRateLimitCoversSignIn(t *testing.T) {
	a := startApp(t, map[string]string{"RATE_LIMIT_IP_READS_PER_MINUTE": "2", "RATE_LIMIT_IP_WRITES_PER_MINUTE": "1"}, nil)
	router := contractRouter(t, a.url)
	noFollow := testkit.HTTPClient(t)
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	send := func(method, path string) response {
		req := newRequest(t, method, a.url+path, "", nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, body := testkit.Do(t, noFollow, req)
		r := response{status: res.StatusCode, header: res.Header, body: body}
		validateAnswer(t, router, method+" "+path, req, r)
		return r
	}
	for i := range 2 {
		if r := send("GET", "/auth/login"); r.status != http.StatusSeeOther {
			t.Fatalf("login %d: %d %s, want 303 to the tenant", i, r.status, r.body)
		}
	}
	r := send("GET", "/auth/login")
	wantRateLimited(t, r)
	if loc, cookies := r.header.Get("Location"), r.header.Values("Set-Cookie"); loc != "" || len(cookies) != 0 {
		t.Errorf("a refused login answered Location %q and Set-Cookie %q, want neither", loc, cookies)
	}
	wantRateLimited(t, send("GET", "/auth/session"))
	if r := send("POST", "/auth/logout"); r.status == http.StatusTooManyRequests {
		t.Fatalf("first logout: %d %s, want it under the write limit", r.status, r.body)
	}
	wantRateLimited(t, send("POST", "/auth/logout"))
}
