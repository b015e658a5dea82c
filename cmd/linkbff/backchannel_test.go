package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/store/redisstore"
	"github.com/linkbff/linkbff/internal/testkit"
)

const logoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// postLogoutToken posts form to linkbff's back-channel logout route as the tenant
// would: server to server, no cookie.
func postLogoutToken(t *testing.T, instance string, form url.Values) response {
	t.Helper()
	return newBrowser(t, instance).do(http.MethodPost, "/auth/backchannel-logout", strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

// captureSID makes the tenant's ID tokens report their sid to the returned func.
func captureSID(tenant *browserTenant) func() string {
	sid := make(chan string, 1)
	capture := func(c map[string]any) {
		s, _ := c["sid"].(string)
		select {
		case sid <- s:
		default:
		}
	}
	tenant.tamper.Store(&capture)
	return func() string {
		tenant.tamper.Store(nil)
		select {
		case s := <-sid:
			return s
		default:
			return ""
		}
	}
}

// signOutAtTenant signs the browser out of the tenant itself (as another application
// of the tenant would send it), not through linkbff.
func (b *browser) signOutAtTenant(tenant *browserTenant) {
	b.t.Helper()
	q := url.Values{"client_id": {testClientID}, "returnTo": {browserBase + "/"}}
	if r := b.get(tenant.URL() + "/v2/logout?" + q.Encode()); r.status != http.StatusFound || r.header.Get("Location") != browserBase+"/" {
		b.t.Fatalf("sign-out at the tenant: %d Location %q", r.status, r.header.Get("Location"))
	}
}

// TestBackchannelLogoutEndsSessionOnEveryReplica: two linkbff processes on one Redis;
// a browser signed in through B signs out at the tenant, which posts its logout
// token to A; the session has ended on both, and another sign-in of the same user
// (another tenant session, another sid) goes on.
func TestBackchannelLogoutEndsSessionOnEveryReplica(t *testing.T) {
	env := redisEnv(t)
	tenant := startBrowserTenant(t)
	a := startBrowserApp(t, tenant, env) // the tenant's logouts reach A
	bURL := startBrowserApp(t, tenant, env)

	leaving := newBrowser(t, bURL)
	leaving.loginAsAlice()
	staying := newBrowser(t, bURL)
	staying.loginAsAlice()
	cookie := leaving.sessionCookie()
	for _, instance := range []string{a, bURL} {
		leaving.use(instance)
		if s := leaving.session(); !s.Authenticated {
			t.Fatalf("not signed in on %s before the sign-out", instance)
		}
	}

	tenant.ResetRequests()
	leaving.signOutAtTenant(tenant)
	for _, instance := range []string{a, bURL} {
		leaving.use(instance)
		staying.use(instance)
		if s := sessionOf(t, leaving.withCookie(cookie, http.MethodGet, "/auth/session", nil)); s.Authenticated {
			t.Errorf("%s: the session is still signed in after the back-channel logout", instance)
		}
		wantProblem(t, leaving.withCookie(cookie, http.MethodGet, "/me/identities", nil), http.StatusUnauthorized, "invalid_token")
		if s := staying.session(); !s.Authenticated {
			t.Errorf("%s: the other sign-in of the same user ended too; only the logout's sid should", instance)
		}
	}
	if n := tenant.ManagementRequests(); n != 0 {
		t.Errorf("the logout made %d Management API calls", n)
	}
}

// TestBackchannelLogoutBySubject: a logout token with a sub and no sid ends every
// session of that user.
func TestBackchannelLogoutBySubject(t *testing.T) {
	tenant := startBrowserTenant(t)
	instance := startBrowserApp(t, tenant, nil)
	one, two, bob := newBrowser(t, instance), newBrowser(t, instance), newBrowser(t, instance)
	one.loginAsAlice()
	two.loginAsAlice()
	bob.login("/", "bob@example.com", "bob-password")

	token, err := tenant.LogoutToken(testClientID, "auth0|alice", "")
	if err != nil {
		t.Fatal(err)
	}
	r := postLogoutToken(t, instance, url.Values{"logout_token": {token}})
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("back-channel logout: %d %s (Cache-Control %q), want 200 no-store", r.status, r.body, r.header.Get("Cache-Control"))
	}
	if one.session().Authenticated || two.session().Authenticated {
		t.Error("a session of alice outlived a logout token for her")
	}
	if !bob.session().Authenticated {
		t.Error("bob's session ended with alice's logout")
	}
}

// TestBackchannelLogoutRefusals: each rule of OIDC Back-Channel Logout 1.0 §2.6 on its
// own. Every refused token gets 400 invalid_logout_token (OAuth error
// invalid_request), ends no session, and costs no Management API call.
func TestBackchannelLogoutRefusals(t *testing.T) {
	tenant := startBrowserTenant(t)
	instance := startBrowserApp(t, tenant, nil)
	b := newBrowser(t, instance)
	sid := captureSID(tenant)
	b.loginAsAlice()
	aliceSID := sid()
	if aliceSID == "" {
		t.Fatal("the login's ID token has no sid")
	}
	minted, err := tenant.Mint(devtenant.MintRequest{UserID: "auth0|alice", ClientID: testClientID})
	if err != nil {
		t.Fatal(err)
	}
	kid := jwtKID(t, minted.IDToken)

	valid := func() map[string]any {
		now := time.Now()
		return map[string]any{
			"iss": tenant.Issuer(), "aud": testClientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
			"jti": rand.Text(), "sub": "auth0|alice", "sid": aliceSID, "events": map[string]any{logoutEvent: map[string]any{}},
		}
	}
	sign := func(claims map[string]any) string {
		tok, err := tenant.SignClaims(claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	with := func(over map[string]any) string { return sign(testkit.WithClaims(valid(), over)) }
	hour := time.Hour

	// A token for another login session passes, and is then replayed.
	used := sign(testkit.WithClaims(valid(), map[string]any{"sid": "another-login", "sub": "auth0|bob"}))
	if r := postLogoutToken(t, instance, url.Values{"logout_token": {used}}); r.status != http.StatusOK {
		t.Fatalf("a valid logout token for another session: %d %s", r.status, r.body)
	}

	tenant.ResetRequests()
	for _, tt := range []struct {
		name string
		form url.Values
		why  string // in the problem's detail
	}{
		{"forged signature", url.Values{"logout_token": {testkit.SignJWT(t, jose.RS256, testkit.RSAKey(t), kid, valid())}}, "signature"},
		{"HS256", url.Values{"logout_token": {testkit.SignJWT(t, jose.HS256, []byte("a shared secret of thirty-two bytes!"), kid, valid())}}, "RS256"},
		{"not a JWT", url.Values{"logout_token": {"not-a-token"}}, "RS256"},
		{"wrong iss", url.Values{"logout_token": {with(map[string]any{"iss": "https://evil.example/"})}}, "iss"},
		{"wrong aud", url.Values{"logout_token": {with(map[string]any{"aud": nativeClient})}}, "aud"},
		{"missing iat", url.Values{"logout_token": {with(map[string]any{"iat": nil})}}, "no iat"},
		{"old iat", url.Values{"logout_token": {with(map[string]any{"iat": time.Now().Add(-hour).Unix()})}}, "issued more than"},
		{"iat in the future", url.Values{"logout_token": {with(map[string]any{"iat": time.Now().Add(hour).Unix()})}}, "future"},
		{"expired", url.Values{"logout_token": {with(map[string]any{"exp": time.Now().Add(-hour).Unix()})}}, "expired"},
		{"missing jti", url.Values{"logout_token": {with(map[string]any{"jti": nil})}}, "no jti"},
		{"replayed jti", url.Values{"logout_token": {used}}, "already used"},
		{"missing events", url.Values{"logout_token": {with(map[string]any{"events": nil})}}, "events"},
		{"wrong event", url.Values{"logout_token": {with(map[string]any{"events": map[string]any{"http://schemas.openid.net/event/other": map[string]any{}}})}}, "events"},
		{"event not an object", url.Values{"logout_token": {with(map[string]any{"events": map[string]any{logoutEvent: true}})}}, "events"},
		{"events as a list", url.Values{"logout_token": {with(map[string]any{"events": []string{logoutEvent}})}}, "events"},
		{"nonce present", url.Values{"logout_token": {with(map[string]any{"nonce": "n-1"})}}, "nonce"},
		{"neither sub nor sid", url.Values{"logout_token": {with(map[string]any{"sub": nil, "sid": nil})}}, "neither sub nor sid"},
		{"no logout_token", url.Values{"token": {with(nil)}}, "exactly one logout_token"},
		{"two logout_tokens", url.Values{"logout_token": {with(nil), with(nil)}}, "exactly one logout_token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := postLogoutToken(t, instance, tt.form)
			p := wantProblem(t, r, http.StatusBadRequest, "invalid_logout_token")
			if detail, _ := p["detail"].(string); !strings.Contains(detail, tt.why) {
				t.Errorf("detail %q, want it to name %q", detail, tt.why)
			}
			if p["error"] != "invalid_request" || p["error_description"] != p["detail"] {
				t.Errorf("OAuth error members %v / %v, want invalid_request and the detail", p["error"], p["error_description"])
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if !b.session().Authenticated {
				t.Fatal("a refused logout token ended the session")
			}
		})
	}
	if n := tenant.ManagementRequests(); n != 0 {
		t.Errorf("refused logout tokens made %d Management API calls", n)
	}

	// The same token, well formed, ends the session.
	if r := postLogoutToken(t, instance, url.Values{"logout_token": {with(nil)}}); r.status != http.StatusOK {
		t.Fatalf("the valid logout token: %d %s", r.status, r.body)
	}
	if b.session().Authenticated {
		t.Error("the session outlived a valid logout token for its sid")
	}
}

// jwtKID reads the kid of a JWT's header.
func jwtKID(t *testing.T, raw string) string {
	t.Helper()
	h, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &hdr); err != nil || hdr.Kid == "" {
		t.Fatalf("no kid in %s", b)
	}
	return hdr.Kid
}

// TestLinkEndsSecondarySessions: Bob is signed in to linkbff and has started a link;
// Alice links his account into hers (Auth0 deletes Bob's user). Bob's session and
// his pending nonce are gone, on the shared Redis.
func TestLinkEndsSecondarySessions(t *testing.T) {
	redisURL := testkit.RedisURL(t)
	prefix := testkit.RedisPrefix(t, redisURL)
	rdb, err := redisstore.NewClient(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	tenant := startBrowserTenant(t)
	instance := startBrowserApp(t, tenant, map[string]string{"REDIS_URL": redisURL, "REDIS_KEY_PREFIX": prefix})

	bob := newBrowser(t, instance)
	bob.login("/", "bob@example.com", "bob-password")
	if r := bob.api(http.MethodPost, "/me/identities/nonce", nil); r.status != http.StatusCreated {
		t.Fatalf("bob's nonce: %d %s", r.status, r.body)
	}
	ctx := testkit.Context(t)
	if n, err := rdb.Exists(ctx, prefix+"intents:auth0|bob").Result(); err != nil || n != 1 {
		t.Fatalf("bob's nonce is not in Redis (%d, %v)", n, err)
	}

	alice := newBrowser(t, instance)
	alice.loginAsAlice()
	r := alice.api(http.MethodPost, "/me/identities/nonce", nil)
	secondary, err := tenant.Mint(devtenant.MintRequest{UserID: "auth0|bob", ClientID: testClientID, Nonce: r.json(t)["nonce"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	if r := alice.api(http.MethodPost, "/me/identities", map[string]string{"link_with": secondary.IDToken}); r.status != http.StatusCreated {
		t.Fatalf("link bob into alice: %d %s", r.status, r.body)
	}

	if s := bob.session(); s.Authenticated {
		t.Errorf("bob's session outlived his account: %+v", s.User)
	}
	wantProblem(t, bob.api(http.MethodGet, "/me/identities", nil), http.StatusUnauthorized, "invalid_token")
	if n, err := rdb.Exists(ctx, prefix+"intents:auth0|bob").Result(); err != nil || n != 0 {
		t.Errorf("bob's nonces are still in Redis (%d, %v)", n, err)
	}
	if !alice.session().Authenticated {
		t.Error("alice's own session ended with the link")
	}
}
