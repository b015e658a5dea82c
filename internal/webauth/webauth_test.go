package webauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/problem"
	"github.com/linkbff/linkbff/internal/webauth"
)

const (
	issuer   = "https://tenant.example/"
	clientID = "bff-client"
)

func newWeb(t *testing.T, baseURL string, now func() time.Time) *webauth.Web {
	t.Helper()
	keys, err := auth.NewKeySource(auth.KeySourceConfig{Issuer: issuer}) // nothing is fetched by these tests
	if err != nil {
		t.Fatal(err)
	}
	w, err := webauth.New(webauth.Config{
		BaseURL: baseURL, Issuer: issuer, ClientID: clientID, ClientSecret: "secret", Keys: keys,
		IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour, Now: now,
		OnError: func(w http.ResponseWriter, _ *http.Request, err error) { problem.Write(w, "", err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// client carries the session cookie from one handler call to the next.
type client struct {
	t       *testing.T
	handler http.Handler
	cookies map[string]*http.Cookie
}

func (c *client) do(method, target string, header http.Header) *httptest.ResponseRecorder {
	c.t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	for _, ck := range c.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	rec := httptest.NewRecorder()
	c.handler.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	return rec
}

func routes(w *webauth.Web) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /auth/login", w.Login())
	mux.Handle("GET /auth/callback", w.Callback())
	mux.Handle("POST /auth/logout", w.Logout())
	mux.Handle("GET /auth/session", w.Session())
	return w.LoadSession(mux)
}

func TestHTTPSCookieAndAuthorizeRequest(t *testing.T) {
	w := newWeb(t, "https://app.example", nil)
	c := &client{t: t, handler: routes(w), cookies: map[string]*http.Cookie{}}
	rec := c.do(http.MethodGet, "https://app.example/auth/login?returnTo=/x", nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", rec.Code)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", rec.Header().Values("Set-Cookie"))
	}
	ck := cookies[0]
	if ck.Name != "__Host-linkbff_session" || ck.Name != w.CookieName() || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
		t.Errorf("cookie %q, want __Host-linkbff_session; Secure; HttpOnly; SameSite=Lax; Path=/; no Domain", rec.Header().Get("Set-Cookie"))
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if loc.Scheme+"://"+loc.Host+loc.Path != issuer+"authorize" || q.Get("client_id") != clientID ||
		q.Get("redirect_uri") != "https://app.example/auth/callback" || q.Get("response_type") != "code" ||
		q.Get("scope") != "openid profile email" || q.Get("code_challenge_method") != "S256" ||
		len(q.Get("code_challenge")) != 43 || q.Get("state") == "" || q.Get("nonce") == "" || q.Get("state") == q.Get("nonce") {
		t.Errorf("authorize URL %s", loc)
	}
	if q.Has("client_secret") || strings.Contains(loc.String(), "secret") {
		t.Errorf("the authorize URL carries the client secret: %s", loc)
	}
}

func TestHTTPCookieIsNotSecure(t *testing.T) {
	w := newWeb(t, "http://127.0.0.1:3000", nil)
	c := &client{t: t, handler: routes(w), cookies: map[string]*http.Cookie{}}
	rec := c.do(http.MethodGet, "http://127.0.0.1:3000/auth/login", nil)
	ck := rec.Result().Cookies()
	if len(ck) != 1 || ck[0].Name != "linkbff_session" || ck[0].Secure || !ck[0].HttpOnly {
		t.Errorf("cookie %v, want linkbff_session, HttpOnly, not Secure", rec.Header().Values("Set-Cookie"))
	}
}

// startLogins starts n logins and returns their states.
func startLogins(c *client, n int) []string {
	var states []string
	for range n {
		rec := c.do(http.MethodGet, "https://app.example/auth/login", nil)
		loc, _ := url.Parse(rec.Header().Get("Location"))
		states = append(states, loc.Query().Get("state"))
	}
	return states
}

func callbackTarget(c *client, state string) string {
	// An error answer needs no code exchange, so no tenant: it shows whether the state
	// was accepted (access_denied) or not (invalid_state).
	rec := c.do(http.MethodGet, "https://app.example/auth/callback?error=access_denied&state="+url.QueryEscape(state), nil)
	return rec.Header().Get("Location")
}

func TestPendingLoginsAreBounded(t *testing.T) {
	w := newWeb(t, "https://app.example", nil)
	c := &client{t: t, handler: routes(w), cookies: map[string]*http.Cookie{}}
	states := startLogins(c, 6)
	if got := callbackTarget(c, states[0]); got != "/?login_error=invalid_state" {
		t.Errorf("the oldest of 6 logins: %q, want it dropped (invalid_state)", got)
	}
	for _, s := range states[1:] {
		if got := callbackTarget(c, s); got != "/?login_error=access_denied" {
			t.Errorf("a recent login: %q, want it accepted", got)
		}
	}
}

func TestPendingLoginExpires(t *testing.T) {
	now := time.Now()
	w := newWeb(t, "https://app.example", func() time.Time { return now })
	c := &client{t: t, handler: routes(w), cookies: map[string]*http.Cookie{}}
	states := startLogins(c, 2)
	now = now.Add(9 * time.Minute)
	if got := callbackTarget(c, states[0]); got != "/?login_error=access_denied" {
		t.Errorf("after 9 minutes: %q, want the login still pending", got)
	}
	now = now.Add(2 * time.Minute)
	if got := callbackTarget(c, states[1]); got != "/?login_error=invalid_state" {
		t.Errorf("after 11 minutes: %q, want the login expired", got)
	}
}

func TestLogout(t *testing.T) {
	w := newWeb(t, "https://app.example", nil)
	c := &client{t: t, handler: routes(w), cookies: map[string]*http.Cookie{}}
	startLogins(c, 1)
	if len(c.cookies) != 1 {
		t.Fatal("no session cookie")
	}
	// Behind a proxy that rewrote Host, the page's origin (BASE_URL) still counts.
	rec := c.do(http.MethodPost, "http://10.0.0.7:3000/auth/logout", http.Header{"Origin": {"https://app.example"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	want := issuer + "v2/logout?client_id=" + clientID + "&returnTo=" + url.QueryEscape("https://app.example/")
	if got := rec.Header().Get("Location"); got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if len(c.cookies) != 0 {
		t.Errorf("cookie not cleared: %v", rec.Header().Values("Set-Cookie"))
	}
	// Without a session it is still a sign-out; from another origin it is refused.
	if rec := c.do(http.MethodPost, "https://app.example/auth/logout", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("logout without a session: %d", rec.Code)
	}
	rec = c.do(http.MethodPost, "https://app.example/auth/logout", http.Header{"Origin": {"https://evil.example"}})
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"code":"csrf_failed"`) {
		t.Errorf("cross-origin logout: %d %s, want 403 csrf_failed", rec.Code, rec.Body)
	}
}

func TestSessionWithoutLogin(t *testing.T) {
	w := newWeb(t, "https://app.example", nil)
	c := &client{t: t, handler: routes(w), cookies: map[string]*http.Cookie{}}
	rec := c.do(http.MethodGet, "https://app.example/auth/session", nil)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"authenticated":false}` || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("GET /auth/session: %d %q %q", rec.Code, rec.Body, rec.Header().Get("Cache-Control"))
	}
	if len(c.cookies) != 0 {
		t.Error("asking for the session created one")
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	keys, _ := auth.NewKeySource(auth.KeySourceConfig{Issuer: issuer})
	onError := func(http.ResponseWriter, *http.Request, error) {}
	good := webauth.Config{BaseURL: "https://app.example", Issuer: issuer, ClientID: clientID, Keys: keys,
		IdleTimeout: time.Minute, Lifetime: time.Hour, OnError: onError}
	for name, edit := range map[string]func(*webauth.Config){
		"no base URL":        func(c *webauth.Config) { c.BaseURL = "" },
		"base URL no scheme": func(c *webauth.Config) { c.BaseURL = "app.example" },
		"no keys":            func(c *webauth.Config) { c.Keys = nil },
		"no client":          func(c *webauth.Config) { c.ClientID = "" },
		"no idle timeout":    func(c *webauth.Config) { c.IdleTimeout = 0 },
	} {
		cfg := good
		edit(&cfg)
		if _, err := webauth.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := webauth.New(good); err != nil {
		t.Fatal(err)
	}
}
