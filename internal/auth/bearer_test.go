package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/problem"
)

const apiAudience = "https://api.example/linkbff"

// bearerRecorder runs requests through Bearer.Middleware and records what the next
// handler saw and what OnError got.
type bearerRecorder struct {
	bearer *auth.Bearer

	nextCalled bool
	principal  *auth.Principal
	errs       []error
}

func newBearerRecorder(t *testing.T, srv *jwksServer) *bearerRecorder {
	t.Helper()
	rec := &bearerRecorder{}
	b, err := auth.NewBearer(auth.BearerConfig{
		Issuer:   srv.issuer(),
		Audience: apiAudience,
		Keys:     newKeySource(t, srv, newFakeClock()),
		OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
			rec.errs = append(rec.errs, err)
			problem.Write(w, "", err)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec.bearer = b
	return rec
}

func (rec *bearerRecorder) serve(authorization string) *httptest.ResponseRecorder {
	rec.nextCalled, rec.principal, rec.errs = false, nil, nil
	h := rec.bearer.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.nextCalled = true
		if p, ok := auth.FromContext(r.Context()); ok {
			rec.principal = &p
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	req := httptest.NewRequest(http.MethodGet, "/me/identities", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestBearerMiddlewareWithoutCredentialsPassesThrough(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	rec := newBearerRecorder(t, srv)
	w := rec.serve("")
	if !rec.nextCalled || rec.principal != nil || len(rec.errs) != 0 {
		t.Errorf("next called %v, principal %+v, errors %v; want next called without a principal", rec.nextCalled, rec.principal, rec.errs)
	}
	if w.Code != http.StatusNoContent {
		t.Errorf("status %d, want the next handler's 204", w.Code)
	}
	if n := srv.requests.Load(); n != 0 {
		t.Errorf("%d JWKS requests for a request without a token, want 0", n)
	}
}

func TestBearerMiddlewareValidToken(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	rec := newBearerRecorder(t, srv)
	now := time.Now() // the validator reads the real clock
	tok := sign(t, jose.RS256, tenantKey(), "k1", map[string]any{
		"iss":   srv.issuer(),
		"sub":   "auth0|alice",
		"aud":   []string{apiAudience, srv.issuer() + "userinfo"},
		"azp":   "spa-client",
		"scope": "openid  profile read:identities",
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
	})
	rec.serve("Bearer " + tok)
	if len(rec.errs) != 0 {
		t.Fatalf("OnError called: %v", rec.errs)
	}
	want := &auth.Principal{Subject: "auth0|alice", ClientID: "spa-client", Scopes: []string{"openid", "profile", "read:identities"}, Method: "bearer"}
	if diff := cmp.Diff(want, rec.principal); diff != "" {
		t.Errorf("principal (-want +got):\n%s", diff)
	}
}

func TestBearerMiddlewareRefusesBadTokens(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	rec := newBearerRecorder(t, srv)
	now := time.Now()
	claims := func(over map[string]any) map[string]any {
		return with(map[string]any{
			"iss": srv.issuer(), "sub": "auth0|alice", "aud": apiAudience, "azp": "spa-client",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}, over)
	}
	rs256 := func(over map[string]any) string { return sign(t, jose.RS256, tenantKey(), "k1", claims(over)) }
	tests := []struct {
		name          string
		authorization string
	}{
		{"basic scheme", "Basic YWxpY2U6cHc="},
		{"bearer without token", "Bearer"},
		{"bearer with two parts", "Bearer a b"},
		{"not a JWT", "Bearer not-a-jwt"},
		{"expired", "Bearer " + rs256(map[string]any{"exp": now.Add(-time.Hour).Unix()})},
		{"missing exp", "Bearer " + rs256(map[string]any{"exp": nil})},
		{"missing sub", "Bearer " + rs256(map[string]any{"sub": nil})},
		{"wrong issuer", "Bearer " + rs256(map[string]any{"iss": "https://evil.example/"})},
		{"wrong audience", "Bearer " + rs256(map[string]any{"aud": "https://other.example/api"})},
		{"HS256", "Bearer " + sign(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), "k1", claims(nil))},
		{"alg none", "Bearer " + unsigned(t, "k1", claims(nil))},
		{"unknown kid", "Bearer " + sign(t, jose.RS256, foreignKey(), "k9", claims(nil))},
		{"no kid", "Bearer " + sign(t, jose.RS256, tenantKey(), "", claims(nil))},
		{"RS384", "Bearer " + sign(t, jose.RS384, tenantKey(), "k1", claims(nil))},
		{"not yet valid", "Bearer " + rs256(map[string]any{"nbf": now.Add(time.Hour).Unix()})},
		{"bad signature", "Bearer " + sign(t, jose.RS256, foreignKey(), "k1", claims(nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := rec.serve(tt.authorization)
			if rec.nextCalled {
				t.Errorf("next handler called (principal %+v)", rec.principal)
			}
			if len(rec.errs) != 1 {
				t.Fatalf("OnError called %d times, want 1", len(rec.errs))
			}
			var p *problem.Error
			if !errors.As(rec.errs[0], &p) {
				t.Fatalf("OnError got %T (%v), want a *problem.Error", rec.errs[0], rec.errs[0])
			}
			if p.Status != http.StatusUnauthorized || p.Code != problem.InvalidToken {
				t.Errorf("problem %d %s, want 401 invalid_token", p.Status, p.Code)
			}
			if got := p.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") || !strings.Contains(got, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge with error=\"invalid_token\"", got)
			}
			if w.Code != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", w.Code)
			}
		})
	}
}
