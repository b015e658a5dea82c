package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/testkit"
)

// customDomainIssuer is the tenant's custom domain in these tests: its tokens are as
// valid as the canonical domain's.
const customDomainIssuer = "https://login.example.com/"

func TestIDTokenVerifier(t *testing.T) {
	clock := testkit.NewClock()
	now := clock.Now()
	base := func(iss string) map[string]any {
		return map[string]any{
			"iss":            iss,
			"sub":            "google-oauth2|1077",
			"aud":            "client-a",
			"iat":            now.Add(-10 * time.Second).Unix(),
			"exp":            now.Add(time.Hour).Unix(),
			"nonce":          "n-1",
			"email":          "alice@example.com",
			"email_verified": true,
		}
	}
	valid := account.IDToken{
		Subject:       "google-oauth2|1077",
		Audience:      "client-a",
		Nonce:         "n-1",
		Email:         "alice@example.com",
		EmailVerified: true,
		IssuedAt:      now.Add(-10 * time.Second),
	}
	rs256 := func(t *testing.T, claims map[string]any) string {
		return testkit.SignJWT(t, jose.RS256, tenantKey(), "k1", claims)
	}
	tests := []struct {
		name  string
		over  map[string]any // claims to change (nil value: remove)
		token func(t *testing.T, claims map[string]any) string
		iss   func(issuer string) string // the iss claim, from the tenant's issuer
		want  *account.IDToken           // nil: refused with ErrInvalidIDToken
	}{
		{name: "valid", want: &valid},
		{name: "auth_time parsed", over: map[string]any{"auth_time": now.Add(-time.Minute).Unix()}, want: func() *account.IDToken {
			v := valid
			v.AuthTime = time.Unix(now.Add(-time.Minute).Unix(), 0)
			return &v
		}()},
		{name: "email_verified absent is false", over: map[string]any{"email_verified": nil}, want: func() *account.IDToken {
			v := valid
			v.EmailVerified = false
			return &v
		}()},
		{name: "email_verified false", over: map[string]any{"email_verified": false}, want: func() *account.IDToken {
			v := valid
			v.EmailVerified = false
			return &v
		}()},
		{name: "second allowed audience", over: map[string]any{"aud": "client-b"}, want: func() *account.IDToken {
			v := valid
			v.Audience = "client-b"
			return &v
		}()},
		{name: "aud array of allowed clients with azp: azp is reported", over: map[string]any{"aud": []string{"client-a", "client-b"}, "azp": "client-b"}, want: func() *account.IDToken {
			v := valid
			v.Audience = "client-b"
			return &v
		}()},
		{name: "aud array with an untrusted audience", over: map[string]any{"aud": []string{"other", "client-b", "client-a"}, "azp": "client-a"}},
		{name: "aud array without azp", over: map[string]any{"aud": []string{"client-a", "client-b"}}},
		{name: "azp not among the audiences", over: map[string]any{"azp": "client-b"}},
		{name: "sub not provider|id", over: map[string]any{"sub": "1077"}},
		{name: "auth_time in the future", over: map[string]any{"auth_time": now.Add(time.Minute).Unix()}},
		{name: "expired within leeway", over: map[string]any{"exp": now.Add(-29 * time.Second).Unix()}, want: &valid},
		{name: "large but within the size limit", over: map[string]any{"pad": strings.Repeat("x", 10<<10)}, want: &valid},

		{name: "HS256", token: func(t *testing.T, c map[string]any) string {
			return testkit.SignJWT(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), "k1", c)
		}},
		{name: "RS384 with the tenant key", token: func(t *testing.T, c map[string]any) string {
			return testkit.SignJWT(t, jose.RS384, tenantKey(), "k1", c)
		}},
		{name: "alg none", token: func(t *testing.T, c map[string]any) string { return unsigned(t, "k1", c) }},
		{name: "not a JWT", token: func(*testing.T, map[string]any) string { return "a.b.c" }},
		{name: "no kid", token: func(t *testing.T, c map[string]any) string { return testkit.SignJWT(t, jose.RS256, tenantKey(), "", c) }},
		{name: "unknown kid", token: func(t *testing.T, c map[string]any) string {
			return testkit.SignJWT(t, jose.RS256, foreignKey(), "k9", c)
		}},
		{name: "bad signature (known kid, foreign key)", token: func(t *testing.T, c map[string]any) string {
			return testkit.SignJWT(t, jose.RS256, foreignKey(), "k1", c)
		}},
		{name: "tampered payload", token: func(t *testing.T, c map[string]any) string {
			good := strings.Split(rs256(t, c), ".")
			evil := strings.Split(rs256(t, testkit.WithClaims(c, map[string]any{"sub": "auth0|mallory"})), ".")
			return good[0] + "." + evil[1] + "." + good[2]
		}},
		{name: "the custom domain's iss", iss: func(string) string { return customDomainIssuer }, want: &valid},
		{name: "wrong iss", iss: func(string) string { return "https://evil.example/" }},
		{name: "iss without trailing slash", iss: func(iss string) string { return strings.TrimSuffix(iss, "/") }},
		{name: "aud not allowed", over: map[string]any{"aud": "someone-elses-app"}},
		{name: "aud array without an allowed one", over: map[string]any{"aud": []string{"x", "y"}}},
		{name: "expired beyond leeway", over: map[string]any{"exp": now.Add(-31 * time.Second).Unix()}},
		{name: "not yet valid", over: map[string]any{"nbf": now.Add(time.Minute).Unix()}},
		{name: "issued in the future", over: map[string]any{"iat": now.Add(time.Minute).Unix()}},
		{name: "missing exp", over: map[string]any{"exp": nil}},
		{name: "missing iat", over: map[string]any{"iat": nil}},
		{name: "missing sub", over: map[string]any{"sub": nil}},
		{name: "empty sub", over: map[string]any{"sub": ""}},
		{name: "oversized", over: map[string]any{"pad": strings.Repeat("x", 16<<10)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
			keys := newKeySource(t, srv, clock)
			v := auth.NewIDTokenVerifier(auth.IDTokenVerifierConfig{
				Keys:         keys,
				Issuer:       srv.issuer(),
				ExtraIssuers: []string{customDomainIssuer},
				Audiences:    []string{"client-a", "client-b"},
				Now:          clock.Now,
			})
			iss := srv.issuer()
			if tt.iss != nil {
				iss = tt.iss(iss)
			}
			mint := tt.token
			if mint == nil {
				mint = rs256
			}
			raw := mint(t, testkit.WithClaims(base(iss), tt.over))

			got, err := v.Verify(context.Background(), raw)
			if tt.want == nil {
				if !errors.Is(err, auth.ErrInvalidIDToken) || fault.FailureOf(err).Kind != fault.Invalid {
					t.Fatalf("Verify = %+v, %v; want an error wrapping ErrInvalidIDToken, of kind fault.Invalid", got, err)
				}
				if diff := cmp.Diff(account.IDToken{}, got); diff != "" {
					t.Errorf("refused token returned claims (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if diff := cmp.Diff(*tt.want, got); diff != "" {
				t.Errorf("Verify (-want +got):\n%s", diff)
			}
		})
	}
}

// A JWKS that cannot be fetched is not the token's fault: the error must not say the
// token is invalid (the caller answers 502, not 400).
func TestIDTokenVerifierJWKSFetchFailure(t *testing.T) {
	clock := testkit.NewClock()
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	srv.setFailure("html")
	v := auth.NewIDTokenVerifier(auth.IDTokenVerifierConfig{
		Keys:      newKeySource(t, srv, clock),
		Issuer:    srv.issuer(),
		Audiences: []string{"client-a"},
		Now:       clock.Now,
	})
	now := clock.Now()
	raw := testkit.SignJWT(t, jose.RS256, tenantKey(), "k1", map[string]any{
		"iss": srv.issuer(), "sub": "github|4242", "aud": "client-a", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	_, err := v.Verify(context.Background(), raw)
	if err == nil {
		t.Fatal("Verify with the JWKS endpoint down: err = nil")
	}
	if errors.Is(err, auth.ErrInvalidIDToken) {
		t.Errorf("Verify error %q wraps ErrInvalidIDToken; a JWKS outage is not the token's fault", err)
	}
	if !errors.Is(err, auth.ErrKeysUnavailable) {
		t.Errorf("Verify error %q does not wrap ErrKeysUnavailable", err)
	}
	// The same answer as the bearer middleware's (TestBearerMiddlewareKeysUnavailable).
	if f, ok := errors.AsType[*fault.Error](err); !ok || f.Code != fault.UpstreamUnavailable || f.Detail != "Auth0's signing keys cannot be fetched." || f.RetryAfter != 5*time.Second {
		t.Errorf("Verify error %#v, want the upstream_unavailable fault with RetryAfter 5s", err)
	}
	if k := fault.FailureOf(err).Kind; k == fault.Invalid {
		t.Errorf("Verify error %q is of kind %s; a JWKS outage is not the token's fault", err, k)
	}
	// Within the back-off too (the JWKS endpoint is not asked again).
	if _, err := v.Verify(context.Background(), raw); errors.Is(err, auth.ErrInvalidIDToken) || !errors.Is(err, auth.ErrKeysUnavailable) {
		t.Errorf("second Verify: err = %v, want ErrKeysUnavailable and not ErrInvalidIDToken", err)
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("%d JWKS requests, want 1", got)
	}
}
