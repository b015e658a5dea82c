package devtenant

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/testkit"
)

// The demo seed's clients, as the OIDC tests use them.
const (
	webClientID     = "linkbff-dev-client"
	webClientSecret = "linkbff-dev-secret-do-not-use-in-production"
	webCallback     = "http://127.0.0.1:3000/auth/callback"
	webOrigin       = "http://127.0.0.1:3000"
	nativeClientID  = "linkbff-dev-native"
	nativeCallback  = "com.example.linkbff://callback"
	demoAPI         = "https://linkbff.example/api"
)

// startOIDCTenant starts a tenant on 127.0.0.1:0 with seed (nil: the demo seed).
func startOIDCTenant(t *testing.T, seed *Seed) *Tenant {
	t.Helper()
	tn, err := Start(Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tn.Close() })
	return tn
}

// oidcBrowser is an HTTP client that keeps cookies and stops at every redirect, so a
// test sees each hop.
func oidcBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

// oidcAuthorizeURL builds an /authorize URL for the web client's code flow, with
// overrides (an empty value removes the parameter).
func oidcAuthorizeURL(tn *Tenant, overrides map[string]string) string {
	q := url.Values{
		"client_id":     {webClientID},
		"redirect_uri":  {webCallback},
		"response_type": {"code"},
		"scope":         {"openid profile email"},
		"state":         {"st4te"},
		"nonce":         {"n0nce"},
	}
	for k, v := range overrides {
		if v == "" {
			q.Del(k)
			continue
		}
		q.Set(k, v)
	}
	return tn.Issuer() + "authorize?" + q.Encode()
}

// oidcDo sends a request (bounded in time) and returns the response with its body
// read.
func oidcDo(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, body := testkit.Do(t, c, req)
	return res, string(body)
}

func oidcGet(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	res, body := testkit.Get(t, c, u)
	return res, string(body)
}

func oidcPostForm(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return oidcDo(t, c, req)
}

// htmlForm finds the form with the given id in page and returns its action and
// hidden fields.
func htmlForm(t *testing.T, page, id string) (action string, fields url.Values) {
	t.Helper()
	m := regexp.MustCompile(`(?s)<form id="` + regexp.QuoteMeta(id) + `"[^>]*action="([^"]*)"[^>]*>(.*?)</form>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form %q in page:\n%s", id, page)
	}
	fields = url.Values{}
	for _, in := range regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`).FindAllStringSubmatch(m[2], -1) {
		fields.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), fields
}

// oidcPasswordLogin opens authURL in browser, submits the database login form and
// returns the redirect the tenant answers with.
func oidcPasswordLogin(t *testing.T, browser *http.Client, authURL, email, password string) *http.Response {
	t.Helper()
	res, page := oidcGet(t, browser, authURL)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /authorize: status %d, want the login page:\n%s", res.StatusCode, page)
	}
	action, fields := htmlForm(t, page, "database-login")
	fields.Set("email", email)
	fields.Set("password", password)
	res, body := oidcPostForm(t, browser, action, fields)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("POST login: status %d, want 302:\n%s", res.StatusCode, body)
	}
	return res
}

// redirectParams returns the authorization response parameters of a redirect,
// checking that it goes to wantTarget and carries them in the wanted part.
func redirectParams(t *testing.T, res *http.Response, wantTarget, part string) url.Values {
	t.Helper()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.Header.Get("Location") == "" {
		t.Fatalf("status %d, Location %q: not a redirect", res.StatusCode, res.Header.Get("Location"))
	}
	raw := loc.RawQuery
	if part == "fragment" {
		raw = loc.EscapedFragment()
	} else if loc.Fragment != "" {
		t.Errorf("Location %s has a fragment, want the answer in the query", loc)
	}
	target := *loc
	target.RawQuery, target.Fragment = "", ""
	if target.String() != wantTarget {
		t.Errorf("redirected to %s, want %s", target.String(), wantTarget)
	}
	params, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return params
}

// jwtPayload decodes a JWT's claims without verifying it (the interop tests verify
// signatures with a real relying party).
func jwtPayload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func decodeJSON(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	return m
}

func TestDiscovery(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	res, body := oidcGet(t, http.DefaultClient, tn.Issuer()+".well-known/openid-configuration")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	doc := decodeJSON(t, body)
	iss := tn.Issuer()
	if !strings.HasSuffix(iss, "/") {
		t.Fatalf("issuer %q has no trailing slash", iss)
	}
	for k, want := range map[string]string{
		"issuer":                 iss,
		"authorization_endpoint": iss + "authorize",
		"token_endpoint":         iss + "oauth/token",
		"userinfo_endpoint":      iss + "userinfo",
		"jwks_uri":               iss + ".well-known/jwks.json",
	} {
		if doc[k] != want {
			t.Errorf("%s = %v, want %s", k, doc[k], want)
		}
	}
	for k, want := range map[string][]string{
		"response_types_supported":              {"code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token"},
		"response_modes_supported":              {"query", "fragment", "form_post"},
		"code_challenge_methods_supported":      {"S256"},
		"id_token_signing_alg_values_supported": {"RS256"},
		"subject_types_supported":               {"public"},
		"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
	} {
		got := stringList(doc[k])
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	for _, k := range []string{"scopes_supported", "claims_supported"} {
		if len(stringList(doc[k])) == 0 {
			t.Errorf("%s is empty", k)
		}
	}
}

func stringList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestJWKSPublishesSigningKeys(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	kids := func() []string {
		res, body := oidcGet(t, http.DefaultClient, tn.Issuer()+".well-known/jwks.json")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		var set struct {
			Keys []struct{ Kid, Kty, Alg, Use, N, E string } `json:"keys"`
		}
		if err := json.Unmarshal([]byte(body), &set); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || k.N == "" || k.E == "" {
				t.Errorf("key %+v is not a public RS256 signing key", k)
			}
			out = append(out, k.Kid)
		}
		return out
	}
	if got := kids(); !slices.Equal(got, []string{tn.SigningKeyID()}) {
		t.Errorf("kids = %v, want only the signing key %s", got, tn.SigningKeyID())
	}
	if err := tn.RotateKeys(PublishNextKey); err != nil {
		t.Fatal(err)
	}
	if got := kids(); len(got) != 2 || got[0] != tn.SigningKeyID() {
		t.Errorf("after publishing the next key kids = %v, want the signing key and the next one", got)
	}
}

func TestCORS(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	tests := []struct {
		name, method, path, origin string
		wantStatus                 int
		wantAllowOrigin            string
	}{
		{"JWKS from a web origin", "GET", ".well-known/jwks.json", webOrigin, 200, webOrigin},
		{"JWKS from a foreign origin", "GET", ".well-known/jwks.json", "http://evil.example", 200, ""},
		{"discovery from a web origin", "GET", ".well-known/openid-configuration", "http://localhost:3000", 200, "http://localhost:3000"},
		{"origin must match exactly", "GET", ".well-known/jwks.json", webOrigin + "/", 200, ""},
		{"client info", "GET", "client/" + webClientID + ".js", webOrigin, 200, webOrigin},
		{"preflight of the token endpoint", "OPTIONS", "oauth/token", webOrigin, 204, webOrigin},
		{"preflight of the cross-origin login", "OPTIONS", "co/authenticate", webOrigin, 204, webOrigin},
		{"preflight from a foreign origin", "OPTIONS", "oauth/token", "http://evil.example", 403, ""},
		{"preflight of the Management API", "OPTIONS", "api/v2/users/auth0|alice", webOrigin, 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tn.Issuer()+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", tc.origin)
			if tc.method == "OPTIONS" {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "content-type,auth0-client")
			}
			res, _ := oidcDo(t, http.DefaultClient, req)
			if res.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", res.StatusCode, tc.wantStatus)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != tc.wantAllowOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tc.wantAllowOrigin)
			}
			if !slices.Contains(res.Header.Values("Vary"), "Origin") {
				t.Errorf("Vary = %v, want Origin", res.Header.Values("Vary"))
			}
			if tc.method == "OPTIONS" && tc.wantStatus == 204 {
				methods := res.Header.Get("Access-Control-Allow-Methods")
				headers := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers"))
				if !strings.Contains(methods, "POST") {
					t.Errorf("Access-Control-Allow-Methods = %q, want POST", methods)
				}
				for _, h := range []string{"content-type", "authorization", "auth0-client"} {
					if !strings.Contains(headers, h) {
						t.Errorf("Access-Control-Allow-Headers = %q, want %s", headers, h)
					}
				}
			}
		})
	}
}

// TestPreflightFollowsTheRouteTable sends a CORS preflight for every route: it passes
// exactly for the routes the table marks cors, and allows their methods only.
func TestPreflightFollowsTheRouteTable(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	fill := strings.NewReplacer("{id}", "auth0|alice", "{provider}", "github", "{user_id}", "4242", "{file}", webClientID+".js")
	for _, rt := range routeTable() {
		t.Run(rt.pattern, func(t *testing.T) {
			method, path, _ := strings.Cut(rt.pattern, " ")
			req, err := http.NewRequest(http.MethodOptions, tn.URL()+fill.Replace(path), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Origin", webOrigin)
			req.Header.Set("Access-Control-Request-Method", method)
			res, _ := oidcDo(t, nil, req)
			allowed := strings.Split(res.Header.Get("Access-Control-Allow-Methods"), ", ")
			switch {
			case rt.cors && (res.StatusCode != http.StatusNoContent || !slices.Contains(allowed, method)):
				t.Errorf("status %d, Access-Control-Allow-Methods %q; want 204 allowing %s", res.StatusCode, allowed, method)
			case !rt.cors && res.StatusCode != http.StatusForbidden:
				t.Errorf("status %d, want 403: the route does not allow CORS", res.StatusCode)
			}
			if slices.Contains(allowed, http.MethodPut) || slices.Contains(allowed, http.MethodDelete) {
				t.Errorf("Access-Control-Allow-Methods %q names a method no CORS route has", allowed)
			}
		})
	}
}

func TestUserinfo(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	other := startOIDCTenant(t, nil)
	mint := func(tn *Tenant, req MintRequest) string {
		t.Helper()
		req.UserID, req.ClientID, req.Audience = "auth0|alice", webClientID, demoAPI
		tok, err := tn.Mint(req)
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	valid := mint(tn, MintRequest{Scope: "openid profile email"})
	tests := []struct {
		name, method, auth string
		wantStatus         int
		wantError          string // in WWW-Authenticate; "" for none
	}{
		{"GET with a valid token", "GET", "Bearer " + valid, 200, ""},
		{"POST with a valid token", "POST", "Bearer " + valid, 200, ""},
		{"no Authorization header", "GET", "", 401, ""},
		{"not a JWT", "GET", "Bearer not-a-token", 401, "invalid_token"},
		{"expired", "GET", "Bearer " + mint(tn, MintRequest{Scope: "openid", TTL: Duration(-time.Hour)}), 401, "invalid_token"},
		{"API token without openid (no userinfo audience)", "GET", "Bearer " + mint(tn, MintRequest{Scope: "read:identities"}), 401, "invalid_token"},
		{"signed by another tenant", "GET", "Bearer " + mint(other, MintRequest{Scope: "openid"}), 401, "invalid_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tn.Issuer()+"userinfo", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res, body := oidcDo(t, http.DefaultClient, req)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.wantStatus, body)
			}
			if tc.wantStatus == 200 {
				got := decodeJSON(t, body)
				if got["sub"] != "auth0|alice" || got["email"] != "alice@example.com" || got["name"] != "Alice Example" {
					t.Errorf("profile = %v, want alice's sub, email and name", got)
				}
				return
			}
			wa := res.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(wa, "Bearer ") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", wa)
			}
			if hasErr := strings.Contains(wa, `error="invalid_token"`); hasErr != (tc.wantError != "") {
				t.Errorf("WWW-Authenticate = %q, want error %q", wa, tc.wantError)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	browser := oidcBrowser(t)
	oidcPasswordLogin(t, browser, oidcAuthorizeURL(tn, nil), "alice@example.com", "alice-password")

	// Errors come first: they must not end the session.
	for _, tc := range []struct{ name, query, wantText string }{
		{"returnTo not allowed", "?client_id=" + webClientID + "&returnTo=" + url.QueryEscape("http://evil.example/"),
			`The &#34;returnTo&#34; querystring parameter &#34;http://evil.example/&#34; is not defined as a valid URL in &#34;Allowed Logout URLs&#34;.`},
		{"unknown client", "?client_id=nope&returnTo=" + url.QueryEscape("http://127.0.0.1:3000/"), "Unknown client: nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := oidcGet(t, browser, tn.Issuer()+"v2/logout"+tc.query)
			if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
				t.Errorf("status %d, Location %q: want 400 and no redirect", res.StatusCode, res.Header.Get("Location"))
			}
			if !strings.Contains(body, tc.wantText) {
				t.Errorf("page does not say %q:\n%s", tc.wantText, body)
			}
		})
	}
	res, _ := oidcGet(t, browser, oidcAuthorizeURL(tn, map[string]string{"prompt": "none"}))
	if p := redirectParams(t, res, webCallback, "query"); p.Get("code") == "" {
		t.Fatalf("before logout prompt=none answered %v, want a code from the session", p)
	}

	res, _ = oidcGet(t, browser, tn.Issuer()+"v2/logout?client_id="+webClientID+"&returnTo="+url.QueryEscape("http://127.0.0.1:3000/"))
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "http://127.0.0.1:3000/" {
		t.Fatalf("logout: status %d Location %q, want 302 to returnTo", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = oidcGet(t, browser, oidcAuthorizeURL(tn, map[string]string{"prompt": "none"}))
	if p := redirectParams(t, res, webCallback, "query"); p.Get("error") != "login_required" {
		t.Errorf("after logout prompt=none answered %v, want login_required", p)
	}
}

func TestClientInfoJSONP(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	res, body := oidcGet(t, http.DefaultClient, tn.Issuer()+"client/"+webClientID+".js?t1700000000000")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/javascript") {
		t.Errorf("Content-Type = %q, want application/javascript", ct)
	}
	inner, ok := strings.CutPrefix(body, "Auth0.setClient(")
	inner, ok2 := strings.CutSuffix(inner, ");")
	if !ok || !ok2 {
		t.Fatalf("body is not Auth0.setClient({...});: %s", body)
	}
	var info struct {
		ID                string `json:"id"`
		Tenant            string `json:"tenant"`
		Subscription      string `json:"subscription"`
		Authorize         string `json:"authorize"`
		Callback          string `json:"callback"`
		HasAllowedOrigins bool   `json:"hasAllowedOrigins"`
		Strategies        []struct {
			Name        string           `json:"name"`
			Connections []map[string]any `json:"connections"`
		} `json:"strategies"`
	}
	if err := json.Unmarshal([]byte(inner), &info); err != nil {
		t.Fatalf("setClient argument is not JSON: %v", err)
	}
	if info.ID != webClientID || info.Tenant == "" || info.Subscription == "" ||
		info.Authorize != tn.Issuer()+"authorize" || info.Callback != webCallback || !info.HasAllowedOrigins {
		t.Errorf("client info = %+v", info)
	}
	conns := map[string]map[string]any{}
	for _, s := range info.Strategies {
		for _, c := range s.Connections {
			conns[s.Name+"/"+c["name"].(string)] = c
		}
	}
	db, ok := conns["auth0/Username-Password-Authentication"]
	if !ok || len(conns) != 3 || conns["github/github"] == nil || conns["google-oauth2/google-oauth2"] == nil {
		t.Fatalf("strategies/connections = %v, want the database, github and google-oauth2 connections", conns)
	}
	for k, want := range map[string]any{"showSignup": false, "showForgot": false, "passwordPolicy": "none", "requires_username": false} {
		if db[k] != want {
			t.Errorf("database connection %s = %v, want %v", k, db[k], want)
		}
	}

	for _, path := range []string{"client/nope.js", "client/" + webClientID, "client/" + webClientID + ".json"} {
		if res, _ := oidcGet(t, http.DefaultClient, tn.Issuer()+path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET /%s: status %d, want 404", path, res.StatusCode)
		}
	}
}
