package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/testkit"
)

// The browser tests run linkbff behind a public origin of its own, browserBase, as a
// deployment behind a proxy or load balancer would: BASE_URL is browserBase, the
// tenant knows browserBase's callback and logout URLs, and the test browser's
// transport connects browserHost to whichever linkbff process it is pointed at. So
// several processes (replicas) can serve one origin and one cookie jar.
const (
	browserHost = "linkbff.test"
	browserBase = "http://" + browserHost
)

// browserTenant is a development tenant served through a test proxy that can tamper
// with the ID tokens of its token responses (re-signed with the tenant's key), to
// stand in for a misbehaving or compromised token endpoint.
type browserTenant struct {
	*devtenant.Tenant
	// tamper, when set, edits the claims of every ID token /oauth/token answers.
	tamper atomic.Pointer[func(claims map[string]any)]
	// logoutTo is the host:port of the linkbff process that the tenant's
	// back-channel logout posts for browserBase reach (see routeLogouts).
	logoutTo atomic.Pointer[string]
}

// routeLogouts sends the tenant's back-channel logout posts for browserBase to the
// linkbff process at instanceURL, as a load balancer would pick one replica.
func (bt *browserTenant) routeLogouts(instanceURL string) {
	addr := strings.TrimPrefix(instanceURL, "http://")
	bt.logoutTo.Store(&addr)
}

// startBrowserTenant starts a tenant whose BFF client accepts browserBase's callback
// and logout URLs.
func startBrowserTenant(t *testing.T) *browserTenant {
	t.Helper()
	return startBrowserTenantWith(t, nil)
}

// startBrowserTenantWith is startBrowserTenant with the demo seed edited by tweak.
func startBrowserTenantWith(t *testing.T, tweak func(*devtenant.Seed)) *browserTenant {
	t.Helper()
	seed := devtenant.DemoSeed()
	if tweak != nil {
		tweak(&seed)
	}
	for i := range seed.Clients {
		if c := &seed.Clients[i]; c.ClientID == testClientID {
			c.Callbacks = append(c.Callbacks, browserBase+"/auth/callback")
			c.AllowedLogoutURLs = append(c.AllowedLogoutURLs, browserBase+"/")
			c.WebOrigins = append(c.WebOrigins, browserBase)
			c.OIDCLogout = &devtenant.OIDCLogout{BackchannelLogoutURLs: []string{browserBase + "/auth/backchannel-logout"}}
		}
	}
	bt := &browserTenant{}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	logoutClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true, // each post reaches the process routed to now
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if to := bt.logoutTo.Load(); to != nil && addr == browserHost+":80" {
				addr = *to
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}}
	startTenantBehind(t, devtenant.Options{Seed: &seed, HTTPClient: logoutClient}, func(tenant *devtenant.Tenant) http.Handler {
		bt.Tenant = tenant
		return http.HandlerFunc(bt.serve)
	})
	return bt
}

func (bt *browserTenant) serve(w http.ResponseWriter, r *http.Request) {
	tamper := bt.tamper.Load()
	if tamper == nil || r.Method != http.MethodPost || r.URL.Path != "/oauth/token" {
		bt.Handler().ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	bt.Handler().ServeHTTP(rec, r)
	var body map[string]any
	if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &body) == nil {
		if raw, ok := body["id_token"].(string); ok {
			claims := jwtClaims(raw)
			(*tamper)(claims)
			signed, err := bt.SignClaims(claims)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			body["id_token"] = signed
		}
	}
	maps.Copy(w.Header(), rec.Header())
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	_, _ = w.Write(rec.Body.Bytes())
}

// jwtClaims decodes a JWT's claims without verifying it.
func jwtClaims(raw string) map[string]any {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return map[string]any{}
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// startBrowserApp starts linkbff (run, production mode) for tenant at browserBase,
// and returns its real base URL.
func startBrowserApp(t *testing.T, tenant *browserTenant, env map[string]string) string {
	t.Helper()
	getenv := productionEnv(tenant.Tenant, map[string]string{"BASE_URL": browserBase, "LOG_LEVEL": "debug"}, env)
	instance := startRun(t, getenv, &syncBuffer{}, io.Discard)
	if tenant.logoutTo.Load() == nil {
		tenant.routeLogouts(instance) // the first replica, unless the test routes them
	}
	return instance
}

// browser is an HTTP client that keeps cookies, as a browser does, and sends requests
// for browserBase to the linkbff process it is pointed at (use). It follows redirects
// until one leads back to a linkbff page outside /auth/, which it returns unfollowed,
// so a test sees where a login or logout ends.
type browser struct {
	t      *testing.T
	jar    *cookiejar.Jar
	client *http.Client

	mu       sync.Mutex
	instance string   // host:port that browserHost reaches
	hops     []string // the URLs the last request was redirected through
}

func newBrowser(t *testing.T, instanceURL string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, jar: jar}
	b.use(instanceURL)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	b.client = &http.Client{
		Jar:     jar,
		Timeout: 20 * time.Second,
		Transport: &http.Transport{
			// No connection reuse: after use(), the next request must reach the new process.
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if addr == browserHost+":80" {
					b.mu.Lock()
					addr = b.instance
					b.mu.Unlock()
				}
				return dialer.DialContext(ctx, network, addr)
			},
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			b.mu.Lock()
			b.hops = append(b.hops, req.URL.String())
			b.mu.Unlock()
			if len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			if req.URL.Host == browserHost && !strings.HasPrefix(req.URL.Path, "/auth/") {
				return http.ErrUseLastResponse
			}
			// Only linkbff and the tenant (on loopback) are visited; a redirect
			// anywhere else is returned for the test to see.
			if host, _, _ := net.SplitHostPort(req.URL.Host); req.URL.Host != browserHost && host != "127.0.0.1" {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return b
}

// use points the browser at another linkbff process serving browserBase.
func (b *browser) use(instanceURL string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.instance = strings.TrimPrefix(instanceURL, "http://")
}

// lastHops returns the URLs the last request was redirected through.
func (b *browser) lastHops() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.hops)
}

// do sends req (a path is relative to browserBase) and reads the whole answer.
func (b *browser) do(method, target string, body io.Reader, header http.Header) response {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = browserBase + target
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	maps.Copy(req.Header, header)
	b.mu.Lock()
	b.hops = nil
	b.mu.Unlock()
	res, data := testkit.Do(b.t, b.client, req)
	return response{status: res.StatusCode, header: res.Header, body: data}
}

func (b *browser) get(target string) response { return b.do(http.MethodGet, target, nil, nil) }

// sameOrigin are the headers a browser adds to a fetch from linkbff's own page.
func sameOrigin() http.Header {
	return http.Header{"Origin": {browserBase}, "Sec-Fetch-Site": {"same-origin"}}
}

// api calls linkbff's API as the page does: the session cookie, a same-origin fetch,
// X-CSRF: 1, and a JSON body when one is given.
func (b *browser) api(method, path string, body any) response {
	b.t.Helper()
	h := sameOrigin()
	h.Set("X-CSRF", "1")
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			b.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
		h.Set("Content-Type", "application/json")
	}
	return b.do(method, path, rd, h)
}

// login signs in as a person would: GET /auth/login?returnTo=, then the tenant's login
// form (skipped when the tenant's own session remembers the person), back through
// /auth/callback. It returns where linkbff finally sends the browser (the Location of
// the callback's redirect).
func (b *browser) login(returnTo, email, password string) string {
	b.t.Helper()
	r := b.get("/auth/login?returnTo=" + url.QueryEscape(returnTo))
	if r.status == http.StatusOK {
		action, fields := loginForm(b.t, string(r.body))
		fields.Set("email", email)
		fields.Set("password", password)
		r = b.do(http.MethodPost, action, strings.NewReader(fields.Encode()),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	}
	if r.status != http.StatusSeeOther || r.header.Get("Location") == "" {
		b.t.Fatalf("login did not end with linkbff's redirect: status %d, hops %v\n%s", r.status, b.lastHops(), r.body)
	}
	return r.header.Get("Location")
}

// loginAsAlice signs Alice in and checks she lands on returnTo.
func (b *browser) loginAsAlice() {
	b.t.Helper()
	if got := b.login("/", "alice@example.com", "alice-password"); got != "/" {
		b.t.Fatalf("login ended at %q, want /", got)
	}
}

// logout posts the page's sign-out form and follows the tenant's sign-out back to
// linkbff's page; it returns the last redirect.
func (b *browser) logout() response {
	b.t.Helper()
	h := sameOrigin()
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(http.MethodPost, "/auth/logout", strings.NewReader(""), h)
}

// sessionCookie returns the value of linkbff's session cookie in the jar ("" if none).
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(browserBase + "/")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "linkbff_session" {
			return c.Value
		}
	}
	return ""
}

// withCookie sends a request carrying only the given session cookie value (as a
// stolen or kept cookie would be replayed), through the browser's transport.
func (b *browser) withCookie(value, method, path string, header http.Header) response {
	b.t.Helper()
	b.mu.Lock()
	instance := b.instance
	b.mu.Unlock()
	other := newBrowser(b.t, instance)
	u, _ := url.Parse(browserBase + "/")
	other.jar.SetCookies(u, []*http.Cookie{{Name: "linkbff_session", Value: value, Path: "/"}})
	return other.do(method, path, nil, header)
}

// loginForm returns the tenant login page's database form: its action and fields.
func loginForm(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	m := regexp.MustCompile(`(?s)<form id="database-login"[^>]*action="([^"]*)"[^>]*>(.*?)</form>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no login form in the page:\n%s", page)
	}
	fields := url.Values{}
	for _, in := range regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`).FindAllStringSubmatch(m[2], -1) {
		fields.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), fields
}

// sessionView is GET /auth/session's answer.
type sessionView = api.Session

// sessionOf decodes a GET /auth/session answer.
func sessionOf(t *testing.T, r response) sessionView {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("GET /auth/session: %d %s", r.status, r.body)
	}
	var s sessionView
	if err := json.Unmarshal(r.body, &s); err != nil {
		t.Fatalf("GET /auth/session: %v: %s", err, r.body)
	}
	return s
}

// session asks linkbff who is signed in in this browser.
func (b *browser) session() sessionView {
	b.t.Helper()
	return sessionOf(b.t, b.get("/auth/session"))
}
