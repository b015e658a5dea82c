package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
	"github.com/linkbff/linkbff/internal/testkit"
)

// The fuzz targets of both tokens: the access token of Authorization: Bearer and the
// ID token of link_with. Each comes in two forms: the raw string a caller sends
// (parsing: anything at all), and claims signed with the tenant's key (the claim
// checks: tokens whose signature is good). Whatever the input, nothing panics, and a
// token is accepted only if it is a compact JWS signed by the tenant, RS256, for this
// issuer and an allowed audience, unexpired, with a subject.
//
// In the claims targets the input is the claims JSON, with exp, iat, nbf and
// auth_time read as seconds relative to now (so the stored corpus does not expire),
// and alg the algorithm to sign with (anything but RS256 must be refused).

// fuzzTenant is a JWKS endpoint publishing the tenant's key as kid "k1".
type fuzzTenant struct {
	issuer string
	keys   *auth.KeySource
}

func newFuzzTenant(f *testing.F) *fuzzTenant {
	f.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{publicJWK(tenantKey(), "k1")}})
	}))
	f.Cleanup(srv.Close)
	srv.Client().Timeout = testkit.Timeout
	keys, err := auth.NewKeySource(auth.KeySourceConfig{Issuer: srv.URL + "/", Client: srv.Client()})
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzTenant{issuer: srv.URL + "/", keys: keys}
}

// relativeClaims decodes fuzzed claims and makes their times relative to now; ok is
// false when the input is not a JSON object.
func relativeClaims(data []byte, now time.Time) (map[string]any, bool) {
	var claims map[string]any
	if json.Unmarshal(data, &claims) != nil || claims == nil {
		return nil, false
	}
	for _, k := range []string{"exp", "iat", "nbf", "auth_time"} {
		if v, ok := claims[k].(float64); ok && v > -1e9 && v < 1e9 {
			claims[k] = now.Unix() + int64(v)
		}
	}
	return claims, true
}

// sign signs claims with the tenant's key under alg; ok is false for an algorithm
// go-jose cannot sign with that key.
func sign(t *testing.T, alg string, claims map[string]any) (string, bool) {
	switch jose.SignatureAlgorithm(alg) {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		return testkit.SignJWT(t, jose.SignatureAlgorithm(alg), tenantKey(), "k1", claims), true
	}
	return "", false
}

// verified is what an accepted token must be: a compact JWS, RS256, signed by the
// tenant's key, whose claims are returned.
func verified(t *testing.T, raw string) map[string]any {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("accepted a token that is not an RS256 compact JWS: %v", err)
	}
	var claims map[string]any
	if err := tok.Claims(&tenantKey().PublicKey, &claims); err != nil {
		t.Fatalf("accepted a token the tenant's key did not sign: %v", err)
	}
	return claims
}

// checkAccepted holds the claims of an accepted token to the rules both tokens share.
func checkAccepted(t *testing.T, claims map[string]any, issuer string, audiences []string, now time.Time) {
	t.Helper()
	if claims["iss"] != issuer {
		t.Errorf("accepted iss %v, want %s", claims["iss"], issuer)
	}
	var aud []string
	switch a := claims["aud"].(type) {
	case string:
		aud = []string{a}
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok {
				aud = append(aud, s)
			}
		}
	}
	if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(audiences, a) }) {
		t.Errorf("accepted aud %v, want one of %v", claims["aud"], audiences)
	}
	exp, ok := claims["exp"].(float64)
	if !ok {
		t.Errorf("accepted a token without a numeric exp: %v", claims["exp"])
	} else if time.Unix(int64(exp), 0).Before(now.Add(-time.Minute)) {
		t.Errorf("accepted a token that expired at %v", time.Unix(int64(exp), 0))
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		t.Errorf("accepted a token without a sub")
	}
}

// bearerOutcome runs one Authorization header through Bearer.Middleware: the
// principal when accepted, else the error it reported (never both, and neither only
// for an empty header, which passes on unauthenticated).
func bearerOutcome(t *testing.T, b *auth.Bearer, authorization string, errs *[]error) (*auth.Principal, error) {
	t.Helper()
	*errs = nil
	var got *auth.Principal
	h := b.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := auth.FromContext(r.Context()); ok {
			got = &p
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "/me/identities", nil)
	req.Header.Set("Authorization", authorization)
	h.ServeHTTP(httptest.NewRecorder(), req)
	switch {
	case authorization == "":
		// No credentials: passed on unauthenticated, for the cookie or a 401 later.
		if got != nil || len(*errs) > 0 {
			t.Fatalf("no Authorization: principal %v, errors %v; want neither", got, *errs)
		}
		return nil, nil
	case got != nil && len(*errs) > 0:
		t.Fatalf("accepted and refused at once: %v", *errs)
	case got == nil && len(*errs) == 0:
		t.Fatal("a request with Authorization was neither accepted nor refused")
	case got == nil:
		if p := problem.From((*errs)[0]); p.Fault.Code != fault.InvalidToken && p.Fault.Code != fault.UpstreamUnavailable {
			t.Fatalf("refused with %s, want invalid_token", p.Fault.Code)
		}
		return nil, (*errs)[0]
	}
	return got, nil
}

func newFuzzBearer(f *testing.F, ft *fuzzTenant, errs *[]error) *auth.Bearer {
	f.Helper()
	b, err := auth.NewBearer(auth.BearerConfig{
		Issuer: ft.issuer, Audience: apiAudience, Keys: ft.keys,
		OnError: func(_ http.ResponseWriter, _ *http.Request, err error) { *errs = append(*errs, err) },
	})
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func FuzzBearerToken(f *testing.F) {
	ft := newFuzzTenant(f)
	var errs []error
	b := newFuzzBearer(f, ft, &errs)
	now := time.Now()
	valid := testkit.SignJWT(f, jose.RS256, tenantKey(), "k1", map[string]any{
		"iss": ft.issuer, "sub": "auth0|alice", "aud": apiAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	for _, s := range []string{"Bearer " + valid, "Bearer " + valid + ".", "bearer " + valid, "Bearer  " + valid, "Bearer a.b.c", "Bearer", "Basic dXNlcjpwdw=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, authorization string) {
		p, _ := bearerOutcome(t, b, authorization, &errs)
		if p == nil {
			return
		}
		// The scheme is case-insensitive and spaces around the token do not count
		// (RFC 9110 §11.1): what was accepted is the one field after it.
		fields := strings.Fields(authorization)
		if len(fields) != 2 || !strings.EqualFold(fields[0], "Bearer") {
			t.Fatalf("accepted Authorization %q", authorization)
		}
		claims := verified(t, fields[1])
		checkAccepted(t, claims, ft.issuer, []string{apiAudience}, time.Now())
		if p.Subject != claims["sub"] {
			t.Errorf("principal %q, token sub %v", p.Subject, claims["sub"])
		}
	})
}

func FuzzBearerClaims(f *testing.F) {
	ft := newFuzzTenant(f)
	var errs []error
	b := newFuzzBearer(f, ft, &errs)
	f.Add("RS256", []byte(`{"iss":"ISSUER","sub":"auth0|alice","aud":"AUDIENCE","iat":0,"exp":3600,"scope":"read:identities"}`))
	f.Add("RS256", []byte(`{"iss":"ISSUER","sub":"auth0|alice","aud":["AUDIENCE","ISSUERuserinfo"],"iat":0,"exp":3600,"azp":"spa","gty":["password","refresh_token"]}`))
	f.Fuzz(func(t *testing.T, alg string, data []byte) {
		claims, ok := relativeClaims(data, time.Now())
		if !ok {
			return
		}
		// Placeholders, so that the corpus can name this run's issuer and audience.
		for k, v := range claims {
			claims[k] = placeholders(v, ft.issuer, apiAudience)
		}
		raw, ok := sign(t, alg, claims)
		if !ok {
			return
		}
		p, _ := bearerOutcome(t, b, "Bearer "+raw, &errs)
		if p == nil {
			return
		}
		if alg != "RS256" {
			t.Fatalf("accepted a token signed with %s", alg)
		}
		checkAccepted(t, verified(t, raw), ft.issuer, []string{apiAudience}, time.Now())
		if gty, _ := json.Marshal(claims["gty"]); slices.Contains([]string{`"client-credentials"`}, string(gty)) {
			t.Errorf("accepted a client-credentials token")
		}
	})
}

// placeholders replaces "ISSUER" and "AUDIENCE" at the start of strings (also in
// lists) with this run's values.
func placeholders(v any, issuer, audience string) any {
	switch x := v.(type) {
	case string:
		switch {
		case len(x) >= 6 && x[:6] == "ISSUER":
			return issuer + x[6:]
		case x == "AUDIENCE":
			return audience
		}
	case []any:
		for i := range x {
			x[i] = placeholders(x[i], issuer, audience)
		}
	}
	return v
}

var idTokenAudiences = []string{"bff-client", "native-client"}

func newFuzzVerifier(ft *fuzzTenant) *auth.IDTokenVerifier {
	return auth.NewIDTokenVerifier(auth.IDTokenVerifierConfig{Keys: ft.keys, Issuer: ft.issuer, Audiences: idTokenAudiences})
}

// verifyOutcome runs Verify and checks that a refusal is ErrInvalidIDToken (the keys
// are always available here).
func verifyOutcome(t *testing.T, v *auth.IDTokenVerifier, raw string) bool {
	t.Helper()
	_, err := v.Verify(context.Background(), raw)
	if err != nil && !errors.Is(err, auth.ErrInvalidIDToken) {
		t.Fatalf("refused with %v, want ErrInvalidIDToken", err)
	}
	return err == nil
}

func FuzzIDToken(f *testing.F) {
	ft := newFuzzTenant(f)
	v := newFuzzVerifier(ft)
	now := time.Now()
	valid := testkit.SignJWT(f, jose.RS256, tenantKey(), "k1", map[string]any{
		"iss": ft.issuer, "sub": "google-oauth2|1077", "aud": "bff-client", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "nonce": "n",
	})
	for _, s := range []string{valid, valid + "x", " " + valid, "a.b.c", "", "...", valid + "." + valid} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !verifyOutcome(t, v, raw) {
			return
		}
		checkAccepted(t, verified(t, raw), ft.issuer, idTokenAudiences, time.Now())
		tok, _ := v.Verify(context.Background(), raw)
		if tok.Subject == "" || !slices.Contains(idTokenAudiences, tok.Audience) {
			t.Errorf("accepted %+v", tok)
		}
	})
}

func FuzzIDTokenClaims(f *testing.F) {
	ft := newFuzzTenant(f)
	v := newFuzzVerifier(ft)
	f.Add("RS256", []byte(`{"iss":"ISSUER","sub":"google-oauth2|1077","aud":"bff-client","iat":-10,"exp":3600,"nonce":"n","email_verified":true}`))
	f.Add("RS256", []byte(`{"iss":"ISSUER","sub":"oauth2|conn|id","aud":["other","native-client"],"azp":"native-client","iat":-10,"exp":3600,"auth_time":-60}`))
	f.Fuzz(func(t *testing.T, alg string, data []byte) {
		claims, ok := relativeClaims(data, time.Now())
		if !ok {
			return
		}
		for k, val := range claims {
			claims[k] = placeholders(val, ft.issuer, "")
		}
		raw, ok := sign(t, alg, claims)
		if !ok || !verifyOutcome(t, v, raw) {
			return
		}
		if alg != "RS256" {
			t.Fatalf("accepted an ID token signed with %s", alg)
		}
		checkAccepted(t, verified(t, raw), ft.issuer, idTokenAudiences, time.Now())
		if _, ok := claims["iat"].(float64); !ok {
			// iat is required (OpenID Connect Core 1.0 §2).
			if _, ok := claims["iat"].(int64); !ok {
				t.Errorf("accepted an ID token without a numeric iat: %v", claims["iat"])
			}
		}
	})
}
