package main

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
)

// TestBrowserLoginLinkLogout drives the whole browser flow through the development
// tenant's real login form with a cookie-keeping client: login, callback, session,
// the API with the cookie, a link and an unlink, logout, and the old cookie after.
func TestBrowserLoginLinkLogout(t *testing.T) {
	tenant := startBrowserTenant(t)
	b := newBrowser(t, startBrowserApp(t, tenant, nil))

	if s := b.session(); s.Authenticated || s.User != nil || s.ExpiresAt != nil {
		t.Errorf("session before login = %+v, want only authenticated=false", s)
	}
	wantProblem(t, b.api(http.MethodGet, "/me/identities", nil), http.StatusUnauthorized, "invalid_token")

	// /auth/login keeps the login in a fresh session and sends the browser to the
	// tenant's login page.
	r := b.get("/auth/login?returnTo=" + url.QueryEscape("/account?tab=2"))
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `id="database-login"`) {
		t.Fatalf("GET /auth/login ended with %d, hops %v, want the tenant's login page", r.status, b.lastHops())
	}
	authorize, err := url.Parse(b.lastHops()[0])
	if err != nil {
		t.Fatal(err)
	}
	q := authorize.Query()
	if authorize.Path != "/authorize" || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" ||
		q.Get("redirect_uri") != browserBase+"/auth/callback" || q.Get("client_id") != testClientID {
		t.Errorf("authorize request = %s", authorize)
	}
	beforeLogin := b.sessionCookie()
	if beforeLogin == "" {
		t.Fatal("no session cookie after /auth/login")
	}

	// The person submits the tenant's form; the callback signs them in.
	action, fields := loginForm(t, string(r.body))
	fields.Set("email", "alice@example.com")
	fields.Set("password", "alice-password")
	r = b.do(http.MethodPost, action, strings.NewReader(fields.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account?tab=2" {
		t.Fatalf("login ended with %d Location %q (hops %v), want 303 to /account?tab=2", r.status, r.header.Get("Location"), b.lastHops())
	}
	afterLogin := b.sessionCookie()
	if afterLogin == "" || afterLogin == beforeLogin {
		t.Errorf("session cookie before login %q, after %q: want a new value (no fixation)", beforeLogin, afterLogin)
	}
	if s := sessionOf(t, b.withCookie(beforeLogin, http.MethodGet, "/auth/session", nil)); s.Authenticated {
		t.Error("the session cookie from before the login is signed in too")
	}

	// The session names the user and never carries a token.
	r = b.get("/auth/session")
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET /auth/session Cache-Control = %q, want no-store", cc)
	}
	s := sessionOf(t, r)
	if !s.Authenticated || s.User == nil || s.ExpiresAt == nil {
		t.Fatalf("session after login = %s", r.body)
	}
	name, email, picture := "Alice Example", "alice@example.com", devtenanttest.DemoPicture(t, "auth0|alice")
	want := api.SessionUser{Sub: "auth0|alice", Name: &name, Email: &email, Picture: &picture}
	if diff := cmp.Diff(want, *s.User); diff != "" {
		t.Errorf("session user (-want +got):\n%s", diff)
	}
	if until := time.Until(*s.ExpiresAt); until <= 0 || until > 30*time.Minute+time.Minute {
		t.Errorf("expires_at %v is not within the 30m idle timeout", s.ExpiresAt)
	}
	if strings.Contains(string(r.body), "eyJ") {
		t.Errorf("the session answer carries a JWT: %s", r.body)
	}

	// The API with the cookie: list, nonce, link, unlink.
	r = b.api(http.MethodGet, "/me/identities", nil)
	if r.status != http.StatusOK || r.json(t)["user_id"] != "auth0|alice" {
		t.Fatalf("GET /me/identities with the cookie: %d %s", r.status, r.body)
	}
	r = b.api(http.MethodPost, "/me/identities/nonce", nil)
	if r.status != http.StatusCreated {
		t.Fatalf("nonce with the cookie: %d %s", r.status, r.body)
	}
	secondary, err := tenant.Mint(devtenant.MintRequest{UserID: "github|4242", ClientID: testClientID, Nonce: r.json(t)["nonce"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	r = b.api(http.MethodPost, "/me/identities", map[string]string{"link_with": secondary.IDToken})
	if r.status != http.StatusCreated {
		t.Fatalf("link with the cookie: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff([]string{"auth0|alice", "github|4242"}, identityKeys(t, r.json(t))); diff != "" {
		t.Errorf("identities after link (-want +got):\n%s", diff)
	}
	r = b.api(http.MethodDelete, "/me/identities/github/4242", nil)
	if r.status != http.StatusOK {
		t.Fatalf("unlink with the cookie: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff([]string{"auth0|alice"}, identityKeys(t, r.json(t))); diff != "" {
		t.Errorf("identities after unlink (-want +got):\n%s", diff)
	}

	// Logout: the session is destroyed and the browser goes through the tenant's
	// sign-out back to the page.
	r = b.logout()
	hops := b.lastHops()
	if len(hops) != 2 {
		t.Fatalf("logout redirects %v, want the tenant's /v2/logout then the page", hops)
	}
	signOut, _ := url.Parse(hops[0])
	if signOut.Path != "/v2/logout" || signOut.Query().Get("client_id") != testClientID || signOut.Query().Get("returnTo") != browserBase+"/" {
		t.Errorf("logout goes to %s, want the tenant's /v2/logout for this client, returning to %s/", signOut, browserBase)
	}
	if r.header.Get("Location") != browserBase+"/" {
		t.Errorf("the tenant's sign-out sends the browser to %q, want %s/", r.header.Get("Location"), browserBase)
	}
	if c := b.sessionCookie(); c != "" {
		t.Errorf("session cookie still set after logout: %q", c)
	}
	if b.session().Authenticated {
		t.Error("still signed in after logout")
	}
	// The cookie from before the logout is worth nothing now.
	wantProblem(t, b.withCookie(afterLogin, http.MethodGet, "/me/identities", nil), http.StatusUnauthorized, "invalid_token")
	h := sameOrigin()
	h.Set("X-CSRF", "1")
	wantProblem(t, b.withCookie(afterLogin, http.MethodPost, "/me/identities/nonce", h), http.StatusUnauthorized, "invalid_token")
	if s := sessionOf(t, b.withCookie(afterLogin, http.MethodGet, "/auth/session", nil)); s.Authenticated {
		t.Error("the old cookie still has a session")
	}
	// The tenant's session ended too: the next login asks for the password again.
	if r := b.get("/auth/login"); r.status != http.StatusOK || !strings.Contains(string(r.body), `id="database-login"`) {
		t.Errorf("login after logout: %d, want the tenant's login form", r.status)
	}
}

// TestBrowserSessionCookie checks the cookie's attributes over plain http (the https
// form, Secure and __Host-, is checked in internal/webauth).
func TestBrowserSessionCookie(t *testing.T) {
	tenant := startBrowserTenant(t)
	b := newBrowser(t, startBrowserApp(t, tenant, nil))
	req, _ := http.NewRequest(http.MethodGet, browserBase+"/auth/login", nil)
	res, err := b.client.Transport.RoundTrip(req) // the first answer, not followed
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /auth/login: %d, want 303", res.StatusCode)
	}
	cookies := res.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("Set-Cookie %v, want one cookie", res.Header.Values("Set-Cookie"))
	}
	c := cookies[0]
	if c.Name != "linkbff_session" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || c.Domain != "" {
		t.Errorf("cookie = %s, want linkbff_session; HttpOnly; SameSite=Lax; Path=/; no Domain", res.Header.Get("Set-Cookie"))
	}
	// A session that only waits for a login lives as long as the login may take.
	if c.MaxAge <= 0 || c.MaxAge > int((10*time.Minute+time.Minute)/time.Second) {
		t.Errorf("pre-login cookie Max-Age %d, want at most the 10 minutes a login may take", c.MaxAge)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

// TestBrowserLoginRefusals: a callback with a missing, wrong or replayed state, an
// Auth0 error, and ID tokens that fail verification all end on the page with a
// login_error, sign nobody in, and cost no Management API call.
func TestBrowserLoginRefusals(t *testing.T) {
	tenant := startBrowserTenant(t)
	b := newBrowser(t, startBrowserApp(t, tenant, nil))
	tenant.ResetRequests()

	wantLoginError := func(t *testing.T, r response, code string) {
		t.Helper()
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/?login_error="+code {
			t.Errorf("got %d Location %q, want 303 to /?login_error=%s; body %s", r.status, r.header.Get("Location"), code, r.body)
		}
		if s := b.session(); s.Authenticated {
			t.Errorf("signed in as %+v after a refused callback", s.User)
		}
	}
	// startLogin begins a login (the browser stops at the tenant's page, or is signed
	// in by the tenant's session) and returns the login's state.
	startLogin := func(t *testing.T) string {
		t.Helper()
		b.get("/auth/login")
		u, err := url.Parse(b.lastHops()[0])
		if err != nil || u.Query().Get("state") == "" {
			t.Fatalf("no state in %v", b.lastHops())
		}
		return u.Query().Get("state")
	}

	t.Run("missing state", func(t *testing.T) {
		startLogin(t)
		wantLoginError(t, b.get("/auth/callback?code=abc"), "invalid_state")
	})
	t.Run("wrong state", func(t *testing.T) {
		state := startLogin(t)
		wantLoginError(t, b.get("/auth/callback?code=abc&state=x"+state), "invalid_state")
	})
	t.Run("state of another browser", func(t *testing.T) {
		state := startLogin(t)
		other := newBrowser(t, b.instance)
		r := other.get("/auth/callback?code=abc&state=" + url.QueryEscape(state))
		if r.header.Get("Location") != "/?login_error=invalid_state" {
			t.Errorf("another browser's state: Location %q, want /?login_error=invalid_state", r.header.Get("Location"))
		}
	})
	t.Run("user cancelled", func(t *testing.T) {
		state := startLogin(t)
		cancelled := "/auth/callback?error=access_denied&error_description=" + url.QueryEscape("User cancelled <b>login</b>") + "&state=" + url.QueryEscape(state)
		wantLoginError(t, b.get(cancelled), "access_denied")
		// The state was used up by the error.
		wantLoginError(t, b.get(cancelled), "invalid_state")
	})
	t.Run("odd Auth0 error", func(t *testing.T) {
		state := startLogin(t)
		wantLoginError(t, b.get("/auth/callback?error=%3Cscript%3E&state="+url.QueryEscape(state)), "login_failed")
	})
	t.Run("code refused by Auth0", func(t *testing.T) {
		state := startLogin(t)
		wantLoginError(t, b.get("/auth/callback?code=forged&state="+url.QueryEscape(state)), "login_failed")
	})

	for _, tt := range []struct {
		name   string
		tamper func(claims map[string]any)
	}{
		{"wrong nonce", func(c map[string]any) { c["nonce"] = "not-the-login-nonce" }},
		{"no nonce", func(c map[string]any) { delete(c, "nonce") }},
		{"other audience", func(c map[string]any) { c["aud"] = nativeClient }},
		{"other issuer", func(c map[string]any) { c["iss"] = "https://evil.example/" }},
		{"expired", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }},
	} {
		t.Run("ID token with "+tt.name, func(t *testing.T) {
			tenant.tamper.Store(&tt.tamper)
			defer tenant.tamper.Store(nil)
			got := b.login("/", "alice@example.com", "alice-password")
			if got != "/?login_error=invalid_id_token" {
				t.Errorf("login ended at %q, want /?login_error=invalid_id_token", got)
			}
			if s := b.session(); s.Authenticated {
				t.Errorf("signed in after an ID token with %s", tt.name)
			}
		})
	}

	t.Run("replayed state", func(t *testing.T) {
		b.loginAsAlice()
		var callback string
		for _, h := range b.lastHops() {
			if strings.HasPrefix(h, browserBase+"/auth/callback?") {
				callback = h
			}
		}
		if callback == "" {
			t.Fatalf("no callback among %v", b.lastHops())
		}
		r := b.get(callback)
		if r.header.Get("Location") != "/?login_error=invalid_state" {
			t.Errorf("replayed callback: Location %q, want /?login_error=invalid_state", r.header.Get("Location"))
		}
		if s := b.session(); !s.Authenticated || s.User.Sub != "auth0|alice" {
			t.Errorf("a replayed callback changed the session: %+v", s)
		}
	})

	if n := tenant.ManagementRequests(); n != 0 {
		t.Errorf("refused logins made %d Management API calls, want 0", n)
	}
}

// TestBrowserLoginOpenRedirect: returnTo only ever leads to a path of linkbff's own
// origin; every other spelling ends at /.
func TestBrowserLoginOpenRedirect(t *testing.T) {
	tenant := startBrowserTenant(t)
	b := newBrowser(t, startBrowserApp(t, tenant, nil))
	tenant.ResetRequests()
	for _, returnTo := range []string{
		"//evil.example",
		"/\\evil.example",
		"\\\\evil",
		"https://evil.example",
		"HTTPS://evil.example/x",
		"http:evil.example",
		"http:/evil.example",
		"javascript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"evil.example",
		"/%2F%2Fevil.example",
		"/%2f/evil.example",
		"%2F%2Fevil.example",
		"/%5Cevil",
		"/%5C%5Cevil",
		" //evil",
		"\t//evil",
		"\n//evil",
		"/\t/evil",
		"/%09/evil",
		"/\r\nSet-Cookie: x=y",
		"//evil.example@x",
		"/.//evil",
		"/..//evil",
		"/%2e%2e//evil",
		"/x/../..//evil",
		"///evil",
		"/auth/login",
		"/auth/logout",
		"/%61uth/login",
	} {
		if got := b.login(returnTo, "alice@example.com", "alice-password"); got != "/" {
			t.Errorf("returnTo %q: login ended at %q, want /", returnTo, got)
		}
	}
	for _, ok := range []string{"/", "/account", "/account?tab=2&x=%2F%2F", "/a/b.c/d"} {
		if got := b.login(ok, "alice@example.com", "alice-password"); got != ok {
			t.Errorf("returnTo %q: login ended at %q, want it kept", ok, got)
		}
	}
	if n := tenant.ManagementRequests(); n != 0 {
		t.Errorf("logins made %d Management API calls, want 0", n)
	}
}

// TestBrowserCSRF: cookie-authenticated POST and DELETE need a same-origin request and
// X-CSRF: 1; bearer requests need neither; a bearer token wins over the cookie.
func TestBrowserCSRF(t *testing.T) {
	tenant := startBrowserTenant(t)
	b := newBrowser(t, startBrowserApp(t, tenant, nil))
	b.loginAsAlice()
	tenant.ResetRequests()

	headers := func(kv ...string) http.Header {
		h := http.Header{"Content-Type": {"application/json"}}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	body := func() *strings.Reader { return strings.NewReader(`{"link_with":"a.b.c"}`) }
	for _, tt := range []struct {
		name   string
		method string
		path   string
		header http.Header
	}{
		{"nonce without X-CSRF", http.MethodPost, "/me/identities/nonce", headers("Origin", browserBase, "Sec-Fetch-Site", "same-origin")},
		{"link without X-CSRF", http.MethodPost, "/me/identities", headers("Origin", browserBase, "Sec-Fetch-Site", "same-origin")},
		{"unlink without X-CSRF", http.MethodDelete, "/me/identities/github/4242", headers()},
		{"X-CSRF other than 1", http.MethodPost, "/me/identities/nonce", headers("X-CSRF", "true")},
		{"cross-site fetch", http.MethodPost, "/me/identities/nonce", headers("X-CSRF", "1", "Sec-Fetch-Site", "cross-site", "Origin", "http://evil.example")},
		{"same-site fetch from another origin", http.MethodDelete, "/me/identities/github/4242", headers("X-CSRF", "1", "Sec-Fetch-Site", "same-site")},
		{"foreign Origin (no Sec-Fetch-Site)", http.MethodPost, "/me/identities/nonce", headers("X-CSRF", "1", "Origin", "http://evil.example")},
		{"foreign Origin on link", http.MethodPost, "/me/identities", headers("X-CSRF", "1", "Origin", "http://linkbff.test.evil.example")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var rd *strings.Reader
			if tt.method == http.MethodPost {
				rd = body()
			} else {
				rd = strings.NewReader("")
			}
			wantProblem(t, b.do(tt.method, tt.path, rd, tt.header), http.StatusForbidden, "csrf_failed")
		})
	}
	t.Run("cross-site logout", func(t *testing.T) {
		r := b.do(http.MethodPost, "/auth/logout", strings.NewReader(""), headers("Sec-Fetch-Site", "cross-site", "Origin", "http://evil.example"))
		wantProblem(t, r, http.StatusForbidden, "csrf_failed")
		if !b.session().Authenticated {
			t.Error("a cross-site logout ended the session")
		}
	})
	if n := tenant.ManagementRequests(); n != 0 {
		t.Errorf("refused requests made %d Management API calls, want 0", n)
	}

	// The page's own fetch passes.
	if r := b.api(http.MethodPost, "/me/identities/nonce", nil); r.status != http.StatusCreated {
		t.Errorf("same-origin nonce with X-CSRF: %d %s", r.status, r.body)
	}
	// A bearer request needs neither, even cross-site, and wins over the cookie.
	bob, err := tenant.Mint(devtenant.MintRequest{UserID: "auth0|bob", ClientID: testClientID, Audience: testAudience, Scope: testScope})
	if err != nil {
		t.Fatal(err)
	}
	r := b.do(http.MethodPost, "/me/identities/nonce", nil, headers("Authorization", "Bearer "+bob.AccessToken, "Sec-Fetch-Site", "cross-site", "Origin", "http://evil.example"))
	if r.status != http.StatusCreated {
		t.Errorf("bearer nonce from another site: %d %s", r.status, r.body)
	}
	r = b.do(http.MethodGet, "/me/identities", nil, headers("Authorization", "Bearer "+bob.AccessToken))
	if r.status != http.StatusOK || r.json(t)["user_id"] != "auth0|bob" {
		t.Errorf("bearer and cookie: %d %s, want Bob's identities (the bearer token wins)", r.status, r.body)
	}
	// Any Authorization header, even one that names no token, leaves the cookie unused.
	for _, authz := range []string{"Bearer nonsense", "Bearer ", "Basic YTpi", ""} {
		wantProblem(t, b.do(http.MethodGet, "/me/identities", nil, headers("Authorization", authz)), http.StatusUnauthorized, "invalid_token")
	}
}

// TestBrowserSessionStoreDown: with the session store unreachable, sign-in and
// cookie requests answer 503 session_unavailable with Retry-After, within the request
// deadline, while bearer requests do not need the store.
func TestBrowserSessionStoreDown(t *testing.T) {
	for _, tt := range []struct {
		name string
		// serve plays a broken Redis on one accepted connection.
		serve func(c net.Conn, closed <-chan struct{})
	}{
		{"hangs up", func(c net.Conn, _ <-chan struct{}) { c.Close() }},
		{"never answers", func(c net.Conn, closed <-chan struct{}) { <-closed; c.Close() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ln := listenLoopback(t)
			closed := make(chan struct{})
			t.Cleanup(func() { close(closed) }) // before listenLoopback closes ln
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go tt.serve(c, closed)
				}
			}()
			const deadline = 2 * time.Second
			tenant := startBrowserTenant(t)
			b := newBrowser(t, startBrowserApp(t, tenant, map[string]string{
				"REDIS_URL": "redis://" + ln.Addr().String(), "REQUEST_TIMEOUT": deadline.String(),
			}))

			start := time.Now()
			r := b.do(http.MethodGet, "/auth/login", nil, nil)
			wantProblem(t, r, http.StatusServiceUnavailable, "session_unavailable")
			if r.header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			if elapsed := time.Since(start); elapsed > deadline+time.Second {
				t.Errorf("the refusal took %v, past the %v request deadline", elapsed, deadline)
			}
			// Without a cookie, asking for the session needs no store.
			if s := b.session(); s.Authenticated {
				t.Error("authenticated without a session")
			}
			// With a cookie, the store is needed.
			wantProblem(t, b.withCookie("some-session-token", http.MethodGet, "/me/identities", nil), http.StatusServiceUnavailable, "session_unavailable")
			// Bearer requests never touch it.
			alice, err := tenant.Mint(devtenant.MintRequest{UserID: "auth0|alice", ClientID: testClientID, Audience: testAudience, Scope: testScope})
			if err != nil {
				t.Fatal(err)
			}
			r = b.withCookie("some-session-token", http.MethodGet, "/me/identities", http.Header{"Authorization": {"Bearer " + alice.AccessToken}})
			if r.status != http.StatusOK {
				t.Errorf("bearer request with the session store down: %d %s", r.status, r.body)
			}
		})
	}
}

// TestBrowserLoginWithEmbeddedTenant: in development mode (no AUTH0_DOMAIN) the
// embedded tenant accepts linkbff's callback and sign-out URLs, whatever BASE_URL is.
func TestBrowserLoginWithEmbeddedTenant(t *testing.T) {
	b := newBrowser(t, startDevRun(t, map[string]string{"BASE_URL": browserBase}))
	b.loginAsAlice()
	if r := b.api(http.MethodGet, "/me/identities", nil); r.status != http.StatusOK || r.json(t)["user_id"] != "auth0|alice" {
		t.Errorf("identities with the cookie: %d %s", r.status, r.body)
	}
	if r := b.logout(); r.header.Get("Location") != browserBase+"/" {
		t.Errorf("logout ended at %q (hops %v), want the tenant to send the browser back to %s/", r.header.Get("Location"), b.lastHops(), browserBase)
	}
	if b.session().Authenticated {
		t.Error("still signed in after logout")
	}
}
