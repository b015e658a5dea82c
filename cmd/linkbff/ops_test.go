package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/testkit"
)

// readiness returns /readyz's status and its checks.
func (a *app) readiness() (int, map[string]any) {
	a.t.Helper()
	r := a.do("GET", "/readyz", "", nil)
	checks, _ := r.json(a.t)["checks"].(map[string]any)
	return r.status, checks
}

const m2mClientID, m2mSecret = "linkbff-dev-m2m", "linkbff-dev-m2m-secret-do-not-use-in-production"

// TestReadinessFalseWhileCredentialsRefused: with credentials Auth0 refuses, linkbff
// still starts, says at once which variable or setting is wrong, and /readyz stays
// 503 with auth0_management "refused" (the JWKS is fine), where it used to answer 200
// while every /me call failed.
func TestReadinessFalseWhileCredentialsRefused(t *testing.T) {
	const wrongSecret = "not-the-secret-auth0-holds"
	m2m := map[string]string{"AUTH0_MANAGEMENT_CLIENT_ID": m2mClientID, "AUTH0_MANAGEMENT_CLIENT_SECRET": m2mSecret}
	editM2M := func(edit func(c *devtenant.Client)) func(*devtenant.Seed) {
		return func(s *devtenant.Seed) {
			for i := range s.Clients {
				if s.Clients[i].ClientID == m2mClientID {
					edit(&s.Clients[i])
				}
			}
		}
	}
	tests := []struct {
		name  string
		env   map[string]string
		tweak func(*devtenant.Seed)
		log   string // what the startup log must say
	}{
		{"wrong client secret", map[string]string{"AUTH0_CLIENT_SECRET": wrongSecret}, nil,
			"AUTH0_CLIENT_SECRET (or AUTH0_CLIENT_ID) was refused by Auth0: access_denied/Unauthorized"},
		{"wrong M2M secret", map[string]string{"AUTH0_MANAGEMENT_CLIENT_ID": m2mClientID, "AUTH0_MANAGEMENT_CLIENT_SECRET": wrongSecret}, nil,
			"AUTH0_MANAGEMENT_CLIENT_SECRET (or AUTH0_MANAGEMENT_CLIENT_ID) was refused by Auth0: access_denied/Unauthorized"},
		{"M2M without the Client Credentials grant", m2m, editM2M(func(c *devtenant.Client) { c.GrantTypes = nil }),
			"the Machine-to-Machine application (AUTH0_MANAGEMENT_CLIENT_ID) may not use the Client Credentials grant: unauthorized_client"},
		{"M2M not authorized for the Management API", m2m, editM2M(func(c *devtenant.Client) { c.ManagementScopes = nil }),
			"the Machine-to-Machine application (AUTH0_MANAGEMENT_CLIENT_ID) is not authorized for the Management API audience AUTH0_MANAGEMENT_AUDIENCE, or that audience is wrong: access_denied/Client is not authorized"},
		{"wrong Management API audience", map[string]string{"AUTH0_MANAGEMENT_AUDIENCE": "https://elsewhere.example/api/v2/"}, nil,
			"the BFF's application (AUTH0_CLIENT_ID) is not authorized for the Management API audience AUTH0_MANAGEMENT_AUDIENCE, or that audience is wrong: access_denied/Service not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := startApp(t, tt.env, tt.tweak)
			logs := a.stderr.String()
			if !strings.Contains(logs, tt.log) {
				t.Errorf("the startup log does not say %q:\n%s", tt.log, logs)
			}
			if strings.Contains(logs, wrongSecret) {
				t.Errorf("the log shows the secret:\n%s", logs)
			}
			for range 2 { // still refused when asked again
				status, checks := a.readiness()
				if status != http.StatusServiceUnavailable || checks["auth0_management"] != "refused" || checks["auth0"] != "ok" || checks["shutdown"] != "ok" {
					t.Errorf("/readyz: %d %v, want 503 with auth0_management refused, auth0 and shutdown ok", status, checks)
				}
			}
			r := a.do("GET", "/me/identities", a.accessToken("auth0|alice"), nil)
			wantProblem(t, r, http.StatusBadGateway, "upstream_unavailable")
		})
	}
}

// TestReadyWithGoodCredentials: the startup log says what was checked, and every
// readiness check is ok.
func TestReadyWithGoodCredentials(t *testing.T) {
	a := startApp(t, nil, nil)
	for _, want := range []string{"Auth0 signing keys fetched", "Management API token obtained"} {
		if !strings.Contains(a.stderr.String(), want) {
			t.Errorf("the startup log lacks %q", want)
		}
	}
	status, checks := a.readiness()
	if status != http.StatusOK || checks["auth0"] != "ok" || checks["auth0_management"] != "ok" || checks["shutdown"] != "ok" {
		t.Errorf("/readyz: %d %v", status, checks)
	}
}

// TestSecretRotationOverRun: during a rotation linkbff holds the new secret (not yet
// in Auth0) and the previous one; both the Management API token and the browser
// sign-in's code exchange work with whichever Auth0 accepts.
func TestSecretRotationOverRun(t *testing.T) {
	tenant := startBrowserTenant(t)
	b := newBrowser(t, startBrowserApp(t, tenant, map[string]string{
		"AUTH0_CLIENT_SECRET":          "the-next-secret-not-yet-in-auth0",
		"AUTH0_CLIENT_SECRET_PREVIOUS": "linkbff-dev-secret-do-not-use-in-production",
	}))
	if r := b.get("/readyz"); r.status != http.StatusOK {
		t.Fatalf("/readyz: %d %s", r.status, r.body)
	}
	b.loginAsAlice()
	if r := b.api(http.MethodGet, "/me/identities", nil); r.status != http.StatusOK {
		t.Errorf("list with the session: %d %s", r.status, r.body)
	}
}

// TestContradictorySettingsAreStartupErrors: run refuses to start, naming each
// contradiction, before it listens.
func TestContradictorySettingsAreStartupErrors(t *testing.T) {
	env := map[string]string{
		"AUTH0_DOMAIN": "http://127.0.0.1:1", "AUTH0_AUDIENCE": testAudience, "AUTH0_CLIENT_ID": testClientID, "AUTH0_CLIENT_SECRET": "s",
		"LISTEN_ADDR":            "127.0.0.1:0",
		"REQUEST_TIMEOUT":        "10s",
		"MANAGEMENT_API_TIMEOUT": "10s",
		"SHUTDOWN_TIMEOUT":       "5s",
		"SESSION_IDLE_TIMEOUT":   "2h", "SESSION_LIFETIME": "1h",
		"AUTH0_MANAGEMENT_CLIENT_ID": "m2m",
	}
	var stdout bytes.Buffer
	err := run(testkit.Context(t), []string{"linkbff"}, func(k string) string { return env[k] }, &stdout, io.Discard)
	if err == nil {
		t.Fatal("run started with contradictory settings")
	}
	for _, name := range []string{"MANAGEMENT_API_TIMEOUT:", "SHUTDOWN_TIMEOUT:", "SESSION_IDLE_TIMEOUT:", "AUTH0_MANAGEMENT_CLIENT_SECRET:"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error does not name %s\n%v", name, err)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("run printed %q before refusing", stdout.String())
	}
}

// signalWriter collects what is written and closes seen once the text contains want.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

// TestDrainOverRun: from the moment ctx ends (SIGTERM in main), /readyz answers 503
// with shutdown "draining" while requests are still served, for SHUTDOWN_DRAIN_DELAY;
// then run shuts down and returns nil.
func TestDrainOverRun(t *testing.T) {
	tenant := devtenanttest.Start(t, devtenant.Options{})
	getenv := productionEnv(tenant, map[string]string{"SHUTDOWN_DRAIN_DELAY": "3s"})
	stdout := &syncBuffer{}
	stderr := &signalWriter{want: "draining", seen: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"linkbff"}, getenv, stdout, stderr) }()
	url := testkit.Recv(t, stdout.servingURL("linkbff listening on", "linkbff listening"), "linkbff to listen")
	a := &app{t: t, tenant: tenant, url: url, client: testkit.HTTPClient(t)}
	if status, checks := a.readiness(); status != http.StatusOK || checks["shutdown"] != "ok" {
		t.Fatalf("/readyz before SIGTERM: %d %v", status, checks)
	}

	cancel()
	testkit.Recv(t, stderr.seen, "the draining log line")
	status, checks := a.readiness()
	if status != http.StatusServiceUnavailable || checks["shutdown"] != "draining" {
		t.Errorf("/readyz while draining: %d %v, want 503 with shutdown draining", status, checks)
	}
	if r := a.do("GET", "/me/identities", a.accessToken("auth0|alice"), nil); r.status != http.StatusOK {
		t.Errorf("a request while draining: %d %s, want it served", r.status, r.body)
	}
	if err := testkit.Recv(t, done, "run to return after the drain"); err != nil {
		t.Errorf("run returned %v", err)
	}
}

// TestServeDrainsBeforeShutdown: serve sets readiness false, keeps serving for the
// drain delay (here ended by the test), and only then shuts down.
func TestServeDrainsBeforeShutdown(t *testing.T) {
	ln := listenLoopback(t)
	var draining atomic.Bool
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})}
	delayAsked := make(chan time.Duration, 1)
	endDelay := make(chan time.Time)
	plan := drainPlan{draining: &draining, delay: time.Minute, timeout: testkit.Timeout, after: func(d time.Duration) <-chan time.Time {
		delayAsked <- d
		return endDelay
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, slog.New(slog.DiscardHandler), srv, ln, plan) }()
	client := testkit.HTTPClient(t)
	get := func() int {
		res, _ := testkit.Get(t, client, "http://"+ln.Addr().String()+"/readyz")
		return res.StatusCode
	}
	if got := get(); got != http.StatusOK {
		t.Fatalf("before the end: %d", got)
	}
	cancel()
	if d := testkit.Recv(t, delayAsked, "serve to start the drain delay"); d != time.Minute {
		t.Errorf("drain delay %v, want 1m", d)
	}
	if got := get(); got != http.StatusServiceUnavailable {
		t.Errorf("during the drain: %d, want 503", got)
	}
	select {
	case err := <-done:
		t.Fatalf("serve returned during the drain delay: %v", err)
	default:
	}
	close(endDelay)
	if err := testkit.Recv(t, done, "serve to return"); err != nil {
		t.Errorf("serve: %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still listening after serve returned")
	}
}

// TestVersionAndBuildInfo: `linkbff version` and the linkbff_build_info metric say
// which build runs.
func TestVersionAndBuildInfo(t *testing.T) {
	var out bytes.Buffer
	if err := run(testkit.Context(t), []string{"linkbff", "version"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "linkbff ") || !strings.Contains(out.String(), runtime.Version()) {
		t.Errorf("version printed %q", out.String())
	}
	a := startApp(t, nil, nil)
	r := a.do("GET", "/metrics", "", nil)
	want := `goversion="` + runtime.Version() + `"`
	found := false
	for _, line := range strings.Split(string(r.body), "\n") {
		if strings.HasPrefix(line, "linkbff_build_info{") && strings.Contains(line, want) && strings.Contains(line, `version="`) && strings.HasSuffix(line, " 1") {
			found = true
		}
	}
	if !found {
		t.Errorf("/metrics has no linkbff_build_info{...%s...} 1", want)
	}
}

// TestProductionBuildHasNoDevTenant: built with -tags nodevtenant (as the image is),
// linkbff does not contain the development tenant, and without AUTH0_DOMAIN it says
// so instead of starting one.
func TestProductionBuildHasNoDevTenant(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	deps := func(tags ...string) string {
		args := append([]string{"list", "-deps"}, tags...)
		out, err := exec.CommandContext(ctx, "go", append(args, ".")...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return string(out)
	}
	const devtenantPkg = "github.com/linkbff/linkbff/internal/devtenant\n"
	if !strings.Contains(deps(), devtenantPkg) {
		t.Fatal("the default build does not contain the development tenant: the check below proves nothing")
	}
	if strings.Contains(deps("-tags", "nodevtenant"), devtenantPkg) {
		t.Error("the -tags nodevtenant build still contains internal/devtenant")
	}
	bin := filepath.Join(t.TempDir(), "linkbff")
	if out, err := exec.CommandContext(ctx, "go", "build", "-tags", "nodevtenant", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags nodevtenant: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"LISTEN_ADDR=127.0.0.1:0"}
	out, err := cmd.CombinedOutput()
	if _, exited := errors.AsType[*exec.ExitError](err); !exited || !strings.Contains(string(out), "built without the development tenant") {
		t.Errorf("the production binary without AUTH0_DOMAIN: %v\n%s", err, out)
	}
}

// TestCustomDomainOverRun: the tenant issues its tokens under a custom domain
// (localhost here) while linkbff's AUTH0_DOMAIN is the canonical one (127.0.0.1):
// tokens of either issuer are accepted, others refused, and the page is told to sign
// in at the custom domain.
func TestCustomDomainOverRun(t *testing.T) {
	ln := listenLoopback(t)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	canonical, custom := "http://127.0.0.1:"+port, "http://localhost:"+port
	tenant, err := devtenant.New(devtenant.Options{Issuer: custom + "/"})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: tenant.Handler(), ReadHeaderTimeout: testkit.Timeout}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	a := startAppOn(t, tenant, map[string]string{
		"AUTH0_DOMAIN":        canonical,
		"AUTH0_CUSTOM_DOMAIN": custom,
		// The development tenant's Management API audience follows its issuer;
		// Auth0's is always the canonical domain's, the default.
		"AUTH0_MANAGEMENT_AUDIENCE": tenant.ManagementAudience(),
	})

	if status, checks := a.readiness(); status != http.StatusOK {
		t.Fatalf("/readyz: %d %v\n%s", status, checks, a.stderr.String())
	}
	now := time.Now()
	for _, tt := range []struct {
		iss  string
		want int
	}{
		{custom + "/", http.StatusOK},
		{canonical + "/", http.StatusOK},
		{"http://evil.example/", http.StatusUnauthorized},
	} {
		tok, err := tenant.SignClaims(map[string]any{"iss": tt.iss, "sub": "auth0|alice", "aud": testAudience, "azp": testClientID, "scope": testScope, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		if r := a.do("GET", "/me/identities", tok, nil); r.status != tt.want {
			t.Errorf("token of iss %s: %d %s, want %d", tt.iss, r.status, r.body, tt.want)
		}
	}
	// A link: the secondary ID token carries the custom domain's issuer.
	alice := a.accessToken("auth0|alice")
	if r := a.link(alice, "github|4242"); r.status != http.StatusCreated {
		t.Errorf("link: %d %s", r.status, r.body)
	}
	cfg := a.do("GET", "/config.json", "", nil).json(t)
	if cfg["domain"] != custom || cfg["issuer"] != custom+"/" || cfg["jwks_uri"] != custom+"/.well-known/jwks.json" {
		t.Errorf("config.json: %v, want the custom domain", cfg)
	}
}

// TestStartsWhileAuth0Unreachable: with Auth0 out of reach linkbff still starts, says
// so, and is not ready until it has what it needs.
func TestStartsWhileAuth0Unreachable(t *testing.T) {
	ln := listenLoopback(t)
	gone := "http://" + ln.Addr().String() // nothing listens there once closed
	ln.Close()
	env := map[string]string{
		"AUTH0_DOMAIN": gone, "AUTH0_AUDIENCE": testAudience, "AUTH0_CLIENT_ID": testClientID, "AUTH0_CLIENT_SECRET": "s",
		"LISTEN_ADDR": "127.0.0.1:0",
	}
	stderr := &syncBuffer{}
	a := &app{t: t, stderr: stderr, client: testkit.HTTPClient(t)}
	a.url = startRun(t, func(k string) string { return env[k] }, &syncBuffer{}, stderr)
	for _, want := range []string{"cannot fetch Auth0's signing keys", "cannot get a Management API token"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the startup log does not say %q:\n%s", want, stderr.String())
		}
	}
	status, checks := a.readiness()
	if status != http.StatusServiceUnavailable || checks["auth0"] != "unreachable" || checks["auth0_management"] != "unreachable" {
		t.Errorf("/readyz: %d %v, want 503 with auth0 and auth0_management unreachable", status, checks)
	}
	if r := a.do("GET", "/healthz", "", nil); r.status != http.StatusOK {
		t.Errorf("/healthz: %d", r.status)
	}
}
