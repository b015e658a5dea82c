package main

import (
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/devtenant"
)

// secrets collects the secret values a test used, to look for them in the logs.
type secrets map[string]string // value -> what it is

// token adds a JWT and, on their own, its signature segment (what a partial log of a
// token would most likely keep) and its payload.
func (s secrets) token(what, tok string) {
	s[tok] = what
	parts := strings.Split(tok, ".")
	if len(parts) == 3 {
		s[parts[1]] = what + " (payload)"
		s[parts[2]] = what + " (signature)"
	}
}

// TestNoSecretInLogs runs the flows a deployment sees, successes and failures, over
// bearer tokens and a browser session, with debug logging, and then looks for every
// secret value used (tokens, their signatures, the client secret, nonces, session
// cookies, authorization codes and states) in everything linkbff wrote to stderr.
func TestNoSecretInLogs(t *testing.T) {
	found := secrets{"linkbff-dev-secret-do-not-use-in-production": "client secret"}
	var logs []*syncBuffer

	// Bearer: list, nonce, link (by link_with and by provider/user_id), unlink, and
	// the failures: a forged token, a bad or replayed link token, a wrong path, the
	// rate limit.
	a := startApp(t, map[string]string{"RATE_LIMIT_USER_WRITES_PER_MINUTE": "12", "LOG_FORMAT": "text"}, nil)
	logs = append(logs, a.stderr)
	alice := a.accessToken("auth0|alice")
	found.token("access token", alice)
	if r := a.do("GET", "/me/identities", alice, nil); r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	link := func(userID, clientID string) (nonce, idToken string) {
		nonce = a.nonce(alice)
		found[nonce] = "nonce"
		idToken = a.mint(devtenant.MintRequest{UserID: userID, ClientID: clientID, Nonce: nonce}).IDToken
		found.token("ID token", idToken)
		if r := a.do("POST", "/me/identities", alice, map[string]string{"link_with": idToken}); r.status != http.StatusCreated {
			t.Fatalf("link %s: %d %s", userID, r.status, r.body)
		}
		return nonce, idToken
	}
	_, replay := link("google-oauth2|1077", testClientID)
	link("github|4242", nativeClient)
	if r := a.do("DELETE", "/me/identities/github/4242", alice, nil); r.status != http.StatusOK {
		t.Fatalf("unlink: %d %s", r.status, r.body)
	}
	forged := alice[:strings.LastIndex(alice, ".")+1] + "c2lnbmF0dXJl"
	found.token("forged access token", forged)
	wantProblem(t, a.do("GET", "/me/identities", forged, nil), http.StatusUnauthorized, "invalid_token")
	expired := a.mint(devtenant.MintRequest{UserID: "auth0|alice", ClientID: testClientID, Audience: testAudience, TTL: devtenant.Duration(-3600e9)}).AccessToken
	found.token("expired access token", expired)
	wantProblem(t, a.do("GET", "/me/identities", expired, nil), http.StatusUnauthorized, "invalid_token")
	wantProblem(t, a.do("POST", "/me/identities", alice, map[string]string{"link_with": replay}), http.StatusBadRequest, "nonce_mismatch")
	wantProblem(t, a.do("POST", "/me/identities", alice, map[string]string{"link_with": "not-a-jwt"}), http.StatusBadRequest, "invalid_link_token")
	wrongNonce := a.mint(devtenant.MintRequest{UserID: "github|9001", ClientID: testClientID, Nonce: "guessed-nonce-value"}).IDToken
	found.token("ID token with a wrong nonce", wrongNonce)
	found["guessed-nonce-value"] = "guessed nonce"
	wantProblem(t, a.do("POST", "/me/identities", alice, map[string]string{"link_with": wrongNonce}), http.StatusBadRequest, "nonce_mismatch")
	wantProblem(t, a.do("DELETE", "/me/identities/auth0/alice", alice, nil), http.StatusBadRequest, "primary_identity")
	for n := 0; ; n++ {
		if n == 12 {
			t.Fatal("12 more writes met no 429 under RATE_LIMIT_USER_WRITES_PER_MINUTE=12")
		}
		r := a.do("POST", "/me/identities/nonce", alice, nil)
		if r.status == http.StatusTooManyRequests {
			break
		}
		if r.status != http.StatusCreated {
			t.Fatalf("nonce: %d %s", r.status, r.body)
		}
		found[r.json(t)["nonce"].(string)] = "nonce"
	}

	// A browser: sign in through the tenant's form, the API with the cookie, a
	// request without X-CSRF, sign out.
	tenant := startBrowserTenant(t)
	stderr := &syncBuffer{}
	logs = append(logs, stderr)
	env := productionEnv(tenant.Tenant, map[string]string{"BASE_URL": browserBase, "LOG_LEVEL": "debug"})
	b := newBrowser(t, startRun(t, env, &syncBuffer{}, stderr))
	b.loginAsAlice()
	for _, hop := range b.lastHops() {
		u, err := url.Parse(hop)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"code", "state", "nonce", "login_ticket"} {
			if v := u.Query().Get(k); v != "" {
				found[v] = "authorization " + k
			}
		}
	}
	if !slices.Contains(slices.Collect(maps.Values(found)), "authorization code") {
		t.Fatalf("the login's redirects showed no authorization code: %v", b.lastHops())
	}
	found[b.sessionCookie()] = "session cookie"
	if r := b.api("GET", "/me/identities", nil); r.status != http.StatusOK {
		t.Fatalf("list with the cookie: %d %s", r.status, r.body)
	}
	r := b.api("POST", "/me/identities/nonce", nil)
	if r.status != http.StatusCreated {
		t.Fatalf("nonce with the cookie: %d %s", r.status, r.body)
	}
	nonce := r.json(t)["nonce"].(string)
	found[nonce] = "nonce"
	sec, err := tenant.Mint(devtenant.MintRequest{UserID: "github|4242", ClientID: testClientID, Nonce: nonce})
	if err != nil {
		t.Fatal(err)
	}
	found.token("ID token", sec.IDToken)
	if r := b.api("POST", "/me/identities", map[string]string{"link_with": sec.IDToken}); r.status != http.StatusCreated {
		t.Fatalf("link with the cookie: %d %s", r.status, r.body)
	}
	wantProblem(t, b.do("POST", "/me/identities/nonce", nil, sameOrigin()), http.StatusForbidden, "csrf_failed")
	found[b.sessionCookie()] = "session cookie"
	b.logout()
	wantProblem(t, b.withCookie("stolen-session-cookie-value", "GET", "/me/identities", nil), http.StatusUnauthorized, "invalid_token")
	found["stolen-session-cookie-value"] = "replayed session cookie"

	var all strings.Builder
	for _, l := range logs {
		all.WriteString(l.String())
	}
	out := all.String()
	if !strings.Contains(out, "level=DEBUG") && !strings.Contains(out, `"level":"DEBUG"`) {
		t.Fatalf("no debug line was logged: the test would prove nothing\n%s", out)
	}
	for value, what := range found {
		if len(value) < 8 {
			t.Fatalf("%s %q is too short to look for", what, value)
		}
		if strings.Contains(out, value) {
			t.Errorf("the log holds a %s: %q", what, value)
		}
	}
	// No JWT of any kind (the Management API token included, which the test never
	// sees): a JWT's header starts with eyJ, base64 of `{"`.
	if m := regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}`).FindString(out); m != "" {
		t.Errorf("the log holds something like a JWT: %q", m)
	}
	if t.Failed() {
		t.Logf("logs:\n%s", out)
	}
}
