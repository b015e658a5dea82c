package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/testkit"
)

// grantIdPTokens lets linkbff's client read IdP tokens, so the tenant sends them and
// the test can check that linkbff strips them.
func grantIdPTokens(s *devtenant.Seed) {
	for i := range s.Clients {
		if s.Clients[i].ClientID == testClientID {
			s.Clients[i].ManagementScopes = append(s.Clients[i].ManagementScopes, "read:user_idp_tokens")
		}
	}
}

func identityKeys(t *testing.T, body map[string]any) []string {
	t.Helper()
	var keys []string
	for _, it := range body["identities"].([]any) {
		m := it.(map[string]any)
		keys = append(keys, m["provider"].(string)+"|"+m["user_id"].(string))
	}
	return keys
}

func TestListLinkUnlinkRoundTrip(t *testing.T) {
	a := startApp(t, nil, grantIdPTokens)
	alice := a.accessToken("auth0|alice")

	// List.
	r := a.do("GET", "/me/identities", alice, nil)
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	want := map[string]any{
		"user_id": "auth0|alice",
		"identities": []any{map[string]any{
			"provider": "auth0", "user_id": "alice", "connection": "Username-Password-Authentication",
			"is_social": false, "primary": true,
			"profile": map[string]any{"email": "alice@example.com", "email_verified": true, "name": "Alice Example", "picture": devtenanttest.DemoPicture(t, "auth0|alice")},
		}},
	}
	if diff := cmp.Diff(want, r.json(t)); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}

	// Link GitHub: nonce, secondary login bound to it, link.
	nonce := a.nonce(alice)
	secondary := a.mint(devtenant.MintRequest{UserID: "github|4242", Nonce: nonce}).IDToken
	r = a.do("POST", "/me/identities", alice, map[string]string{"link_with": secondary})
	if r.status != http.StatusCreated {
		t.Fatalf("link: %d %s", r.status, r.body)
	}
	body := r.json(t)
	if diff := cmp.Diff([]string{"auth0|alice", "github|4242"}, identityKeys(t, body)); diff != "" {
		t.Errorf("identities after link (-want +got):\n%s", diff)
	}
	gh := body["identities"].([]any)[1].(map[string]any)
	if gh["is_social"] != true || gh["primary"] != false || gh["profile"].(map[string]any)["email"] != "alice@users.noreply.example" {
		t.Errorf("linked identity = %v", gh)
	}
	if strings.Contains(string(r.body), "idp-access-token") || strings.Contains(string(r.body), "access_token") {
		t.Errorf("IdP token leaked in link response: %s", r.body)
	}

	// Metadata merged, primary wins; the secondary user is gone.
	user, ok := a.tenant.UserSnapshot("auth0|alice")
	if !ok {
		t.Fatal("alice vanished")
	}
	wantMeta := map[string]any{"theme": "dark", "locale": "en", "github_handle": "alice-gh"}
	if diff := cmp.Diff(wantMeta, user["user_metadata"]); diff != "" {
		t.Errorf("merged user_metadata (-want +got):\n%s", diff)
	}
	if _, ok := a.tenant.UserSnapshot("github|4242"); ok {
		t.Error("secondary user still exists after link")
	}

	// The next read is served from the cache updated by the link: no upstream call.
	a.tenant.ResetRequests()
	r = a.do("GET", "/me/identities", alice, nil)
	if diff := cmp.Diff([]string{"auth0|alice", "github|4242"}, identityKeys(t, r.json(t))); diff != "" {
		t.Errorf("list after link (-want +got):\n%s", diff)
	}
	if n := a.tenant.ManagementRequests(); n != 0 {
		t.Errorf("list after link made %d Management API calls, want 0 (cache)", n)
	}
	if strings.Contains(string(r.body), "idp-access-token") {
		t.Errorf("IdP token leaked in list: %s", r.body)
	}

	// Unlink: the GitHub user exists again, without metadata.
	r = a.do("DELETE", "/me/identities/github/4242", alice, nil)
	if r.status != http.StatusOK {
		t.Fatalf("unlink: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff([]string{"auth0|alice"}, identityKeys(t, r.json(t))); diff != "" {
		t.Errorf("identities after unlink (-want +got):\n%s", diff)
	}
	ghUser, ok := a.tenant.UserSnapshot("github|4242")
	if !ok {
		t.Fatal("github|4242 is not a standalone user after unlink")
	}
	if md := ghUser["user_metadata"].(map[string]any); len(md) != 0 {
		t.Errorf("unlinked user has metadata %v, want none", md)
	}
	user, _ = a.tenant.UserSnapshot("auth0|alice")
	if diff := cmp.Diff(wantMeta, user["user_metadata"]); diff != "" {
		t.Errorf("alice's metadata changed by unlink (-want +got):\n%s", diff)
	}

	// One audit record per link and unlink, without tokens.
	logs := a.stderr.String()
	for _, ev := range []string{"audit link", "audit unlink"} {
		if n := strings.Count(logs, ev); n != 1 {
			t.Errorf("%d %q records, want 1", n, ev)
		}
	}
	if strings.Contains(logs, secondary) || strings.Contains(logs, alice) {
		t.Error("a token was logged")
	}
}

func TestLinkFromAllowedNativeAudienceUsesProviderAndUserID(t *testing.T) {
	a := startApp(t, nil, nil)
	alice := a.accessToken("auth0|alice")
	nonce := a.nonce(alice)
	secondary := a.mint(devtenant.MintRequest{UserID: "google-oauth2|1077", ClientID: nativeClient, Nonce: nonce}).IDToken
	r := a.do("POST", "/me/identities", alice, map[string]string{"link_with": secondary})
	if r.status != http.StatusCreated {
		t.Fatalf("link: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff([]string{"auth0|alice", "google-oauth2|1077"}, identityKeys(t, r.json(t))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestForgedAccessTokensNeverReachAuth0 sends bad bearer tokens and checks the 401
// problem and that the Management API saw nothing.
func TestForgedAccessTokensNeverReachAuth0(t *testing.T) {
	a := startApp(t, nil, nil)
	now := time.Now()
	claims := func(over map[string]any) map[string]any {
		return testkit.WithClaims(map[string]any{"iss": a.tenant.Issuer(), "sub": "auth0|alice", "aud": testAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "azp": testClientID}, over)
	}
	signed := func(over map[string]any) string {
		tok, err := a.tenant.SignClaims(claims(over))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	foreign := testkit.RSAKey(t)
	tests := []struct {
		name, token, header string
	}{
		{"missing", "", ""},
		{"not a JWT", "not-a-jwt", ""},
		{"expired", a.mint(devtenant.MintRequest{UserID: "auth0|alice", Audience: testAudience, TTL: devtenant.Duration(-time.Hour)}).AccessToken, ""},
		{"wrong issuer", signed(map[string]any{"iss": "https://evil.example/"}), ""},
		{"wrong audience", signed(map[string]any{"aud": "https://other.example/api"}), ""},
		{"no exp", signed(map[string]any{"exp": nil}), ""},
		{"no sub", signed(map[string]any{"sub": nil}), ""},
		{"HS256", testkit.SignJWT(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), a.tenant.SigningKeyID(), claims(nil)), ""},
		{"alg none", unsignedToken(t, map[string]any{"alg": "none", "typ": "JWT"}, claims(nil)), ""},
		{"unknown kid", testkit.SignJWT(t, jose.RS256, foreign, "attacker-kid", claims(nil)), ""},
		{"known kid, foreign key", testkit.SignJWT(t, jose.RS256, foreign, a.tenant.SigningKeyID(), claims(nil)), ""},
		{"basic scheme", "", "Basic YWxpY2U6cHc="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.tenant.ResetRequests()
			for _, req := range []struct{ method, path string }{{"GET", "/me/identities"}, {"POST", "/me/identities/nonce"}, {"DELETE", "/me/identities/github/4242"}} {
				hr, _ := http.NewRequest(req.method, a.url+req.path, nil)
				if tt.token != "" {
					hr.Header.Set("Authorization", "Bearer "+tt.token)
				}
				if tt.header != "" {
					hr.Header.Set("Authorization", tt.header)
				}
				r := a.send(hr)
				wantProblem(t, r, http.StatusUnauthorized, "invalid_token")
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate = %q", got)
				}
				if tt.token != "" && !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Errorf("WWW-Authenticate = %q, want error=\"invalid_token\"", r.header.Get("WWW-Authenticate"))
				}
			}
			if n := a.tenant.ManagementRequests(); n != 0 {
				t.Errorf("%d Management API calls, want 0", n)
			}
		})
	}
}

// TestUnknownKidRefreshesJWKSAtMostOnce: a rotated key is picked up by one refresh;
// a flood of unknown kids does not make linkbff hammer the JWKS endpoint.
func TestUnknownKidRefreshesJWKSAtMostOnce(t *testing.T) {
	a := startApp(t, nil, nil)
	if r := a.do("GET", "/me/identities", a.accessToken("auth0|alice"), nil); r.status != 200 {
		t.Fatalf("warm-up: %d %s", r.status, r.body)
	}
	if err := a.tenant.RotateKeys(devtenant.SwitchSigningKey); err != nil {
		t.Fatal(err)
	}
	a.tenant.ResetRequests()
	// A token signed with the new key: one JWKS refresh, then accepted.
	if r := a.do("GET", "/me/identities", a.accessToken("auth0|alice"), nil); r.status != 200 {
		t.Fatalf("token of rotated key: %d %s", r.status, r.body)
	}
	foreign := testkit.RSAKey(t)
	for i := 0; i < 5; i++ {
		tok := testkit.SignJWT(t, jose.RS256, foreign, "forged-"+string(rune('a'+i)), map[string]any{"iss": a.tenant.Issuer(), "sub": "auth0|alice", "aud": testAudience, "exp": time.Now().Add(time.Hour).Unix()})
		wantProblem(t, a.do("GET", "/me/identities", tok, nil), 401, "invalid_token")
	}
	if n := a.tenant.RequestCount(devtenant.EndpointJWKS); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1 (one refresh per 30s)", n)
	}
}

func TestRejectedLinkTokensNeverReachAuth0(t *testing.T) {
	a := startApp(t, nil, nil)
	alice := a.accessToken("auth0|alice")
	usedNonce := a.nonce(alice)
	first := a.mint(devtenant.MintRequest{UserID: "google-oauth2|1077", Nonce: usedNonce}).IDToken
	if r := a.do("POST", "/me/identities", alice, map[string]string{"link_with": first}); r.status != http.StatusCreated {
		t.Fatalf("first link: %d %s", r.status, r.body)
	}
	bobNonce := a.nonce(a.accessToken("auth0|bob"))

	tests := []struct {
		name   string
		token  func(nonce string) string
		status int
		code   string
	}{
		{"expired", func(n string) string {
			return a.mint(devtenant.MintRequest{UserID: "github|4242", Nonce: n, IssuedAt: time.Now().Add(-2 * time.Minute), TTL: devtenant.Duration(time.Minute)}).IDToken
		}, 400, "invalid_link_token"},
		{"too old", func(n string) string {
			return a.mint(devtenant.MintRequest{UserID: "github|4242", Nonce: n, IssuedAt: time.Now().Add(-10 * time.Minute), TTL: devtenant.Duration(time.Hour)}).IDToken
		}, 400, "link_token_too_old"},
		{"another audience", func(n string) string {
			return a.mint(devtenant.MintRequest{UserID: "github|4242", Nonce: n, IDTokenClaims: map[string]any{"aud": "someone-elses-app"}}).IDToken
		}, 400, "invalid_link_token"},
		{"another issuer", func(n string) string {
			return a.mint(devtenant.MintRequest{UserID: "github|4242", Nonce: n, IDTokenClaims: map[string]any{"iss": "https://evil.example/"}}).IDToken
		}, 400, "invalid_link_token"},
		{"foreign key", func(n string) string {
			return testkit.SignJWT(t, jose.RS256, testkit.RSAKey(t), a.tenant.SigningKeyID(), map[string]any{"iss": a.tenant.Issuer(), "sub": "github|4242", "aud": testClientID, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "nonce": n, "email_verified": true})
		}, 400, "invalid_link_token"},
		{"HS256", func(n string) string {
			return testkit.SignJWT(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), a.tenant.SigningKeyID(), map[string]any{"iss": a.tenant.Issuer(), "sub": "github|4242", "aud": testClientID, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "nonce": n})
		}, 400, "invalid_link_token"},
		{"without nonce", func(string) string {
			return a.mint(devtenant.MintRequest{UserID: "github|4242"}).IDToken
		}, 400, "nonce_mismatch"},
		{"reused nonce", func(string) string {
			return a.mint(devtenant.MintRequest{UserID: "github|4242", Nonce: usedNonce}).IDToken
		}, 400, "nonce_mismatch"},
		{"someone else's nonce", func(string) string {
			return a.mint(devtenant.MintRequest{UserID: "github|4242", Nonce: bobNonce}).IDToken
		}, 400, "nonce_mismatch"},
		{"caller's own identity", func(n string) string {
			return a.mint(devtenant.MintRequest{UserID: "auth0|alice", Nonce: n}).IDToken
		}, 409, "already_linked"},
		{"identity already linked to caller", func(n string) string {
			return a.mint(devtenant.MintRequest{UserID: "google-oauth2|1077", Nonce: n}).IDToken
		}, 409, "already_linked"},
		{"unverified email", func(n string) string {
			return a.mint(devtenant.MintRequest{UserID: "github|9001", Nonce: n}).IDToken
		}, 400, "email_not_verified"},
		{"garbage", func(string) string { return "a.b.c" }, 400, "invalid_link_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.token(a.nonce(alice))
			a.tenant.ResetRequests()
			r := a.do("POST", "/me/identities", alice, map[string]string{"link_with": tok})
			wantProblem(t, r, tt.status, tt.code)
			if n := a.tenant.ManagementRequests(); n != 0 {
				t.Errorf("%d Management API calls, want 0", n)
			}
		})
	}
	if _, ok := a.tenant.UserSnapshot("github|4242"); !ok {
		t.Error("github|4242 was linked or removed by a rejected request")
	}
}

func TestUnlinkRefusalsNeverReachAuth0(t *testing.T) {
	a := startApp(t, nil, nil)
	alice := a.accessToken("auth0|alice")
	if r := a.do("GET", "/me/identities", alice, nil); r.status != 200 { // warm the cache
		t.Fatalf("list: %d", r.status)
	}
	long := strings.Repeat("x", 257)
	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"primary identity", "/me/identities/auth0/alice", 400, "primary_identity"},
		{"identity the caller lacks", "/me/identities/github/4242", 404, "identity_not_found"},
		{"another user's primary", "/me/identities/auth0/bob", 404, "identity_not_found"},
		{"escaped slash", "/me/identities/github/42%2F42", 400, "invalid_path"},
		{"dot-dot", "/me/identities/github/..", 400, "invalid_path"},
		{"escaped dot-dot", "/me/identities/github/%2E%2E", 400, "invalid_path"},
		{"escaped question mark", "/me/identities/github/42%3Fx", 400, "invalid_path"},
		{"escaped hash", "/me/identities/github/42%23x", 400, "invalid_path"},
		{"escaped percent", "/me/identities/github/42%2541", 400, "invalid_path"},
		{"over-long user_id", "/me/identities/github/" + long, 400, "invalid_path"},
		{"bad provider", "/me/identities/GitHub/4242", 400, "invalid_path"},
		{"over-long provider", "/me/identities/" + strings.Repeat("a", 65) + "/4242", 400, "invalid_path"},
		{"control character", "/me/identities/github/42%0A42", 400, "invalid_path"},
		{"extra segment", "/me/identities/github/42/42", 404, "not_found"},
		{"raw question mark", "/me/identities/github/42?x=1", 404, "identity_not_found"},
		{"raw hash", "/me/identities/github/42#x", 404, "identity_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.tenant.ResetRequests()
			r := a.do("DELETE", tt.path, alice, nil)
			wantProblem(t, r, tt.status, tt.code)
			if n := a.tenant.ManagementRequests(); n != 0 {
				t.Errorf("%d Management API calls, want 0", n)
			}
		})
	}
}

func TestBadRequestBodies(t *testing.T) {
	a := startApp(t, nil, nil)
	alice := a.accessToken("auth0|alice")
	post := func(ct, body string) response {
		req, _ := http.NewRequest("POST", a.url+"/me/identities", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+alice)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		return a.send(req)
	}
	a.tenant.ResetRequests()
	wantProblem(t, post("text/plain", `{"link_with":"x"}`), 415, "unsupported_media_type")
	wantProblem(t, post("", `{"link_with":"x"}`), 415, "unsupported_media_type")
	wantProblem(t, post("application/json", `{"link_with":`), 400, "invalid_body")
	wantProblem(t, post("application/json", ``), 400, "invalid_body")
	wantProblem(t, post("application/json", `{"link_with":"x"} {}`), 400, "invalid_body")
	wantProblem(t, post("application/json", `{"link_with":5}`), 400, "invalid_body")
	wantProblem(t, post("application/json", `{}`), 400, "invalid_body")
	p := wantProblem(t, post("application/json", `{"link_with":"x","extra":1}`), 400, "invalid_body")
	if errs, _ := p["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != "extra" {
		t.Errorf("errors = %v, want the unknown member named", p["errors"])
	}
	p = wantProblem(t, post("application/json", `{"link_with":"x","link_with":"y"}`), 400, "invalid_body")
	if errs, _ := p["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != "link_with" {
		t.Errorf("errors = %v, want the duplicate member named", p["errors"])
	}
	wantProblem(t, post("application/json", `{"link_with":"`+strings.Repeat("a", 70<<10)+`"}`), 413, "body_too_large")
	if n := a.tenant.ManagementRequests(); n != 0 {
		t.Errorf("%d Management API calls, want 0", n)
	}
	wantProblem(t, a.do("GET", "/nope", "", nil), 404, "not_found")
	r := a.do("PUT", "/me/identities", alice, nil)
	wantProblem(t, r, 405, "method_not_allowed")
	if got := r.header.Get("Allow"); got != "GET, POST" {
		t.Errorf("Allow = %q, want GET, POST", got)
	}
}

func TestCORS(t *testing.T) {
	a := startApp(t, map[string]string{"CORS_ALLOWED_ORIGINS": "https://spa.example"}, nil)
	preflight := func(origin string) response {
		req, _ := http.NewRequest("OPTIONS", a.url+"/me/identities", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		return a.send(req)
	}
	r := preflight("https://spa.example")
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://spa.example" {
		t.Errorf("allowed origin: Access-Control-Allow-Origin = %q", got)
	}
	allowed := strings.ToLower(r.header.Get("Access-Control-Allow-Headers"))
	if !strings.Contains(allowed, "authorization") || !strings.Contains(allowed, "content-type") {
		t.Errorf("Access-Control-Allow-Headers = %q", allowed)
	}
	if r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Error("credentials allowed cross-origin")
	}
	if got := preflight("https://evil.example").header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("other origin: Access-Control-Allow-Origin = %q", got)
	}
	req, _ := http.NewRequest("GET", a.url+"/me/identities", nil)
	req.Header.Set("Origin", "https://spa.example")
	req.Header.Set("Authorization", "Bearer "+a.accessToken("auth0|alice"))
	r = a.send(req)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://spa.example" {
		t.Errorf("actual request: %d, ACAO %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
	}
	if exp := r.header.Get("Access-Control-Expose-Headers"); !slices.ContainsFunc(strings.Split(exp, ","), func(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "X-Request-Id") }) {
		t.Errorf("Access-Control-Expose-Headers = %q", exp)
	}
}
