package server_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/problem"
	"github.com/linkbff/linkbff/internal/reqlog"
	"github.com/linkbff/linkbff/internal/server"
	"github.com/linkbff/linkbff/internal/testkit"
)

const (
	apiAudience = "https://api.example/linkbff"
	clientID    = "bff-client"
	tenantURL   = "https://tenant.example"
)

var signingKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// newJWKS serves the signing key's public half as a tenant's JWKS and returns the
// tenant's issuer.
func newJWKS(t *testing.T) string {
	t.Helper()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &signingKey().PublicKey, KeyID: "k1", Algorithm: string(jose.RS256), Use: "sig"}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// accessToken signs an access token for subject, valid for an hour.
func accessToken(t *testing.T, issuer, subject string) string {
	t.Helper()
	return scopedAccessToken(t, issuer, subject, "openid")
}

// scopedAccessToken signs an access token for subject with scope, valid for an hour.
func scopedAccessToken(t *testing.T, issuer, subject, scope string) string {
	t.Helper()
	now := time.Now()
	return testkit.SignJWT(t, jose.RS256, signingKey(), "k1", map[string]any{
		"iss": issuer, "sub": subject, "aud": apiAudience, "azp": clientID, "scope": scope,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
}

// fakeIdentities is the identity service as the handlers see it: canned answers and
// a record of calls.
type fakeIdentities struct {
	calls testkit.Calls
	mu    sync.Mutex
	view  identity.View
	err   error
	panic any                       // List panics with this when set
	seen  func(ctx context.Context) // List calls it with its context when set
}

func (f *fakeIdentities) record(call string) error {
	f.calls.Add(call)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *fakeIdentities) callLog() []string { return f.calls.List() }
func (f *fakeIdentities) resetCalls()       { f.calls.Reset() }

// set changes the canned answers between requests.
func (f *fakeIdentities) set(change func(*fakeIdentities)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeIdentities) List(ctx context.Context, userID string) (identity.View, error) {
	f.mu.Lock()
	p, seen := f.panic, f.seen
	f.mu.Unlock()
	if seen != nil {
		seen(ctx)
	}
	if p != nil {
		panic(p)
	}
	if err := f.record("List " + userID); err != nil {
		return identity.View{}, err
	}
	return f.view, nil
}

func (f *fakeIdentities) NewIntent(_ context.Context, userID string) (identity.Intent, error) {
	if err := f.record("NewIntent " + userID); err != nil {
		return identity.Intent{}, err
	}
	return identity.Intent{Nonce: "nonce-1", ExpiresIn: 5 * time.Minute}, nil
}

func (f *fakeIdentities) Link(_ context.Context, userID, linkToken string) (identity.View, error) {
	if err := f.record(fmt.Sprintf("Link %s %s", userID, linkToken)); err != nil {
		return identity.View{}, err
	}
	return f.view, nil
}

func (f *fakeIdentities) Unlink(_ context.Context, userID, provider, identityUserID string) (identity.View, error) {
	if err := f.record(fmt.Sprintf("Unlink %s %s %s", userID, provider, identityUserID)); err != nil {
		return identity.View{}, err
	}
	return f.view, nil
}

// testServer is server.New over fakes, served by httptest.
type testServer struct {
	url    string
	issuer string
	ids    *fakeIdentities
	client *http.Client
}

type serverOptions struct {
	frontend fs.FS
	audience string
	ready    map[string]func(context.Context) error
	cors     []string         // CORS_ALLOWED_ORIGINS
	log      io.Writer        // JSON logs at debug level; nil discards them
	access   reqlog.AccessLog // the access log (nil: through log)
	// readScope and writeScope are server.Config's (none required when empty).
	readScope, writeScope string
}

const openAPIDoc = "openapi: 3.0.3\ninfo:\n  title: linkbff\n"

func newTestServer(t *testing.T, opts serverOptions) *testServer {
	t.Helper()
	h, ids, issuer := newHandler(t, opts)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL, issuer: issuer, ids: ids, client: testkit.HTTPClient(t)}
}

// newHandler returns server.New over fakes, the fake identity service, and the
// issuer whose tokens it accepts.
func newHandler(t *testing.T, opts serverOptions) (http.Handler, *fakeIdentities, string) {
	t.Helper()
	issuer := newJWKS(t)
	keys, err := auth.NewKeySource(auth.KeySourceConfig{Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	bearer, err := auth.NewBearer(auth.BearerConfig{Issuer: issuer, Audience: apiAudience, Keys: keys, OnError: server.WriteProblem})
	if err != nil {
		t.Fatal(err)
	}
	ids := &fakeIdentities{}
	logger := slog.New(slog.DiscardHandler)
	if opts.log != nil {
		logger = slog.New(slog.NewJSONHandler(opts.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	deps := server.Deps{
		Logger:     logger,
		AccessLog:  opts.access,
		Identities: ids,
		Bearer:     bearer,
		Ready:      opts.ready,
		OpenAPI:    []byte(openAPIDoc),
	}
	deps.Frontend = opts.frontend
	h := server.New(server.Config{
		RequestTimeout:     10 * time.Second,
		CORSAllowedOrigins: opts.cors,
		ReadScope:          opts.readScope,
		WriteScope:         opts.writeScope,
		Client:             server.ClientConfig{Domain: tenantURL, ConfigurationBaseURL: tenantURL, ClientID: clientID, Issuer: tenantURL + "/", Audience: opts.audience},
	}, deps)
	return h, ids, issuer
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; header holds extra request headers.
func (s *testServer) do(t *testing.T, method, path string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, b := testkit.Do(t, s.client, req)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (s *testServer) bearer(t *testing.T) string {
	return "Bearer " + accessToken(t, s.issuer, "auth0|alice")
}

// wantProblem checks r is a problem response of status and code whose request_id is
// the response's X-Request-Id, and returns its body.
func wantProblem(t *testing.T, r response, status int, code fault.Code) api.Problem {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d (body %s)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var b api.Problem
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("problem body %q: %v", r.body, err)
	}
	if b.Code != api.ProblemCode(code) || b.Status != status || b.Title != problem.Title(code) || b.Type != problem.TypeURI(code) {
		t.Errorf("problem %+v, want %d %s", b, status, code)
	}
	if id := r.header.Get("X-Request-Id"); id == "" || deref(b.RequestID) != id {
		t.Errorf("request_id %q, X-Request-Id %q: want equal and set", deref(b.RequestID), id)
	}
	return b
}

// deref returns *p, or "" for nil (an optional member of a problem).
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
