package devtenant_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/testkit"
)

const (
	mtClient = "linkbff-dev-client"
	mtAlice  = "auth0|alice"
	mtBob    = "auth0|bob"
	mtGitHub = "github|4242"
	mtGoogle = "google-oauth2|1077"
)

// mtStart starts a tenant (demo seed unless one is given) for one test.
func mtStart(t *testing.T, seed ...devtenant.Seed) *devtenant.Tenant {
	t.Helper()
	opts := devtenant.Options{}
	if len(seed) > 0 {
		opts.Seed = &seed[0]
	}
	return devtenanttest.Start(t, opts)
}

// mtToken mints a Management API token for alice's session in the dev client, with
// the given scopes and claim overrides.
func mtToken(t *testing.T, tn *devtenant.Tenant, scope string, overrides map[string]any) string {
	t.Helper()
	toks, err := tn.Mint(devtenant.MintRequest{UserID: mtAlice, ClientID: mtClient, Audience: tn.ManagementAudience(),
		Scope: scope, AccessTokenClaims: overrides})
	if err != nil {
		t.Fatal(err)
	}
	return toks.AccessToken
}

// mtIDToken mints the ID token of userID for the dev client (a link_with token).
func mtIDToken(t *testing.T, tn *devtenant.Tenant, userID string, overrides map[string]any, ttl time.Duration) string {
	t.Helper()
	toks, err := tn.Mint(devtenant.MintRequest{UserID: userID, ClientID: mtClient, IDTokenClaims: overrides, TTL: devtenant.Duration(ttl)})
	if err != nil {
		t.Fatal(err)
	}
	return toks.IDToken
}

type mtResponse struct {
	status int
	header http.Header
	body   any
}

// mtDo sends a request with a bearer token (none when empty) and a JSON body (none
// when empty), and decodes the JSON answer.
func mtDo(t *testing.T, tn *devtenant.Tenant, method, path, token, body string) mtResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, tn.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return mtSend(t, req)
}

func mtSend(t *testing.T, req *http.Request) mtResponse {
	t.Helper()
	res, raw := testkit.Do(t, nil, req)
	out := mtResponse{status: res.StatusCode, header: res.Header}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %q", req.Method, req.URL.Path, raw)
		}
	}
	return out
}

func mtUserPath(id string) string { return "/api/v2/users/" + url.PathEscape(id) }

// mtError is an Auth0 Management API error body.
func mtError(status int, message, code string) map[string]any {
	m := map[string]any{"statusCode": float64(status), "error": http.StatusText(status), "message": message}
	if code != "" {
		m["errorCode"] = code
	}
	return m
}

func mt401(message string) map[string]any {
	m := mtError(http.StatusUnauthorized, message, "")
	m["attributes"] = map[string]any{"error": message}
	return m
}

func mtCheck(t *testing.T, got mtResponse, wantStatus int, wantBody any) {
	t.Helper()
	if got.status != wantStatus {
		t.Errorf("status = %d, want %d (body %v)", got.status, wantStatus, got.body)
	}
	if diff := cmp.Diff(wantBody, got.body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func mtRateLimitHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for _, k := range []string{"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} {
		if _, err := strconv.ParseInt(h.Get(k), 10, 64); err != nil {
			t.Errorf("header %s = %q, want an integer", k, h.Get(k))
		}
	}
}

// mtUnsigned is an alg "none" JWT.
func mtUnsigned(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(claims) + "."
}

func TestMgmtAuthentication(t *testing.T) {
	tn := mtStart(t)
	good := func(extra map[string]any) map[string]any {
		c := map[string]any{"iss": tn.Issuer(), "sub": mtAlice, "aud": tn.ManagementAudience(), "azp": mtClient,
			"scope": "read:users", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	rotated := mtToken(t, tn, "read:users", nil)
	foreign := testkit.RSAKey(t)

	cases := []struct {
		name       string
		header     string
		wantStatus int
		wantBody   any
	}{
		{"no header", "", 401, mtError(401, "Missing authentication", "")},
		{"basic scheme", "Basic YWxpY2U6cHc=", 401, mtError(401, "Missing authentication", "")},
		{"opaque token", "Bearer XmjZzvFSGR6GE5dLfTAkWDqixxxxxxx", 400, mtError(400, "Bad HTTP authentication header format", "Bearer")},
		{"garbage jwt", "Bearer a.b.c", 401, mt401("Invalid token")},
		{"wrong audience", "Bearer " + mtSignedBy(t, tn, good(map[string]any{"aud": "https://linkbff.example/api"})), 401,
			mt401("Bad audience: https://linkbff.example/api")},
		{"wrong audience array", "Bearer " + mtSignedBy(t, tn, good(map[string]any{"aud": []string{"https://a.example/", "https://b.example/"}})), 401,
			mt401("Bad audience: https://a.example/ https://b.example/")},
		{"expired", "Bearer " + mtSignedBy(t, tn, good(map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})), 401,
			mt401("Expired token received for JSON Web Token validation")},
		{"no exp", "Bearer " + mtSignedBy(t, tn, good(map[string]any{"exp": nil})), 401,
			mt401("Expired token received for JSON Web Token validation")},
		{"wrong issuer", "Bearer " + mtSignedBy(t, tn, good(map[string]any{"iss": "https://evil.example/"})), 401, mt401("Invalid token")},
		{"foreign key", "Bearer " + testkit.SignJWT(t, jose.RS256, foreign, "", good(nil)), 401,
			mt401("Invalid signature received for JSON Web Token validation")},
		{"HS256", "Bearer " + testkit.SignJWT(t, jose.HS256, []byte("any-secret-any-secret-any-secret!"), "", good(nil)), 401, mt401("Invalid token")},
		{"alg none", "Bearer " + mtUnsigned(good(nil)), 401, mt401("Invalid token")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tn.URL()+mtUserPath(mtAlice), nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			got := mtSend(t, req)
			mtCheck(t, got, tc.wantStatus, tc.wantBody)
			mtRateLimitHeaders(t, got.header)
			if got.status == 401 && !strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got.header.Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("revoked signing key", func(t *testing.T) {
		if got := mtDo(t, tn, "GET", mtUserPath(mtAlice), rotated, ""); got.status != 200 {
			t.Fatalf("before rotation: status %d", got.status)
		}
		if err := tn.RotateKeys(devtenant.SwitchSigningKey); err != nil {
			t.Fatal(err)
		}
		if got := mtDo(t, tn, "GET", mtUserPath(mtAlice), rotated, ""); got.status != 200 {
			t.Fatalf("old key still published: status %d, want 200", got.status)
		}
		if err := tn.RotateKeys(devtenant.RevokeOldKeys); err != nil {
			t.Fatal(err)
		}
		mtCheck(t, mtDo(t, tn, "GET", mtUserPath(mtAlice), rotated, ""), 401,
			mt401("Invalid signature received for JSON Web Token validation"))
		if got := mtDo(t, tn, "GET", mtUserPath(mtAlice), mtToken(t, tn, "read:users", nil), ""); got.status != 200 {
			t.Errorf("token of the new key: status %d, want 200", got.status)
		}
	})
}

// mtSignedBy signs claims with the tenant's own current key.
func mtSignedBy(t *testing.T, tn *devtenant.Tenant, claims map[string]any) string {
	t.Helper()
	for k, v := range claims {
		if v == nil {
			delete(claims, k)
		}
	}
	s, err := tn.SignClaims(claims)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMgmtScopes(t *testing.T) {
	tn := mtStart(t)
	cases := []struct {
		name, method, path, scope, body string
		wantStatus                      int
		wantBody                        any
	}{
		{"get without read", "GET", mtUserPath(mtAlice), "update:users", "", 403,
			mtError(403, "Insufficient scope, expected any of: read:users,read:user_idp_tokens,read:current_user", "insufficient_scope")},
		{"get with no scope", "GET", mtUserPath(mtAlice), "", "", 403,
			mtError(403, "Insufficient scope, expected any of: read:users,read:user_idp_tokens,read:current_user", "insufficient_scope")},
		{"patch with read", "PATCH", mtUserPath(mtAlice), "read:users", `{"name":"x"}`, 403,
			mtError(403, "Insufficient scope, expected any of: update:users", "insufficient_scope")},
		{"link with read", "POST", mtUserPath(mtAlice) + "/identities", "read:users", `{"provider":"github","user_id":"4242"}`, 403,
			mtError(403, "Insufficient scope, expected any of: update:users,update:current_user_identities", "insufficient_scope")},
		{"unlink with read", "DELETE", mtUserPath(mtAlice) + "/identities/github/4242", "read:users", "", 403,
			mtError(403, "Insufficient scope, expected any of: update:users,update:current_user_identities", "insufficient_scope")},
		{"by email with idp tokens only", "GET", "/api/v2/users-by-email?email=bob%40example.com", "read:user_idp_tokens", "", 403,
			mtError(403, "Insufficient scope, expected any of: read:users", "insufficient_scope")},
		{"current user reads another user", "GET", mtUserPath(mtBob), "read:current_user", "", 403,
			mtError(403, "User to be acted on does not match subject in bearer token.", "")},
		{"current user unlinks for another user", "DELETE", mtUserPath(mtBob) + "/identities/github/4242", "update:current_user_identities", "", 403,
			mtError(403, "User to be acted on does not match subject in bearer token.", "")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mtDo(t, tn, tc.method, tc.path, mtToken(t, tn, tc.scope, nil), tc.body)
			mtCheck(t, got, tc.wantStatus, tc.wantBody)
			mtRateLimitHeaders(t, got.header)
		})
	}
	t.Run("current user reads itself", func(t *testing.T) {
		if got := mtDo(t, tn, "GET", mtUserPath(mtAlice), mtToken(t, tn, "read:current_user", nil), ""); got.status != 200 {
			t.Errorf("status = %d, want 200", got.status)
		}
	})
}

// mtStripTimes drops the timestamps of a rendered user for comparison.
func mtStripTimes(v any) any {
	if m, ok := v.(map[string]any); ok {
		delete(m, "created_at")
		delete(m, "updated_at")
	}
	return v
}

func TestMgmtGetUser(t *testing.T) {
	tn := mtStart(t)
	read := mtToken(t, tn, "read:users", nil)
	readIdP := mtToken(t, tn, "read:users read:user_idp_tokens", nil)

	t.Run("full user", func(t *testing.T) {
		got := mtDo(t, tn, "GET", mtUserPath(mtAlice), read, "")
		want := map[string]any{
			"user_id": mtAlice, "email": "alice@example.com", "email_verified": true, "name": "Alice Example",
			"nickname": "alice", "picture": devtenanttest.DemoPicture(t, mtAlice),
			"user_metadata": map[string]any{"theme": "dark", "locale": "en"}, "app_metadata": map[string]any{"plan": "pro"},
			"identities":   []any{map[string]any{"connection": "Username-Password-Authentication", "provider": "auth0", "user_id": "alice", "isSocial": false}},
			"logins_count": float64(0),
		}
		mtCheck(t, mtResponse{status: got.status, body: mtStripTimes(got.body)}, 200, want)
		mtRateLimitHeaders(t, got.header)
	})

	cases := []struct {
		name, path, token string
		wantStatus        int
		wantBody          any
	}{
		{"fields", mtUserPath(mtAlice) + "?fields=email,user_id", read, 200,
			map[string]any{"email": "alice@example.com", "user_id": mtAlice}},
		{"fields with include_fields=true and spaces", mtUserPath(mtAlice) + "?fields=email,%20nickname&include_fields=true", read, 200,
			map[string]any{"email": "alice@example.com", "nickname": "alice"}},
		{"include_fields=false", mtUserPath(mtBob) + "?fields=identities,user_metadata,app_metadata,created_at,updated_at,logins_count,picture&include_fields=false", read, 200,
			map[string]any{"user_id": mtBob, "email": "bob@example.com", "email_verified": true, "name": "Bob Example", "nickname": "bob"}},
		{"unknown field", mtUserPath(mtAlice) + "?fields=password", read, 400, mtError(400,
			"Query validation error: 'String 'password' does not match pattern. Must be a comma separated list of the following values: phone_number,email,email_verified,picture,username,user_id,name,nickname,created_at,identities,app_metadata,user_metadata,last_ip,last_login,logins_count,updated_at,blocked,family_name,given_name' on property fields.",
			"invalid_query_string")},
		{"bad include_fields", mtUserPath(mtAlice) + "?fields=email&include_fields=yes", read, 400, mtError(400,
			"Query validation error: 'Expected type boolean but found type string' on property include_fields.", "invalid_query_string")},
		{"unknown user", mtUserPath("auth0|nobody"), read, 404, mtError(404, "The user does not exist.", "inexistent_user")},
		{"IdP token hidden without read:user_idp_tokens", mtUserPath(mtGitHub) + "?fields=identities", read, 200,
			map[string]any{"identities": []any{map[string]any{"connection": "github", "provider": "github", "user_id": float64(4242), "isSocial": true}}}},
		{"IdP token shown with read:user_idp_tokens", mtUserPath(mtGitHub) + "?fields=identities", readIdP, 200,
			map[string]any{"identities": []any{map[string]any{"connection": "github", "provider": "github", "user_id": float64(4242), "isSocial": true,
				"access_token": "idp-access-token-for-github-4242"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mtCheck(t, mtDo(t, tn, "GET", tc.path, tc.token, ""), tc.wantStatus, tc.wantBody)
		})
	}

	t.Run("linked identity is not a user", func(t *testing.T) {
		if err := tn.LinkUsers(mtAlice, mtGoogle); err != nil {
			t.Fatal(err)
		}
		mtCheck(t, mtDo(t, tn, "GET", mtUserPath(mtGoogle), read, ""), 404, mtError(404, "The user does not exist.", "inexistent_user"))
	})
}

func TestMgmtUsersByEmail(t *testing.T) {
	tn := mtStart(t)
	read := mtToken(t, tn, "read:users", nil)
	cases := []struct {
		name, query string
		wantStatus  int
		wantBody    any
	}{
		{"found", "?email=bob%40example.com&fields=user_id,email", 200, []any{map[string]any{"user_id": mtBob, "email": "bob@example.com"}}},
		{"case-sensitive as Auth0 documents", "?email=Bob%40Example.com", 200, []any{}},
		{"none", "?email=nobody%40example.com", 200, []any{}},
		{"missing email", "", 400, mtError(400, "Query validation error: 'Missing required property: email'.", "invalid_query_string")},
		{"bad fields", "?email=bob%40example.com&fields=nope", 400, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mtDo(t, tn, "GET", "/api/v2/users-by-email"+tc.query, read, "")
			if tc.wantBody == nil {
				if got.status != tc.wantStatus {
					t.Errorf("status = %d, want %d", got.status, tc.wantStatus)
				}
				return
			}
			mtCheck(t, got, tc.wantStatus, tc.wantBody)
		})
	}
}

func TestMgmtPatchUser(t *testing.T) {
	tn := mtStart(t)
	update := mtToken(t, tn, "update:users", nil)

	t.Run("merge with null delete", func(t *testing.T) {
		before, _ := tn.UserSnapshot(mtAlice)
		got := mtDo(t, tn, "PATCH", mtUserPath(mtAlice)+"?fields=ignored", update,
			`{"user_metadata":{"theme":null,"addresses":{"work":"100 Industrial Way"}},"app_metadata":{"plan":null,"tier":2},"name":"Alice B.","picture":null}`)
		if got.status != 200 {
			t.Fatalf("status = %d, body %v", got.status, got.body)
		}
		body := got.body.(map[string]any)
		want := map[string]any{
			"user_metadata": map[string]any{"locale": "en", "addresses": map[string]any{"work": "100 Industrial Way"}},
			"app_metadata":  map[string]any{"tier": float64(2)},
			"name":          "Alice B.",
			"nickname":      "alice",
		}
		for k, v := range want {
			if diff := cmp.Diff(v, body[k]); diff != "" {
				t.Errorf("%s (-want +got):\n%s", k, diff)
			}
		}
		if _, ok := body["picture"]; ok {
			t.Errorf("picture = %v, want it removed", body["picture"])
		}
		if body["updated_at"] == before["updated_at"] {
			t.Errorf("updated_at did not change: %v", body["updated_at"])
		}
		after, _ := tn.UserSnapshot(mtAlice)
		if diff := cmp.Diff(mtStripTimes(body), mtStripTimes(mtJSONRoundTrip(t, after))); diff != "" {
			t.Errorf("stored user differs from the answer (-answer +stored):\n%s", diff)
		}
	})

	t.Run("email change without email_verified unverifies", func(t *testing.T) {
		got := mtDo(t, tn, "PATCH", mtUserPath(mtBob), update, `{"email":"robert@example.com"}`)
		body, _ := got.body.(map[string]any)
		if got.status != 200 || body["email"] != "robert@example.com" || body["email_verified"] != false {
			t.Errorf("got %d %v, want 200 with the new, unverified email", got.status, got.body)
		}
		got = mtDo(t, tn, "PATCH", mtUserPath(mtBob), update, `{"email":"bob@example.com","email_verified":true}`)
		body, _ = got.body.(map[string]any)
		if got.status != 200 || body["email_verified"] != true {
			t.Errorf("got %d %v, want 200 with a verified email", got.status, got.body)
		}
	})

	cases := []struct {
		name, path, contentType, body string
		wantStatus                    int
		wantBody                      any
	}{
		{"unknown property", mtUserPath(mtAlice), "application/json", `{"blocked":true,"nickname":"a","color":"red"}`, 400,
			mtError(400, "Payload validation error: 'Additional properties not allowed: blocked,color'.", "invalid_body")},
		{"malformed JSON", mtUserPath(mtAlice), "application/json", `{"name":`, 400,
			mtError(400, "Invalid request payload JSON format", "invalid_body")},
		{"array body", mtUserPath(mtAlice), "application/json", `[1]`, 400,
			mtError(400, "Payload validation error: 'Expected type object but found type array'.", "invalid_body")},
		{"empty body", mtUserPath(mtAlice), "application/json", ``, 400,
			mtError(400, "Payload validation error: 'Expected type object but found type null'.", "invalid_body")},
		{"wrong type", mtUserPath(mtAlice), "application/json", `{"email_verified":"yes"}`, 400,
			mtError(400, "Payload validation error: 'Expected type boolean but found type string' on property email_verified.", "invalid_body")},
		{"metadata not an object", mtUserPath(mtAlice), "application/json", `{"user_metadata":[1]}`, 400,
			mtError(400, "Payload validation error: 'Expected type object but found type array' on property user_metadata.", "invalid_body")},
		{"bad email", mtUserPath(mtAlice), "application/json", `{"email":"nope"}`, 400,
			mtError(400, "Payload validation error: 'Object didn't pass validation for format email: nope' on property email.", "invalid_body")},
		{"form body", mtUserPath(mtAlice), "application/x-www-form-urlencoded", `name=x`, 415,
			mtError(415, "Unsupported Media Type", "")},
		{"oversized body", mtUserPath(mtAlice), "application/json", `{"user_metadata":{"x":"` + strings.Repeat("a", 1<<20) + `"}}`, 413,
			mtError(413, "Payload content length greater than maximum allowed: 1048576", "")},
		{"unknown user", mtUserPath("auth0|nobody"), "application/json", `{"name":"x"}`, 404,
			mtError(404, "The user does not exist.", "inexistent_user")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := tn.UserSnapshot(mtAlice)
			req, _ := http.NewRequest("PATCH", tn.URL()+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+update)
			req.Header.Set("Content-Type", tc.contentType)
			got := mtSend(t, req)
			mtCheck(t, got, tc.wantStatus, tc.wantBody)
			mtRateLimitHeaders(t, got.header)
			after, _ := tn.UserSnapshot(mtAlice)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("a rejected PATCH changed the user (-before +after):\n%s", diff)
			}
		})
	}
}

func mtJSONRoundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMgmtLink(t *testing.T) {
	foreign := testkit.RSAKey(t)
	const alicePath = "/api/v2/users/auth0%7Calice/identities"

	// Each case runs against a fresh tenant; body builds the request body from it.
	cases := []struct {
		name       string
		noAZP      bool   // the calling token has no azp
		path       string // default: alice's identities
		body       func(t *testing.T, tn *devtenant.Tenant) string
		wantStatus int
		wantBody   any
	}{
		{name: "link_with wrong alg HS256", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith(testkit.SignJWT(t, jose.HS256, []byte("any-secret-any-secret-any-secret!"), "", mtIDClaims(tn, mtGitHub)))
		}, wantStatus: 400, wantBody: mtError(400, "JWT (link_with) must have an alg of RS256.", "")},
		{name: "link_with alg none", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith(mtUnsigned(mtIDClaims(tn, mtGitHub)))
		}, wantStatus: 400, wantBody: mtError(400, "JWT (link_with) must have an alg of RS256.", "")},
		{name: "link_with signed by another key", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith(testkit.SignJWT(t, jose.RS256, foreign, "", mtIDClaims(tn, mtGitHub)))
		}, wantStatus: 400, wantBody: mtError(400, "Invalid token (link_with).", "")},
		{name: "link_with not a JWT", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith("not-a-jwt")
		}, wantStatus: 400, wantBody: mtError(400, "Invalid token (link_with).", "")},
		{name: "link_with wrong issuer", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith(mtIDToken(t, tn, mtGitHub, map[string]any{"iss": "https://other-tenant.example/"}, 0))
		}, wantStatus: 400, wantBody: mtError(400, "JWT (link_with) must have the same issuer as the calling user.", "")},
		{name: "link_with wrong aud", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith(mtIDToken(t, tn, mtGitHub, map[string]any{"aud": "another-client"}, 0))
		}, wantStatus: 400, wantBody: mtError(400, "JWT (link_with) must have an aud claim that matches that of the calling token's azp.", "")},
		{name: "calling token without azp", noAZP: true, body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith(mtIDToken(t, tn, mtGitHub, nil, 0))
		}, wantStatus: 400, wantBody: mtError(400, "JWT (link_with) must have an aud claim that matches that of the calling token's azp.", "")},
		{name: "link_with aud not a string", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith(mtIDToken(t, tn, mtGitHub, map[string]any{"aud": 42}, 0))
		}, wantStatus: 400, wantBody: mtError(400, "JWT (link_with) contains an invalid aud claim.", "")},
		{name: "link_with expired", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith(mtIDToken(t, tn, mtGitHub, nil, -time.Minute))
		}, wantStatus: 400, wantBody: mtError(400, "Invalid token (link_with).", "")},
		{name: "link_with without sub", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith(mtIDToken(t, tn, mtGitHub, map[string]any{"sub": nil}, 0))
		}, wantStatus: 400, wantBody: mtError(400, "JWT (link_with) must contains sub claim.", "")},
		{name: "link_with invalid sub", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith(mtIDToken(t, tn, mtGitHub, map[string]any{"sub": "no-provider"}, 0))
		}, wantStatus: 400, wantBody: mtError(400, "JWT (link_with) contains an invalid sub claim.", "")},
		{name: "link_with main equals secondary", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith(mtIDToken(t, tn, mtAlice, nil, 0))
		}, wantStatus: 400, wantBody: mtError(400, "Main identity and the new one are the same.", "")},
		{name: "link_with secondary not found", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return mtLinkWith(mtIDToken(t, tn, mtGitHub, map[string]any{"sub": "github|1"}, 0))
		}, wantStatus: 400, wantBody: mtError(400, "Provided secondary account not found.", "")},
		{name: "provider main equals secondary", body: mtBody(`{"provider":"auth0","user_id":"alice"}`),
			wantStatus: 400, wantBody: mtError(400, "Main identity and the new one are the same.", "")},
		{name: "provider secondary not found", body: mtBody(`{"provider":"github","user_id":"1"}`),
			wantStatus: 400, wantBody: mtError(400, "Provided secondary account not found.", "")},
		{name: "already linked", body: func(t *testing.T, tn *devtenant.Tenant) string {
			if err := tn.LinkUsers(mtAlice, mtGitHub); err != nil {
				t.Fatal(err)
			}
			return `{"provider":"github","user_id":4242}`
		}, wantStatus: 409, wantBody: mtError(409, "Specified identity already exists.", "")},
		{name: "primary unknown", path: "/api/v2/users/auth0%7Cnobody/identities", body: mtBody(`{"provider":"github","user_id":"4242"}`),
			wantStatus: 404, wantBody: mtError(404, "The user does not exist.", "inexistent_user")},
		{name: "both variants", body: func(t *testing.T, tn *devtenant.Tenant) string {
			return `{"link_with":"` + mtIDToken(t, tn, mtGitHub, nil, 0) + `","provider":"github","user_id":"4242"}`
		}, wantStatus: 400, wantBody: mtError(400,
			"Payload validation error: 'link_with' cannot be sent with 'provider', 'user_id' or 'connection_id'.", "invalid_body")},
		{name: "neither variant", body: mtBody(`{}`), wantStatus: 400,
			wantBody: mtError(400, "Payload validation error: 'Too few properties defined (0), minimum 1'.", "invalid_body")},
		{name: "provider without user_id", body: mtBody(`{"provider":"github"}`), wantStatus: 400,
			wantBody: mtError(400, "Payload validation error: 'Missing required property: user_id'.", "invalid_body")},
		{name: "user_id of the wrong type", body: mtBody(`{"provider":"github","user_id":true}`), wantStatus: 400,
			wantBody: mtError(400, "Payload validation error: 'Expected type string but found type boolean' on property user_id.", "invalid_body")},
		{name: "unknown member", body: mtBody(`{"provider":"github","user_id":"4242","merge":true}`), wantStatus: 400,
			wantBody: mtError(400, "Payload validation error: 'Additional properties not allowed: merge'.", "invalid_body")},
		{name: "malformed JSON", body: mtBody(`{"provider":`), wantStatus: 400,
			wantBody: mtError(400, "Invalid request payload JSON format", "invalid_body")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tn := mtStart(t)
			overrides := map[string]any{}
			if tc.noAZP {
				overrides["azp"] = nil
			}
			token := mtToken(t, tn, "update:users", overrides)
			path := tc.path
			if path == "" {
				path = alicePath
			}
			body := tc.body(t, tn)
			before, _ := tn.UserSnapshot(mtAlice)
			got := mtDo(t, tn, "POST", path, token, body)
			mtCheck(t, got, tc.wantStatus, tc.wantBody)
			mtRateLimitHeaders(t, got.header)
			after, _ := tn.UserSnapshot(mtAlice)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("a rejected link changed the primary (-before +after):\n%s", diff)
			}
		})
	}
}

func mtIDClaims(tn *devtenant.Tenant, sub string) map[string]any {
	return map[string]any{"iss": tn.Issuer(), "sub": sub, "aud": mtClient,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
}

func mtLinkWith(token string) string { return `{"link_with":"` + token + `"}` }

func mtBody(s string) func(*testing.T, *devtenant.Tenant) string {
	return func(*testing.T, *devtenant.Tenant) string { return s }
}

func TestMgmtLinkSuccess(t *testing.T) {
	variants := []struct {
		name string
		body func(t *testing.T, tn *devtenant.Tenant) string
	}{
		{"link_with", func(t *testing.T, tn *devtenant.Tenant) string { return mtLinkWith(mtIDToken(t, tn, mtGitHub, nil, 0)) }},
		{"provider and string user_id", mtBody(`{"provider":"github","user_id":"4242"}`)},
		{"provider and numeric user_id", mtBody(`{"provider":"github","user_id":4242,"connection_id":"con_0123456789abcdef"}`)},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			tn := mtStart(t)
			token := mtToken(t, tn, "update:users read:users", nil)
			got := mtDo(t, tn, "POST", "/api/v2/users/auth0%7Calice/identities", token, v.body(t, tn))
			want := []any{
				map[string]any{"connection": "Username-Password-Authentication", "provider": "auth0", "user_id": "alice", "isSocial": false},
				map[string]any{"connection": "github", "provider": "github", "user_id": float64(4242), "isSocial": true,
					"profileData": map[string]any{"email": "alice@users.noreply.example", "email_verified": true,
						"name": "Alice on GitHub", "nickname": "alice-gh", "picture": devtenanttest.DemoPicture(t, mtGitHub)}},
			}
			mtCheck(t, got, 201, want)
			mtRateLimitHeaders(t, got.header)

			// The secondary is gone and its metadata with it; the primary keeps its own.
			mtCheck(t, mtDo(t, tn, "GET", mtUserPath(mtGitHub), token, ""), 404, mtError(404, "The user does not exist.", "inexistent_user"))
			alice := mtDo(t, tn, "GET", mtUserPath(mtAlice)+"?fields=user_metadata,identities", token, "")
			mtCheck(t, alice, 200, map[string]any{"user_metadata": map[string]any{"theme": "dark", "locale": "en"}, "identities": want})
			if n := mtDo(t, tn, "GET", "/api/v2/users-by-email?email=alice%40users.noreply.example", token, ""); len(n.body.([]any)) != 0 {
				t.Errorf("the linked secondary is still found by email: %v", n.body)
			}
		})
	}

	t.Run("a secondary with linked identities brings them all", func(t *testing.T) {
		tn := mtStart(t)
		if err := tn.LinkUsers(mtBob, mtGoogle); err != nil {
			t.Fatal(err)
		}
		got := mtDo(t, tn, "POST", "/api/v2/users/auth0%7Calice/identities", mtToken(t, tn, "update:users", nil), `{"provider":"auth0","user_id":"bob"}`)
		var keys []string
		for _, id := range got.body.([]any) {
			m := id.(map[string]any)
			keys = append(keys, m["provider"].(string)+"|"+m["user_id"].(string))
		}
		if diff := cmp.Diff([]string{mtAlice, mtBob, mtGoogle}, keys); got.status != 201 || diff != "" {
			t.Errorf("status %d, identities (-want +got):\n%s", got.status, diff)
		}
	})

	t.Run("with update:current_user_identities on the caller's own user", func(t *testing.T) {
		tn := mtStart(t)
		got := mtDo(t, tn, "POST", "/api/v2/users/auth0%7Calice/identities", mtToken(t, tn, "update:current_user_identities", nil),
			mtLinkWith(mtIDToken(t, tn, mtGitHub, nil, 0)))
		if got.status != 201 {
			t.Errorf("status = %d, want 201 (%v)", got.status, got.body)
		}
	})
}

func TestMgmtUnlink(t *testing.T) {
	t.Run("round trip", func(t *testing.T) {
		tn := mtStart(t)
		token := mtToken(t, tn, "update:users read:users", nil)
		if err := tn.LinkUsers(mtAlice, mtGitHub); err != nil {
			t.Fatal(err)
		}
		got := mtDo(t, tn, "DELETE", "/api/v2/users/auth0%7Calice/identities/github/4242", token, "")
		mtCheck(t, got, 200, []any{map[string]any{"connection": "Username-Password-Authentication", "provider": "auth0", "user_id": "alice", "isSocial": false}})
		mtRateLimitHeaders(t, got.header)

		// The identity is a standalone user again, with its profile and no metadata.
		gh := mtDo(t, tn, "GET", mtUserPath(mtGitHub), token, "")
		want := map[string]any{"user_id": mtGitHub, "email": "alice@users.noreply.example", "email_verified": true,
			"name": "Alice on GitHub", "nickname": "alice-gh", "picture": devtenanttest.DemoPicture(t, mtGitHub),
			"user_metadata": map[string]any{}, "app_metadata": map[string]any{}, "logins_count": float64(0),
			"identities": []any{map[string]any{"connection": "github", "provider": "github", "user_id": float64(4242), "isSocial": true}}}
		mtCheck(t, mtResponse{status: gh.status, body: mtStripTimes(gh.body)}, 200, want)

		// It can be linked again.
		if got := mtDo(t, tn, "POST", "/api/v2/users/auth0%7Calice/identities", token, `{"provider":"github","user_id":"4242"}`); got.status != 201 {
			t.Errorf("relink: status %d, want 201", got.status)
		}
	})

	t.Run("user_id containing a pipe", func(t *testing.T) {
		seed := devtenant.DemoSeed()
		seed.Connections = append(seed.Connections, devtenant.Connection{Name: "corp", Strategy: "oauth2"})
		seed.Users = append(seed.Users, devtenant.User{UserID: "oauth2|corp|77", Connection: "corp", Email: "a@corp.example", Name: "Corp Alice"})
		tn := mtStart(t, seed)
		token := mtToken(t, tn, "update:users read:users", nil)
		if err := tn.LinkUsers(mtAlice, "oauth2|corp|77"); err != nil {
			t.Fatal(err)
		}
		got := mtDo(t, tn, "DELETE", "/api/v2/users/auth0%7Calice/identities/oauth2/corp%7C77", token, "")
		if got.status != 200 || len(got.body.([]any)) != 1 {
			t.Fatalf("status %d, body %v; want 200 and only the main identity left", got.status, got.body)
		}
		if _, ok := tn.UserSnapshot("oauth2|corp|77"); !ok {
			t.Error("the unlinked identity is not a standalone user")
		}
	})

	cases := []struct {
		name, path string
		wantStatus int
		wantBody   any
	}{
		{"main identity", "/api/v2/users/auth0%7Calice/identities/auth0/alice", 400, mtError(400, "Main identity cannot be removed.", "")},
		{"primary unknown", "/api/v2/users/auth0%7Cnobody/identities/github/4242", 404, mtError(404, "The user does not exist.", "inexistent_user")},
		{"identity the user does not have", "/api/v2/users/auth0%7Calice/identities/google-oauth2/1077", 200, []any{
			map[string]any{"connection": "Username-Password-Authentication", "provider": "auth0", "user_id": "alice", "isSocial": false},
			map[string]any{"connection": "github", "provider": "github", "user_id": float64(4242), "isSocial": true,
				"profileData": map[string]any{"email": "alice@users.noreply.example", "email_verified": true,
					"name": "Alice on GitHub", "nickname": "alice-gh", "picture": devtenanttest.DemoPicture(t, mtGitHub)}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tn := mtStart(t)
			if err := tn.LinkUsers(mtAlice, mtGitHub); err != nil {
				t.Fatal(err)
			}
			got := mtDo(t, tn, "DELETE", tc.path, mtToken(t, tn, "update:users", nil), "")
			mtCheck(t, got, tc.wantStatus, tc.wantBody)
			if _, ok := tn.UserSnapshot(mtGoogle); !ok {
				t.Error("the standalone google user was touched")
			}
		})
	}
}

func TestMgmtGoAPILinkErrors(t *testing.T) {
	tn := mtStart(t)
	cases := []struct {
		primary, secondary string
		want               string
	}{
		{mtAlice, mtAlice, "Main identity and the new one are the same."},
		{mtAlice, "github|1", "Provided secondary account not found."},
		{"auth0|nobody", mtGitHub, "The user does not exist."},
	}
	for _, tc := range cases {
		if err := tn.LinkUsers(tc.primary, tc.secondary); err == nil || err.Error() != tc.want {
			t.Errorf("LinkUsers(%q, %q) = %v, want %q", tc.primary, tc.secondary, err, tc.want)
		}
	}
	if err := tn.UnlinkUser(mtAlice, "auth0", "alice"); err == nil || err.Error() != "Main identity cannot be removed." {
		t.Errorf("UnlinkUser of the main identity = %v", err)
	}
}

func TestMgmtRateLimit(t *testing.T) {
	tn := mtStart(t)
	token := mtToken(t, tn, "read:users", nil)
	// One token per 100 s: the bucket cannot refill between these requests however
	// slow the machine is.
	tn.SetRateLimit(0.01, 2)
	var got []mtResponse
	for range 3 {
		got = append(got, mtDo(t, tn, "GET", mtUserPath(mtAlice)+"?fields=user_id", token, ""))
	}
	for i, want := range []struct {
		status    int
		remaining string
	}{{200, "1"}, {200, "0"}, {429, "0"}} {
		if got[i].status != want.status {
			t.Errorf("request %d: status %d, want %d", i+1, got[i].status, want.status)
		}
		if h := got[i].header; h.Get("x-ratelimit-limit") != "2" || h.Get("x-ratelimit-remaining") != want.remaining {
			t.Errorf("request %d: x-ratelimit-limit %q remaining %q, want 2 and %s", i+1, h.Get("x-ratelimit-limit"), h.Get("x-ratelimit-remaining"), want.remaining)
		}
		mtRateLimitHeaders(t, got[i].header)
	}
	mtCheck(t, got[2], 429, mtError(429, "Global limit has been reached", "too_many_requests"))
	reset, _ := strconv.ParseInt(got[2].header.Get("x-ratelimit-reset"), 10, 64)
	if now := time.Now().Unix(); reset < now+90 || reset > now+101 {
		t.Errorf("x-ratelimit-reset = %d, want about 100s after %d (when the next token arrives)", reset, now)
	}

	// Errors of the API itself count and carry the headers too; turning it off restores service.
	if got := mtDo(t, tn, "GET", mtUserPath(mtAlice), "", ""); got.status != 429 {
		t.Errorf("unauthenticated request while limited: status %d, want 429", got.status)
	}
	tn.SetRateLimit(0, 0)
	if got := mtDo(t, tn, "GET", mtUserPath(mtAlice), token, ""); got.status != 200 {
		t.Errorf("after turning the limit off: status %d, want 200", got.status)
	}
}

func TestMgmtFaults(t *testing.T) {
	tn := mtStart(t)
	token := mtToken(t, tn, "read:users", nil)
	get := func() mtResponse { return mtDo(t, tn, "GET", mtUserPath(mtAlice)+"?fields=user_id", token, "") }

	t.Run("N failures then success", func(t *testing.T) {
		tn.ResetRequests()
		tn.InjectFault(devtenant.EndpointGetUser, devtenant.Fault{Status: 503, Count: 2})
		for i := range 2 {
			got := get()
			mtCheck(t, got, 503, mtError(503, "Service Unavailable", ""))
			if i == 0 {
				mtRateLimitHeaders(t, got.header)
			}
		}
		mtCheck(t, get(), 200, map[string]any{"user_id": mtAlice})
		if n := tn.RequestCount(devtenant.EndpointGetUser); n != 3 {
			t.Errorf("RequestCount = %d, want 3", n)
		}
		if n := tn.ManagementRequests(); n != 3 {
			t.Errorf("ManagementRequests = %d, want 3", n)
		}
		times := tn.ManagementRequestTimes()
		if len(times) != 3 || !slices.IsSortedFunc(times, func(a, b time.Time) int { return a.Compare(b) }) {
			t.Errorf("ManagementRequestTimes = %v, want 3 in order", times)
		}
		tn.ResetRequests()
		if n := tn.RequestCount(devtenant.EndpointGetUser); n != 0 {
			t.Errorf("after ResetRequests: %d, want 0", n)
		}
		if times := tn.ManagementRequestTimes(); len(times) != 0 {
			t.Errorf("after ResetRequests: %d arrival times, want none", len(times))
		}
	})

	t.Run("429 with Retry-After", func(t *testing.T) {
		tn.InjectFault(devtenant.EndpointGetUser, devtenant.Fault{Status: 429, Count: 1, RetryAfter: 7})
		got := get()
		mtCheck(t, got, 429, mtError(429, "Global limit has been reached", ""))
		if got.header.Get("Retry-After") != "7" || got.header.Get("x-ratelimit-remaining") != "0" {
			t.Errorf("Retry-After %q, remaining %q; want 7 and 0", got.header.Get("Retry-After"), got.header.Get("x-ratelimit-remaining"))
		}
	})

	t.Run("until cleared", func(t *testing.T) {
		tn.InjectFault(devtenant.EndpointGetUser, devtenant.Fault{Status: 500})
		for range 3 {
			if got := get(); got.status != 500 {
				t.Fatalf("status %d, want 500", got.status)
			}
		}
		tn.ClearFaults()
		if got := get(); got.status != 200 {
			t.Errorf("after ClearFaults: status %d, want 200", got.status)
		}
	})
}

// TestMgmtFaultLatencyEndsWithTheClient runs in a synctest bubble: the injected
// latency is an hour of the bubble's clock, so the test shows without waiting that
// the delayed handler gives up the moment its client does, and does not answer.
func TestMgmtFaultLatencyEndsWithTheClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn, err := devtenant.New(devtenant.Options{Issuer: "http://devtenant.test/"})
		if err != nil {
			t.Fatal(err)
		}
		token := mtToken(t, tn, "read:users", nil)
		get := func(ctx context.Context) *httptest.ResponseRecorder {
			req := httptest.NewRequestWithContext(ctx, "GET", mtUserPath(mtAlice), nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			tn.Handler().ServeHTTP(rec, req)
			return rec
		}
		tn.InjectFault(devtenant.EndpointGetUser, devtenant.Fault{Latency: devtenant.Duration(time.Hour), Count: 1})

		ctx, leave := context.WithCancel(t.Context())
		answered := make(chan *httptest.ResponseRecorder)
		go func() { answered <- get(ctx) }()
		synctest.Wait() // the handler now waits out its latency
		start := time.Now()
		leave()
		rec := <-answered
		if waited := time.Since(start); waited != 0 {
			t.Errorf("the handler returned %v after its client left, want at once", waited)
		}
		if rec.Body.Len() != 0 {
			t.Errorf("the handler answered a client that had left: %d %s", rec.Code, rec.Body)
		}
		// The fault is spent: the next request is answered at once.
		if rec := get(t.Context()); rec.Code != http.StatusOK || time.Since(start) != 0 {
			t.Errorf("next request: status %d after %v, want 200 at once", rec.Code, time.Since(start))
		}
	})
}

func TestMgmtUnknownPaths(t *testing.T) {
	tn := mtStart(t)
	token := mtToken(t, tn, "read:users", nil)
	cases := []struct {
		name, method, path string
		wantStatus         int
		wantAllow          string
		wantRateHeaders    bool
	}{
		{"unknown Management API path", "GET", "/api/v2/clients", 404, "", true},
		{"wrong method on a Management API route", "PUT", mtUserPath(mtAlice), 404, "", true},
		{"unknown path", "GET", "/nope", 404, "", false},
		{"wrong method elsewhere", "PUT", "/__dev/requests", 405, "GET, HEAD, DELETE", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mtDo(t, tn, tc.method, tc.path, token, "")
			mtCheck(t, got, tc.wantStatus, mtError(tc.wantStatus, http.StatusText(tc.wantStatus), ""))
			if a := got.header.Get("Allow"); a != tc.wantAllow {
				t.Errorf("Allow = %q, want %q", a, tc.wantAllow)
			}
			if tc.wantRateHeaders {
				mtRateLimitHeaders(t, got.header)
			}
		})
	}
}
