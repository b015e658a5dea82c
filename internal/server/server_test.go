package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/server"
)

const maxBody = 64 << 10

// linkBody returns {"link_with":"xxx…"} of exactly n bytes.
func linkBody(n int) string {
	const frame = `{"link_with":""}`
	return `{"link_with":"` + strings.Repeat("x", n-len(frame)) + `"}`
}

func TestDecodeJSON(t *testing.T) {
	s := newTestServer(t, serverOptions{})
	tests := []struct {
		name, contentType, body string
		status                  int
		code                    fault.Code
		fields                  []api.FieldError
	}{
		{name: "valid", contentType: "application/json", body: `{"link_with":"tok"}`, status: http.StatusCreated},
		{name: "charset parameter", contentType: "application/json; charset=utf-8", body: `{"link_with":"tok"}`, status: http.StatusCreated},
		{name: "+json media type", contentType: "application/vnd.linkbff+json", body: `{"link_with":"tok"}`, status: http.StatusCreated},
		{name: "exactly 64 KiB", contentType: "application/json", body: linkBody(maxBody), status: http.StatusCreated},
		{name: "trailing whitespace", contentType: "application/json", body: "{\"link_with\":\"tok\"}\n\t ", status: http.StatusCreated},

		{name: "text/plain", contentType: "text/plain", body: `{"link_with":"tok"}`, status: 415, code: fault.UnsupportedMediaType},
		{name: "no content type", body: `{"link_with":"tok"}`, status: 415, code: fault.UnsupportedMediaType},
		{name: "json prefix only", contentType: "application/jsonx", body: `{"link_with":"tok"}`, status: 415, code: fault.UnsupportedMediaType},
		{name: "malformed content type", contentType: "application/json; =", body: `{"link_with":"tok"}`, status: 415, code: fault.UnsupportedMediaType},
		{name: "one byte over 64 KiB", contentType: "application/json", body: linkBody(maxBody + 1), status: 413, code: fault.BodyTooLarge},
		{name: "over 64 KiB of trailing space", contentType: "application/json", body: `{"link_with":"tok"}` + strings.Repeat(" ", maxBody), status: 413, code: fault.BodyTooLarge},
		{name: "empty", contentType: "application/json", body: "", status: 400, code: fault.InvalidBody},
		{name: "truncated", contentType: "application/json", body: `{"link_with":`, status: 400, code: fault.InvalidBody},
		{name: "syntax error", contentType: "application/json", body: `{"link_with" "tok"}`, status: 400, code: fault.InvalidBody},
		{name: "unknown member", contentType: "application/json", body: `{"link_with":"tok","extra":1}`, status: 400, code: fault.InvalidBody,
			fields: []api.FieldError{{Field: "extra", Message: "unknown member"}}},
		{name: "wrong type", contentType: "application/json", body: `{"link_with":5}`, status: 400, code: fault.InvalidBody,
			fields: []api.FieldError{{Field: "link_with", Message: "must be a string"}}},
		{name: "array", contentType: "application/json", body: `["tok"]`, status: 400, code: fault.InvalidBody},
		{name: "string", contentType: "application/json", body: `"tok"`, status: 400, code: fault.InvalidBody},
		{name: "trailing object", contentType: "application/json", body: `{"link_with":"tok"} {}`, status: 400, code: fault.InvalidBody},
		{name: "trailing garbage", contentType: "application/json", body: `{"link_with":"tok"} x`, status: 400, code: fault.InvalidBody},
		{name: "link_with missing", contentType: "application/json", body: `{}`, status: 400, code: fault.InvalidBody,
			fields: []api.FieldError{{Field: "link_with", Message: "required: the ID token of the secondary login"}}},
		{name: "duplicate member", contentType: "application/json", body: `{"link_with":"tok","link_with":"other"}`, status: 400, code: fault.InvalidBody,
			fields: []api.FieldError{{Field: "link_with", Message: "duplicate member"}}},
		{name: "duplicate member, escaped", contentType: "application/json", body: `{"link_with":"tok","link\u005fwith":"tok"}`, status: 400, code: fault.InvalidBody,
			fields: []api.FieldError{{Field: "link_with", Message: "duplicate member"}}},
		{name: "invalid UTF-8", contentType: "application/json", body: "{\"link_with\":\"tok\xff\"}", status: 400, code: fault.InvalidBody},
		{name: "lone surrogate", contentType: "application/json", body: `{"link_with":"tok\ud800"}`, status: 400, code: fault.InvalidBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.ids.resetCalls()
			header := map[string]string{"Authorization": s.bearer(t)}
			if tt.contentType != "" {
				header["Content-Type"] = tt.contentType
			}
			r := s.do(t, http.MethodPost, "/me/identities", strings.NewReader(tt.body), header)
			if tt.code == "" {
				if r.status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
				if calls := s.ids.callLog(); len(calls) != 1 || !strings.HasPrefix(calls[0], "Link auth0|alice ") {
					t.Errorf("identity service calls %q, want one Link of auth0|alice", calls)
				}
				return
			}
			b := wantProblem(t, r, tt.status, tt.code)
			if diff := cmp.Diff(tt.fields, b.Errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if calls := s.ids.callLog(); len(calls) != 0 {
				t.Errorf("identity service called for a bad body: %q", calls)
			}
			if strings.Contains(string(r.body), "api.") {
				t.Errorf("problem names a Go type: %s", r.body)
			}
			if tt.status == 415 && r.header.Get("Accept-Post") != "application/json" {
				t.Errorf("Accept-Post = %q, want application/json", r.header.Get("Accept-Post"))
			}
		})
	}
}

func TestUnknownRoutesAndMethodsAreProblems(t *testing.T) {
	for _, frontend := range []bool{false, true} {
		t.Run(fmt.Sprintf("frontend=%v", frontend), func(t *testing.T) {
			opts := serverOptions{}
			if frontend {
				opts.frontend = fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}}
			}
			s := newTestServer(t, opts)
			auth := map[string]string{"Authorization": s.bearer(t)}
			wantProblem(t, s.do(t, http.MethodGet, "/nope", nil, nil), 404, fault.RouteNotFound)
			wantProblem(t, s.do(t, http.MethodGet, "/me/identities/github/4242/extra", nil, auth), 404, fault.RouteNotFound)
			wantProblem(t, s.do(t, http.MethodPut, "/me/identities", nil, auth), 405, fault.MethodNotAllowed)
			wantProblem(t, s.do(t, http.MethodPost, "/healthz", nil, nil), 405, fault.MethodNotAllowed)
		})
	}
}

func TestRequestID(t *testing.T) {
	s := newTestServer(t, serverOptions{})
	generated := regexp.MustCompile(`^[0-9a-f]{16}$`)
	tests := []struct {
		name, incoming string
		kept           bool
	}{
		{"none", "", false},
		{"sane", "abc-DEF_0.9", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"space", "abc def", false},
		{"markup", "<script>", false},
		{"colon", "a:b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := map[string]string{}
			if tt.incoming != "" {
				header["X-Request-Id"] = tt.incoming
			}
			r := s.do(t, http.MethodGet, "/nope", nil, header)
			b := wantProblem(t, r, 404, fault.RouteNotFound)
			switch {
			case tt.kept && deref(b.RequestID) != tt.incoming:
				t.Errorf("request id %q, want the incoming %q kept", deref(b.RequestID), tt.incoming)
			case !tt.kept && !generated.MatchString(deref(b.RequestID)):
				t.Errorf("request id %q, want a fresh 16-hex-digit id", deref(b.RequestID))
			}
		})
	}
}

func TestPanicBecomesProblem(t *testing.T) {
	s := newTestServer(t, serverOptions{})
	s.ids.set(func(f *fakeIdentities) { f.panic = "kaboom: secret detail" })
	r := s.do(t, http.MethodGet, "/me/identities", nil, map[string]string{"Authorization": s.bearer(t), "X-Request-Id": "panic-1"})
	b := wantProblem(t, r, 500, fault.Internal)
	if deref(b.RequestID) != "panic-1" {
		t.Errorf("request_id %q, want panic-1", deref(b.RequestID))
	}
	if strings.Contains(string(r.body), "kaboom") {
		t.Errorf("body reveals the panic: %s", r.body)
	}
	// The server survives.
	s.ids.set(func(f *fakeIdentities) { f.panic = nil })
	if r := s.do(t, http.MethodGet, "/me/identities", nil, map[string]string{"Authorization": s.bearer(t)}); r.status != 200 {
		t.Errorf("after a panic: status %d", r.status)
	}
}

func TestUnauthenticated(t *testing.T) {
	s := newTestServer(t, serverOptions{frontend: fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}}})
	r := s.do(t, http.MethodGet, "/me/identities", nil, nil)
	b := wantProblem(t, r, 401, fault.InvalidToken)
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="linkbff"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	// Both ways in: a bearer token, or the session cookie of a sign-in.
	if d := deref(b.Detail); !strings.Contains(d, "Bearer") || !strings.Contains(d, "session cookie") || !strings.Contains(d, "/auth/login") {
		t.Errorf("detail %q does not name both a bearer token and the session cookie", d)
	}
	r = s.do(t, http.MethodGet, "/me/identities", nil, map[string]string{"Authorization": "Bearer not-a-jwt"})
	wantProblem(t, r, 401, fault.InvalidToken)
	if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	if calls := s.ids.callLog(); len(calls) != 0 {
		t.Errorf("identity service called: %q", calls)
	}
}

func TestIdentityHandlers(t *testing.T) {
	s := newTestServer(t, serverOptions{})
	s.ids.view = identity.View{UserID: "auth0|alice", Identities: []identity.Identity{
		{Provider: "auth0", UserID: "alice", Connection: "Username-Password-Authentication", Primary: true,
			Profile: identity.Profile{Email: "alice@example.com", EmailVerified: true, Name: "Alice"}},
		{Provider: "oauth2", UserID: "conn|id", Connection: "conn", IsSocial: true},
	}}
	wantList := map[string]any{
		"user_id": "auth0|alice",
		"identities": []any{
			map[string]any{"provider": "auth0", "user_id": "alice", "connection": "Username-Password-Authentication", "is_social": false, "primary": true,
				"profile": map[string]any{"email": "alice@example.com", "email_verified": true, "name": "Alice"}},
			map[string]any{"provider": "oauth2", "user_id": "conn|id", "connection": "conn", "is_social": true, "primary": false,
				"profile": map[string]any{"email_verified": false}},
		},
	}
	auth := map[string]string{"Authorization": s.bearer(t)}
	tests := []struct {
		name, method, path string
		status             int
		want               any
		call               string
	}{
		{"list", http.MethodGet, "/me/identities", 200, wantList, "List auth0|alice"},
		{"nonce", http.MethodPost, "/me/identities/nonce", 201, map[string]any{"nonce": "nonce-1", "expires_in": 300.0}, "NewIntent auth0|alice"},
		{"unlink", http.MethodDelete, "/me/identities/oauth2/conn%7Cid", 200, wantList, "Unlink auth0|alice oauth2 conn|id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.ids.resetCalls()
			r := s.do(t, tt.method, tt.path, nil, auth)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var got any
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{tt.call}, s.ids.callLog()); diff != "" {
				t.Errorf("identity service calls (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("service error", func(t *testing.T) {
		s.ids.set(func(f *fakeIdentities) {
			f.err = fault.New(fault.AlreadyLinked, "same account")
		})
		defer s.ids.set(func(f *fakeIdentities) { f.err = nil })
		wantProblem(t, s.do(t, http.MethodGet, "/me/identities", nil, auth), 409, fault.AlreadyLinked)
	})
	t.Run("hidden cause", func(t *testing.T) {
		s.ids.set(func(f *fakeIdentities) { f.err = errors.New("redis at 10.1.2.3 is down") })
		defer s.ids.set(func(f *fakeIdentities) { f.err = nil })
		r := s.do(t, http.MethodGet, "/me/identities", nil, auth)
		wantProblem(t, r, 500, fault.Internal)
		if strings.Contains(string(r.body), "10.1.2.3") {
			t.Errorf("body reveals the cause: %s", r.body)
		}
	})
}

func TestOpenAPISpec(t *testing.T) {
	s := newTestServer(t, serverOptions{})
	r := s.do(t, http.MethodGet, "/openapi.yaml", nil, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/yaml" || string(r.body) != openAPIDoc {
		t.Errorf("GET /openapi.yaml = %d %q %q, want 200 application/yaml and the document", r.status, r.header.Get("Content-Type"), r.body)
	}
}

func TestClientConfig(t *testing.T) {
	tests := []struct {
		name, audience string
		want           map[string]any
	}{
		{"with audience", apiAudience, map[string]any{
			"domain": tenantURL, "client_id": clientID, "issuer": tenantURL + "/", "configuration_base_url": tenantURL,
			"jwks_uri": tenantURL + "/.well-known/jwks.json", "audience": apiAudience, "connections": []any{},
		}},
		{"without audience", "", map[string]any{
			"domain": tenantURL, "client_id": clientID, "issuer": tenantURL + "/", "configuration_base_url": tenantURL,
			"jwks_uri": tenantURL + "/.well-known/jwks.json", "connections": []any{},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, serverOptions{audience: tt.audience})
			r := s.do(t, http.MethodGet, "/config.json", nil, nil)
			if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("GET /config.json = %d %q", r.status, r.header.Get("Content-Type"))
			}
			var got map[string]any
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	var auth0Err, redisErr error
	s := newTestServer(t, serverOptions{ready: map[string]func(context.Context) error{
		"auth0": func(context.Context) error { return auth0Err },
		"redis": func(context.Context) error { return redisErr },
	}})
	check := func(path string, status int, want map[string]any) {
		t.Helper()
		r := s.do(t, http.MethodGet, path, nil, nil)
		var got map[string]any
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatalf("%s body %q: %v", path, r.body, err)
		}
		if r.status != status {
			t.Errorf("GET %s: status %d, want %d", path, r.status, status)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GET %s (-want +got):\n%s", path, diff)
		}
	}
	check("/healthz", 200, map[string]any{"status": "ok"})
	check("/readyz", 200, map[string]any{"status": "ok", "checks": map[string]any{"auth0": "ok", "redis": "ok"}})
	auth0Err = errors.New("JWKS unreachable")
	check("/readyz", 503, map[string]any{"status": "unavailable", "checks": map[string]any{"auth0": "unreachable", "redis": "ok"}})
	auth0Err, redisErr = nil, errors.New("connection refused")
	check("/readyz", 503, map[string]any{"status": "unavailable", "checks": map[string]any{"auth0": "ok", "redis": "unreachable"}})
	// A check may say in a word what is wrong.
	redisErr = server.NotReady("draining", errors.New("SIGTERM"))
	check("/readyz", 503, map[string]any{"status": "unavailable", "checks": map[string]any{"auth0": "ok", "redis": "draining"}})
	check("/healthz", 200, map[string]any{"status": "ok"})
}

func TestFrontend(t *testing.T) {
	const index = "<!doctype html><title>linkbff</title>"
	s := newTestServer(t, serverOptions{frontend: fstest.MapFS{
		"index.html": {Data: []byte(index)},
		"app.js":     {Data: []byte("console.log(1)")},
	}})
	for _, path := range []string{"/", "/app.js"} {
		r := s.do(t, http.MethodGet, path, nil, nil)
		if r.status != 200 {
			t.Fatalf("GET %s: status %d", path, r.status)
		}
		csp := r.header.Get("Content-Security-Policy")
		for _, directive := range []string{"default-src 'self'", "script-src 'self' " + tenantURL, "connect-src 'self' " + tenantURL, "frame-ancestors 'none'"} {
			if !strings.Contains(csp, directive) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", path, csp, directive)
			}
		}
	}
	r := s.do(t, http.MethodGet, "/", nil, nil)
	if string(r.body) != index || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("GET / = %q (%s), want index.html", r.body, r.header.Get("Content-Type"))
	}
	wantProblem(t, s.do(t, http.MethodGet, "/missing.js", nil, nil), 404, fault.RouteNotFound)
	wantProblem(t, s.do(t, http.MethodPost, "/", strings.NewReader("x"), nil), 404, fault.RouteNotFound)
}
