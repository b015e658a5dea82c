package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/testkit"
)

const (
	testClientID = "linkbff-dev-client"
	testAudience = "https://linkbff.example/api"
	nativeClient = "linkbff-dev-native"
	// testScope is what a client of linkbff's API asks Auth0 for: both of its scopes.
	testScope = "openid profile email read:identities write:identities"
)

// app is one linkbff process (run) in front of one development tenant, both on
// 127.0.0.1:0. linkbff runs in production mode (AUTH0_DOMAIN set): it only knows the
// tenant through its public wire contract.
type app struct {
	t      *testing.T
	tenant *devtenant.Tenant
	url    string
	stderr *syncBuffer
	client *http.Client // every request ends within testkit.Timeout
}

// startApp starts a tenant (with seed tweaks) and linkbff with env overrides.
func startApp(t *testing.T, env map[string]string, tweak func(*devtenant.Seed)) *app {
	t.Helper()
	seed := devtenant.DemoSeed()
	if tweak != nil {
		tweak(&seed)
	}
	return startAppOn(t, devtenanttest.Start(t, devtenant.Options{Seed: &seed}), env)
}

// startAppOn starts linkbff (with env overrides and run options) against a running
// tenant; several can share one, as replicas do.
func startAppOn(t *testing.T, tenant *devtenant.Tenant, env map[string]string, opts ...runOption) *app {
	t.Helper()
	a := &app{t: t, tenant: tenant, stderr: &syncBuffer{}, client: testkit.HTTPClient(t)}
	a.url = startRun(t, productionEnv(tenant, map[string]string{"LOG_LEVEL": "debug"}, env), &syncBuffer{}, a.stderr, opts...)
	return a
}

// startTenantBehind starts a development tenant of opts (its Issuer set here, to
// the URL of a listener taken first) behind the handler front returns for it: front
// gets the tenant and returns what serves its URL, passing requests on to the
// tenant's Handler as it sees fit.
func startTenantBehind(t testing.TB, opts devtenant.Options, front func(tenant *devtenant.Tenant) http.Handler) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil) // listens already, so its URL is known
	url := "http://" + srv.Listener.Addr().String()
	opts.Issuer = url + "/"
	tenant, err := devtenant.New(opts)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = front(tenant)
	srv.Start()
	t.Cleanup(srv.Close)
}

// listenLoopback is a listener on a free loopback port, closed when t ends.
func listenLoopback(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// productionEnv is linkbff's environment in production mode against tenant:
// defaults for everything a deployment would not set, with overrides applied in
// order.
func productionEnv(tenant *devtenant.Tenant, overrides ...map[string]string) func(string) string {
	env := map[string]string{
		"AUTH0_DOMAIN":           tenant.URL(),
		"AUTH0_AUDIENCE":         testAudience,
		"AUTH0_CLIENT_ID":        testClientID,
		"AUTH0_CLIENT_SECRET":    "linkbff-dev-secret-do-not-use-in-production",
		"LINK_ALLOWED_AUDIENCES": nativeClient,
		"LISTEN_ADDR":            "127.0.0.1:0",
		// The tenant has no rate limit unless a test sets one; the budget's own
		// tests set theirs.
		"MANAGEMENT_API_RPS": "1000",
	}
	for _, o := range overrides {
		maps.Copy(env, o)
	}
	return func(k string) string { return env[k] }
}

// startDevRun starts linkbff as `make run` does (development mode: no AUTH0_DOMAIN,
// the embedded tenant), on free ports, with env added, and returns its URL.
func startDevRun(t *testing.T, env map[string]string) string {
	t.Helper()
	return startDevRunClock(t, env, nil)
}

// startDevRunClock is startDevRun with now as the clock of the login-age rule (time.Now
// when nil).
func startDevRunClock(t *testing.T, env map[string]string, now func() time.Time) string {
	t.Helper()
	all := map[string]string{"LISTEN_ADDR": "127.0.0.1:0"}
	maps.Copy(all, env)
	var opts []runOption
	if now != nil {
		opts = append(opts, withClock(now))
	}
	return startRun(t, func(k string) string { return all[k] }, &syncBuffer{}, &syncBuffer{}, opts...)
}

// startRun calls run in a goroutine and returns linkbff's base URL once it listens
// (its first line on stdout). run's other output goes to stdout and stderr; when
// the test ends, run is stopped and must return nil.
func startRun(t testing.TB, getenv func(string) string, stdout *syncBuffer, stderr io.Writer, opts ...runOption) string {
	t.Helper()
	// No load balancer watches a test's linkbff: it need not keep serving after the
	// test ends (unless a test asks for a drain delay).
	setenv := getenv
	getenv = func(k string) string {
		if v := setenv(k); v != "" || k != "SHUTDOWN_DRAIN_DELAY" {
			return v
		}
		return "0s"
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"linkbff"}, getenv, stdout, stderr, opts...) }()
	t.Cleanup(func() {
		cancel()
		if err := testkit.Recv(t, done, "run to return after its context was cancelled"); err != nil {
			t.Errorf("run returned %v", err)
		}
	})
	select {
	case url := <-stdout.servingURL("linkbff listening on", "linkbff listening"):
		return url
	case err := <-done:
		t.Fatalf("run exited before listening: %v", err)
	case <-time.After(testkit.Timeout):
		t.Fatal("linkbff did not print its address")
	}
	return ""
}

// syncBuffer is an io.Writer safe for concurrent use that can wait for a line.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waiters []lineWaiter
}

type lineWaiter struct {
	match func(line string) (string, bool) // what to send for a matching line
	ch    chan string
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	b.notify()
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lineWith sends the first complete line that starts with prefix.
func (b *syncBuffer) lineWith(prefix string) <-chan string {
	return b.lineMatching(func(line string) (string, bool) { return line, strings.HasPrefix(line, prefix) })
}

// servingURL sends the URL of the startup line (startupLines.serving) that says
// something serves there: "text URL" with LOG_FORMAT=text, the record
// {"msg": msg, "url": URL} with LOG_FORMAT=json.
func (b *syncBuffer) servingURL(text, msg string) <-chan string {
	return b.lineMatching(func(line string) (string, bool) {
		if url, ok := strings.CutPrefix(line, text+" "); ok {
			return strings.TrimSpace(url), true
		}
		var rec struct{ Msg, URL string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg && rec.URL != "" {
			return rec.URL, true
		}
		return "", false
	})
}

func (b *syncBuffer) lineMatching(match func(line string) (string, bool)) <-chan string {
	b.mu.Lock()
	defer b.mu.Unlock()
	ch := make(chan string, 1)
	b.waiters = append(b.waiters, lineWaiter{match, ch})
	b.notify()
	return ch
}

func (b *syncBuffer) notify() {
	lines := strings.Split(b.buf.String(), "\n")
	kept := b.waiters[:0]
	for _, w := range b.waiters {
		found := false
		for _, l := range lines[:len(lines)-1] { // complete lines only
			if v, ok := w.match(l); ok {
				w.ch <- v
				found = true
				break
			}
		}
		if !found {
			kept = append(kept, w)
		}
	}
	b.waiters = kept
}

// mint returns tokens for a seeded user from the tenant.
func (a *app) mint(req devtenant.MintRequest) devtenant.Tokens {
	a.t.Helper()
	if req.ClientID == "" {
		req.ClientID = testClientID
	}
	tok, err := a.tenant.Mint(req)
	if err != nil {
		a.t.Fatal(err)
	}
	return tok
}

// accessToken is a valid bearer token of userID for linkbff's API.
func (a *app) accessToken(userID string) string {
	return a.mint(devtenant.MintRequest{UserID: userID, Audience: testAudience, Scope: testScope}).AccessToken
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
	return m
}

// newRequest builds a request with an optional bearer token and JSON body.
func newRequest(t *testing.T, method, url, token string, body any) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// do sends a request to linkbff with an optional bearer token and JSON body.
func (a *app) do(method, path, token string, body any) response {
	a.t.Helper()
	return a.send(newRequest(a.t, method, a.url+path, token, body))
}

func (a *app) send(req *http.Request) response {
	a.t.Helper()
	res, body := testkit.Do(a.t, a.client, req)
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// wantProblem checks a problem response's status, media type and code.
func wantProblem(t *testing.T, r response, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	p := r.json(t)
	if p["code"] != code {
		t.Errorf("code = %v, want %s; body %s", p["code"], code, r.body)
	}
	if p["status"] != float64(status) || p["type"] != "urn:linkbff:problem:"+code || p["title"] == "" || p["request_id"] != r.header.Get("X-Request-Id") {
		t.Errorf("problem members wrong: %s (X-Request-Id %q)", r.body, r.header.Get("X-Request-Id"))
	}
	return p
}

// nonce asks linkbff for a link intent as token's user.
func (a *app) nonce(token string) string {
	a.t.Helper()
	r := a.do("POST", "/me/identities/nonce", token, nil)
	if r.status != http.StatusCreated {
		a.t.Fatalf("nonce: status %d: %s", r.status, r.body)
	}
	return r.json(a.t)["nonce"].(string)
}

// link has token's user link secondary by an ID token of secondary's login bound to
// a fresh nonce of token's user.
func (a *app) link(token, secondary string) response {
	a.t.Helper()
	idToken := a.mint(devtenant.MintRequest{UserID: secondary, Nonce: a.nonce(token)}).IDToken
	return a.do("POST", "/me/identities", token, map[string]string{"link_with": idToken})
}

func decodeBody(t *testing.T, res *http.Response, v any) {
	t.Helper()
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("%s %s: %d %s", res.Request.Method, res.Request.URL, res.StatusCode, b)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
