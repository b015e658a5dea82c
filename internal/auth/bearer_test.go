package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
	"github.com/linkbff/linkbff/internal/testkit"
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
	return newBearerRecorderWith(t, srv, newKeySource(t, srv, testkit.NewClock()), 0)
}

// newBearerRecorderWith builds the Bearer over keys; cacheBytes is BearerConfig's.
func newBearerRecorderWith(t *testing.T, srv *jwksServer, keys *auth.KeySource, cacheBytes int) *bearerRecorder {
	t.Helper()
	return newBearerRecorderOf(t, auth.BearerConfig{Issuer: srv.issuer(), Audience: apiAudience, Keys: keys, CacheBytes: cacheBytes})
}

// newBearerRecorderOf builds the Bearer of cfg, whose errors it records and answers.
func newBearerRecorderOf(t *testing.T, cfg auth.BearerConfig) *bearerRecorder {
	t.Helper()
	rec := &bearerRecorder{}
	cfg.OnError = func(w http.ResponseWriter, _ *http.Request, err error) {
		rec.errs = append(rec.errs, err)
		problem.Write(w, "", err)
	}
	b, err := auth.NewBearer(cfg)
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
	tok := testkit.SignJWT(t, jose.RS256, tenantKey(), "k1", map[string]any{
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
		return testkit.WithClaims(map[string]any{
			"iss": srv.issuer(), "sub": "auth0|alice", "aud": apiAudience, "azp": "spa-client",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}, over)
	}
	rs256 := func(over map[string]any) string {
		return testkit.SignJWT(t, jose.RS256, tenantKey(), "k1", claims(over))
	}
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
		{"HS256", "Bearer " + testkit.SignJWT(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), "k1", claims(nil))},
		{"alg none", "Bearer " + unsigned(t, "k1", claims(nil))},
		{"unknown kid", "Bearer " + testkit.SignJWT(t, jose.RS256, foreignKey(), "k9", claims(nil))},
		{"no kid", "Bearer " + testkit.SignJWT(t, jose.RS256, tenantKey(), "", claims(nil))},
		{"RS384", "Bearer " + testkit.SignJWT(t, jose.RS384, tenantKey(), "k1", claims(nil))},
		{"not yet valid", "Bearer " + rs256(map[string]any{"nbf": now.Add(time.Hour).Unix()})},
		{"bad signature", "Bearer " + testkit.SignJWT(t, jose.RS256, foreignKey(), "k1", claims(nil))},
		// A machine-to-machine token for the API acts for an application, not a user.
		{"client credentials", "Bearer " + rs256(map[string]any{"gty": "client-credentials", "sub": "m2m-client@clients", "azp": "m2m-client"})},
		{"client credentials among grants", "Bearer " + rs256(map[string]any{"gty": []string{"refresh_token", "client-credentials"}})},
		{"missing iat", "Bearer " + rs256(map[string]any{"iat": nil})},
		{"sub not provider|id", "Bearer " + rs256(map[string]any{"sub": "alice"})},
		{"sub with path syntax", "Bearer " + rs256(map[string]any{"sub": "auth0|../bob"})},
		{"no client_id or azp", "Bearer " + rs256(map[string]any{"azp": nil})},
		{"client_id and azp differ", "Bearer " + rs256(map[string]any{"client_id": "other-client"})},
		{"JSON serialization", "Bearer " + func() string {
			p := strings.Split(rs256(nil), ".")
			return `{"protected":"` + p[0] + `","payload":"` + p[1] + `","signature":"` + p[2] + `"}`
		}()},
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
			if p.Status() != http.StatusUnauthorized || p.Fault.Code != fault.InvalidToken {
				t.Errorf("problem %d %s, want 401 invalid_token", p.Status(), p.Fault.Code)
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

func TestBearerMiddlewareAcceptsUserGrantTypes(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	rec := newBearerRecorder(t, srv)
	now := time.Now()
	for _, gty := range []any{"password", []string{"refresh_token", "password"}} {
		rec.serve("Bearer " + testkit.SignJWT(t, jose.RS256, tenantKey(), "k1", map[string]any{
			"iss": srv.issuer(), "sub": "auth0|alice", "aud": apiAudience, "azp": "spa-client", "gty": gty,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}))
		if len(rec.errs) != 0 || rec.principal == nil {
			t.Errorf("gty %v: errors %v, principal %+v; want the token accepted", gty, rec.errs, rec.principal)
		}
	}
}

// validAccessToken signs a valid access token of the tenant key k1 for alice.
func validAccessToken(t *testing.T, srv *jwksServer) string {
	t.Helper()
	now := time.Now() // the validator reads the real clock
	return testkit.SignJWT(t, jose.RS256, tenantKey(), "k1", map[string]any{
		"iss": srv.issuer(), "sub": "auth0|alice", "aud": apiAudience, "azp": "spa-client",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
}

// While Auth0's signing keys cannot be fetched (and never were), a token cannot be
// checked: that is a 502 to retry, not a 401 telling the client its token is bad, and
// the JWKS endpoint is asked once per back-off period, not once per request.
func TestBearerMiddlewareKeysUnavailable(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	srv.setFailure("html")
	clock := testkit.NewClock()
	rec := newBearerRecorderWith(t, srv, newKeySource(t, srv, clock), 0)
	tok := validAccessToken(t, srv)
	for i := range 20 {
		w := rec.serve("Bearer " + tok)
		if rec.nextCalled {
			t.Fatalf("request %d: next handler called", i+1)
		}
		if len(rec.errs) != 1 {
			t.Fatalf("request %d: OnError called %d times, want 1", i+1, len(rec.errs))
		}
		p, ok := errors.AsType[*fault.Error](rec.errs[0])
		if !ok {
			t.Fatalf("request %d: OnError got %T (%v), want a *fault.Error", i+1, rec.errs[0], rec.errs[0])
		}
		if w.Code != http.StatusBadGateway || p.Code != fault.UpstreamUnavailable {
			t.Fatalf("request %d: %d %s, want 502 upstream_unavailable", i+1, w.Code, p.Code)
		}
		if p.Detail != "Auth0's signing keys cannot be fetched." {
			t.Errorf("request %d: detail %q", i+1, p.Detail)
		}
		if got := w.Header().Get("Retry-After"); got != "5" {
			t.Errorf("request %d: Retry-After = %q, want 5", i+1, got)
		}
		if got := w.Header().Get("WWW-Authenticate"); got != "" {
			t.Errorf("request %d: WWW-Authenticate = %q; the token was not found invalid", i+1, got)
		}
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("%d JWKS requests for 20 requests within the back-off, want 1", got)
	}

	clock.Advance(keyFetchBackoff)
	srv.setFailure("")
	rec.serve("Bearer " + tok)
	if len(rec.errs) != 0 || rec.principal == nil || rec.principal.Subject != "auth0|alice" {
		t.Fatalf("after the back-off with the JWKS back: errors %v, principal %+v", rec.errs, rec.principal)
	}
	if got := srv.requests.Load(); got != 2 {
		t.Errorf("%d JWKS requests, want 2", got)
	}
}

// Once keys were fetched, a failing JWKS endpoint does not lock users out: when the
// provider's copy expires and its refresh fails, tokens keep validating against the
// last good set.
func TestBearerMiddlewareKeepsValidatingWithLastGoodKeys(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1")) // outside the bubble: it listens
	synctest.Test(t, func(t *testing.T) {
		// No token cache: every request reaches the keys.
		rec := newBearerRecorderWith(t, srv, newExpiringKeySource(t, srv, testkit.NewClock()), -1)
		tok := validAccessToken(t, srv)
		serveOK := func() {
			t.Helper()
			w := rec.serve("Bearer " + tok)
			if w.Code != http.StatusNoContent || rec.principal == nil {
				t.Fatalf("after %d JWKS requests: status %d, errors %v; want the token accepted", srv.requests.Load(), w.Code, rec.errs)
			}
		}
		serveOK()
		srv.setFailure("json")
		time.Sleep(time.Millisecond) // the provider's copy expires (bubble time: instant)
		// See TestKeySourceServesLastGoodSetWhenTheProviderLosesIt: request 2 is the
		// provider's failed background refresh, request 3 its synchronous fetch after
		// it dropped its copy.
		serveOK()
		synctest.Wait()
		for range 5 {
			serveOK()
		}
		if got := srv.requests.Load(); got != 3 {
			t.Errorf("%d JWKS requests, want 3 (none within the back-off)", got)
		}
	})
}

// A token seen before is answered from the cache, in any header form the extractor
// accepts, with the principal its verification made; a token differing in any byte
// is verified on its own and refused.
func TestBearerMiddlewareCachedToken(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	rec := newBearerRecorder(t, srv)
	now := time.Now() // the validator reads the real clock
	tok := testkit.SignJWT(t, jose.RS256, tenantKey(), "k1", map[string]any{
		"iss": srv.issuer(), "sub": "auth0|alice", "aud": apiAudience, "azp": "spa-client",
		"scope": "openid read:identities", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	want := &auth.Principal{Subject: "auth0|alice", ClientID: "spa-client", Scopes: []string{"openid", "read:identities"}, Method: "bearer"}
	for _, header := range []string{"Bearer " + tok, "Bearer " + tok, "bearer " + tok, "Bearer  " + tok + " "} {
		w := rec.serve(header)
		if w.Code != http.StatusNoContent || len(rec.errs) != 0 {
			t.Fatalf("%q: status %d, errors %v", header, w.Code, rec.errs)
		}
		if diff := cmp.Diff(want, rec.principal); diff != "" {
			t.Errorf("%q: principal (-want +got):\n%s", header, diff)
		}
	}
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	forged := tok[:len(tok)-len(sig)] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, sig[:1]) + sig[1:]
	if w := rec.serve("Bearer " + forged); w.Code != http.StatusUnauthorized || rec.nextCalled {
		t.Errorf("a token differing from a cached one in its signature: status %d, next called %v", w.Code, rec.nextCalled)
	}
}

// With a custom domain, tokens issued under it and under the canonical domain are
// both accepted, each checked against its own issuer; any other issuer is refused.
func TestBearerMiddlewareAcceptsEachConfiguredIssuer(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	rec := newBearerRecorderOf(t, auth.BearerConfig{
		Issuer:       srv.issuer(),
		ExtraIssuers: []string{customDomainIssuer, srv.issuer()},
		Audience:     apiAudience,
		Keys:         newKeySource(t, srv, testkit.NewClock()),
	})
	now := time.Now()
	for _, tt := range []struct {
		iss  string
		want int
	}{
		{srv.issuer(), http.StatusNoContent},
		{customDomainIssuer, http.StatusNoContent},
		{"https://evil.example/", http.StatusUnauthorized},
		{"", http.StatusUnauthorized},
	} {
		claims := map[string]any{"sub": "auth0|alice", "aud": apiAudience, "azp": "spa-client", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if tt.iss != "" {
			claims["iss"] = tt.iss
		}
		w := rec.serve("Bearer " + testkit.SignJWT(t, jose.RS256, tenantKey(), "k1", claims))
		if w.Code != tt.want {
			t.Errorf("iss %q: status %d, want %d (errors %v)", tt.iss, w.Code, tt.want, rec.errs)
		}
	}
}

// AllowedClients restricts the applications whose tokens are accepted, by client_id
// (RFC 9068) or, without one, azp (Auth0's default profile).
func TestBearerMiddlewareAllowedClients(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	rec := newBearerRecorderOf(t, auth.BearerConfig{
		Issuer: srv.issuer(), Audience: apiAudience, Keys: newKeySource(t, srv, testkit.NewClock()),
		AllowedClients: []string{"mobile-app", "spa-client"},
	})
	now := time.Now()
	for _, tt := range []struct {
		name   string
		over   map[string]any
		client string // "" refused
	}{
		{"azp allowed", nil, "spa-client"},
		{"client_id allowed", map[string]any{"azp": nil, "client_id": "mobile-app"}, "mobile-app"},
		{"client_id and azp allowed and equal", map[string]any{"azp": "mobile-app", "client_id": "mobile-app"}, "mobile-app"},
		{"azp not allowed", map[string]any{"azp": "other-app"}, ""},
		{"client_id not allowed", map[string]any{"azp": nil, "client_id": "other-app"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := testkit.SignJWT(t, jose.RS256, tenantKey(), "k1", testkit.WithClaims(map[string]any{
				"iss": srv.issuer(), "sub": "auth0|alice", "aud": apiAudience, "azp": "spa-client",
				"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			}, tt.over))
			w := rec.serve("Bearer " + tok)
			if tt.client == "" {
				if w.Code != http.StatusUnauthorized || rec.principal != nil {
					t.Errorf("status %d, principal %+v; want 401", w.Code, rec.principal)
				}
				return
			}
			if rec.principal == nil || rec.principal.ClientID != tt.client {
				t.Errorf("principal %+v (errors %v), want client %s", rec.principal, rec.errs, tt.client)
			}
		})
	}
}

// slotContext is a request's own context with an empty PrincipalSlot, as linkbff's
// server gives every request.
type slotContext struct {
	context.Context
	slot auth.PrincipalSlot
}

func (c *slotContext) Value(k any) any {
	if auth.IsPrincipalKey(k) {
		return &c.slot
	}
	return c.Context.Value(k)
}

// In a context with a PrincipalSlot, the principal goes into the slot and the
// request is not copied, on the cached path and the full one; a refused token
// leaves the slot empty; without a slot, the request is copied as before.
func TestBearerMiddlewareFillsThePrincipalSlot(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	rec := newBearerRecorder(t, srv)
	now := time.Now()
	tok := testkit.SignJWT(t, jose.RS256, tenantKey(), "k1", map[string]any{
		"iss": srv.issuer(), "sub": "auth0|alice", "aud": apiAudience, "azp": "spa-client",
		"scope": "read:identities", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	for _, tt := range []struct {
		name          string
		authorization string
		slot          bool
		wantSubject   string
	}{
		{"first request, slot", "Bearer " + tok, true, "auth0|alice"},
		{"cached, slot", "Bearer " + tok, true, "auth0|alice"},
		{"cached, no slot", "Bearer " + tok, false, "auth0|alice"},
		{"other spelling of the header, slot", "bearer  " + tok, true, "auth0|alice"},
		{"refused, slot", "Bearer " + tok[:len(tok)-2] + "AA", true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := &slotContext{Context: context.Background()}
			req := httptest.NewRequest(http.MethodGet, "/me/identities", nil)
			if tt.slot {
				req = req.WithContext(ctx)
			}
			req.Header.Set("Authorization", tt.authorization)
			var inner *http.Request
			h := rec.bearer.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner = r }))
			h.ServeHTTP(httptest.NewRecorder(), req)
			p, ok := auth.FromContext(ctx)
			if tt.wantSubject == "" {
				if inner != nil || ok {
					t.Fatalf("refused token: next called %v, slot holds %+v", inner != nil, p)
				}
				return
			}
			if inner == nil {
				t.Fatalf("next not called: %v", rec.errs)
			}
			got, _ := auth.FromContext(inner.Context())
			if got.Subject != tt.wantSubject {
				t.Errorf("next sees principal %+v, want %s", got, tt.wantSubject)
			}
			if tt.slot && (!ok || p.Subject != tt.wantSubject) {
				t.Errorf("slot holds %+v, %v; want %s", p, ok, tt.wantSubject)
			}
			// go-jwt-middleware copies the request itself on the full path and for
			// the other header spelling; the cached path copies it only without a slot.
			if cached := tt.name == "cached, slot"; cached && inner != req {
				t.Error("the request was copied although it has a slot")
			}
			if !tt.slot && inner == req {
				t.Error("no slot, yet the request was not copied: where is the principal?")
			}
		})
	}
}
