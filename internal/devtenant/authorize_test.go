package devtenant

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// pkcePair is an RFC 7636 verifier and its S256 challenge.
func pkcePair(seed string) (verifier, challenge string) {
	verifier = strings.Repeat(seed, 64)[:64]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// seedWithClients returns the demo seed plus more clients.
func seedWithClients(cs ...Client) *Seed {
	s := DemoSeed()
	s.Clients = append(s.Clients, cs...)
	return &s
}

// codeFlowClient is a confidential web client allowed the authorization code grant
// only, at the web client's callback.
func codeFlowClient(id, secret string) Client {
	return Client{
		ClientID: id, ClientSecret: secret, Name: id, AppType: "regular_web",
		Callbacks: []string{webCallback}, GrantTypes: []string{"authorization_code"},
	}
}

func TestAuthorizeUntrustedTargetShowsErrorPage(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	tests := []struct {
		name      string
		overrides map[string]string
		wantText  string
	}{
		{"unknown client", map[string]string{"client_id": "nope"}, "Unknown client: nope"},
		{"no client", map[string]string{"client_id": ""}, "Missing required parameter: client_id"},
		{"redirect_uri not a callback", map[string]string{"redirect_uri": "http://evil.example/auth/callback"}, "Callback URL mismatch."},
		{"redirect_uri extends a callback", map[string]string{"redirect_uri": webCallback + "/more"}, "Callback URL mismatch."},
		{"redirect_uri differs in case", map[string]string{"redirect_uri": strings.ToUpper(webCallback)}, "Callback URL mismatch."},
		{"no redirect_uri", map[string]string{"redirect_uri": ""}, "Missing required parameter: redirect_uri"},
		{"callback of another client", map[string]string{"redirect_uri": nativeCallback}, "Callback URL mismatch."},
		// Even errors that would otherwise be redirected stay on the page while the
		// target is untrusted.
		{"bad response_type and bad redirect_uri", map[string]string{"response_type": "bogus", "redirect_uri": "http://evil.example/"}, "Callback URL mismatch."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := oidcGet(t, oidcBrowser(t), oidcAuthorizeURL(tn, tc.overrides))
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", res.StatusCode)
			}
			if loc := res.Header.Get("Location"); loc != "" {
				t.Errorf("Location = %q, want no redirect", loc)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q, want an HTML page", ct)
			}
			if !strings.Contains(body, tc.wantText) {
				t.Errorf("page does not say %q:\n%s", tc.wantText, body)
			}
		})
	}
}

func TestAuthorizeErrorsGoBackToRedirectURI(t *testing.T) {
	tn := startOIDCTenant(t, seedWithClients(codeFlowClient("code-only", "s3cret")))
	_, challenge := pkcePair("v")
	tests := []struct {
		name      string
		overrides map[string]string
		part      string // where the error must be: query or fragment
		wantError string
		wantDesc  string // a substring of error_description
	}{
		{"unsupported response_type", map[string]string{"response_type": "code bogus"}, "query", "unsupported_response_type", "Unsupported response type: code bogus"},
		{"missing response_type", map[string]string{"response_type": ""}, "query", "invalid_request", "Missing required parameter: response_type"},
		{"implicit without nonce", map[string]string{"response_type": "id_token", "nonce": ""}, "fragment", "invalid_request", "nonce"},
		{"implicit with response_mode=query", map[string]string{"response_type": "id_token", "response_mode": "query"}, "fragment", "invalid_request", "query"},
		{"unknown response_mode", map[string]string{"response_mode": "web_message"}, "query", "invalid_request", "Unsupported response mode: web_message"},
		{"public client without code_challenge", map[string]string{"client_id": nativeClientID, "redirect_uri": nativeCallback}, "query", "invalid_request", "code_challenge"},
		{"plain PKCE", map[string]string{"code_challenge": challenge, "code_challenge_method": "plain"}, "query", "invalid_request", "S256"},
		{"malformed code_challenge", map[string]string{"code_challenge": "short", "code_challenge_method": "S256"}, "query", "invalid_request", "code_challenge"},
		{"unknown audience", map[string]string{"audience": "https://unknown.example/"}, "query", "access_denied", "Service not found: https://unknown.example/"},
		{"unknown connection", map[string]string{"connection": "twitter"}, "query", "invalid_request", "connection"},
		{"bad max_age", map[string]string{"max_age": "-1"}, "query", "invalid_request", "max_age"},
		{"prompt=none with login", map[string]string{"prompt": "none login"}, "query", "invalid_request", "prompt"},
		{"prompt=none without session", map[string]string{"prompt": "none"}, "query", "login_required", "Login required"},
		{"implicit not granted", map[string]string{"client_id": "code-only", "response_type": "id_token"}, "fragment", "unauthorized_client", "Grant type 'implicit' not allowed for the client."},
		{"form_post error", map[string]string{"client_id": "code-only", "response_type": "token", "response_mode": "fragment"}, "fragment", "unauthorized_client", "implicit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := oidcGet(t, oidcBrowser(t), oidcAuthorizeURL(tn, tc.overrides))
			if res.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want 302:\n%s", res.StatusCode, body)
			}
			target := webCallback
			if tc.overrides["redirect_uri"] != "" {
				target = tc.overrides["redirect_uri"]
			}
			p := redirectParams(t, res, target, tc.part)
			if p.Get("error") != tc.wantError || !strings.Contains(p.Get("error_description"), tc.wantDesc) {
				t.Errorf("error=%q error_description=%q, want %q with %q", p.Get("error"), p.Get("error_description"), tc.wantError, tc.wantDesc)
			}
			if p.Get("state") != "st4te" {
				t.Errorf("state = %q, want it echoed", p.Get("state"))
			}
			if p.Has("code") || p.Has("id_token") || p.Has("access_token") {
				t.Errorf("an error response carries credentials: %v", p)
			}
		})
	}
}

func TestAuthorizeCodeFlowWithDatabaseLogin(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	browser := oidcBrowser(t)
	authURL := oidcAuthorizeURL(tn, map[string]string{"login_hint": "alice@example.com"})

	res, page := oidcGet(t, browser, authURL)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want the login page", res.StatusCode)
	}
	if !strings.Contains(page, `value="alice@example.com"`) {
		t.Errorf("login_hint does not prefill the email:\n%s", page)
	}
	if !strings.Contains(page, `data-connection="github"`) || !strings.Contains(page, `data-connection="google-oauth2"`) {
		t.Errorf("page without connection should link to the social connections:\n%s", page)
	}
	action, fields := htmlForm(t, page, "database-login")

	wrong := url.Values{"tx": fields["tx"], "connection": fields["connection"], "email": {"alice@example.com"}, "password": {"nope"}}
	res, page = oidcPostForm(t, browser, action, wrong)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Wrong email or password.") {
		t.Fatalf("wrong password: status %d, want 401 and the message:\n%s", res.StatusCode, page)
	}
	if _, again := htmlForm(t, page, "database-login"); again.Get("tx") != fields.Get("tx") {
		t.Errorf("re-rendered page uses transaction %q, want the same %q", again.Get("tx"), fields.Get("tx"))
	}

	right := url.Values{"tx": fields["tx"], "connection": fields["connection"], "email": {"ALICE@example.com"}, "password": {"alice-password"}}
	res, body := oidcPostForm(t, browser, action, right)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302:\n%s", res.StatusCode, body)
	}
	p := redirectParams(t, res, webCallback, "query")
	if p.Get("code") == "" || p.Get("state") != "st4te" {
		t.Fatalf("callback params %v, want code and state", p)
	}
	if !slices.ContainsFunc(res.Cookies(), func(c *http.Cookie) bool {
		return c.Name == sessionCookie && c.HttpOnly && c.SameSite == http.SameSiteLaxMode && c.Path == "/"
	}) {
		t.Errorf("cookies %v, want an HttpOnly SameSite=Lax session cookie on /", res.Cookies())
	}

	// The transaction is single use.
	res, _ = oidcPostForm(t, browser, action, right)
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
		t.Errorf("reusing the transaction: status %d Location %q, want 400 page", res.StatusCode, res.Header.Get("Location"))
	}

	tok := exchangeCode(t, tn, url.Values{"code": {p.Get("code")}, "redirect_uri": {webCallback}})
	claims := jwtPayload(t, tok["id_token"].(string))
	if claims["sub"] != "auth0|alice" || claims["nonce"] != "n0nce" || claims["aud"] != webClientID || claims["email"] != "alice@example.com" {
		t.Errorf("ID token claims = %v", claims)
	}
	if sid, _ := claims["sid"].(string); sid == "" || strings.Contains(browserCookie(browser, tn), sid) {
		t.Errorf("sid = %q, want a session id that is not the cookie value", sid)
	}
	if at, _ := claims["auth_time"].(float64); time.Since(time.Unix(int64(at), 0)) > time.Minute {
		t.Errorf("auth_time = %v, want the login just now", claims["auth_time"])
	}
	user, _ := tn.UserSnapshot("auth0|alice")
	if user["logins_count"] != 1 || user["last_login"] == nil {
		t.Errorf("logins_count = %v last_login = %v, want the login recorded", user["logins_count"], user["last_login"])
	}
}

// browserCookie returns the session cookie the browser holds for the tenant.
func browserCookie(browser *http.Client, tn *Tenant) string {
	u, _ := url.Parse(tn.Issuer())
	for _, c := range browser.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	return ""
}

// exchangeCode redeems a code for the web client and returns the token response.
func exchangeCode(t *testing.T, tn *Tenant, form url.Values) map[string]any {
	t.Helper()
	form.Set("grant_type", "authorization_code")
	req, err := http.NewRequest(http.MethodPost, tn.Issuer()+"oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(webClientID, webClientSecret)
	res, body := oidcDo(t, http.DefaultClient, req)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("code exchange: status %d: %s", res.StatusCode, body)
	}
	return decodeJSON(t, body)
}

func TestAuthorizeLoginPageEscapes(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	hint := `"><script>alert(1)</script>`
	res, page := oidcGet(t, oidcBrowser(t), oidcAuthorizeURL(tn, map[string]string{"login_hint": hint}))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if strings.Contains(page, "<script>") {
		t.Errorf("login_hint is rendered unescaped:\n%s", page)
	}
}

func TestAuthorizeSessionSSOPromptAndMaxAge(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	browser := oidcBrowser(t)
	oidcPasswordLogin(t, browser, oidcAuthorizeURL(tn, nil), "alice@example.com", "alice-password")

	tests := []struct {
		name      string
		overrides map[string]string
		wantPage  bool // the login page instead of an immediate answer
	}{
		{"no prompt: single sign-on", nil, false},
		{"prompt=none", map[string]string{"prompt": "none"}, false},
		{"database connection of the session", map[string]string{"connection": "Username-Password-Authentication"}, false},
		{"generous max_age", map[string]string{"max_age": "3600"}, false},
		{"prompt=login", map[string]string{"prompt": "login"}, true},
		{"max_age=0", map[string]string{"max_age": "0"}, true},
		{"another connection", map[string]string{"connection": "github"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, page := oidcGet(t, browser, oidcAuthorizeURL(tn, tc.overrides))
			if tc.wantPage {
				if res.StatusCode != http.StatusOK || !strings.Contains(page, `id="login"`) {
					t.Errorf("status %d, want the login page:\n%s", res.StatusCode, page)
				}
				return
			}
			p := redirectParams(t, res, webCallback, "query")
			if p.Get("code") == "" {
				t.Fatalf("answer %v, want a code without a login", p)
			}
			claims := jwtPayload(t, exchangeCode(t, tn, url.Values{"code": {p.Get("code")}, "redirect_uri": {webCallback}})["id_token"].(string))
			if claims["sub"] != "auth0|alice" || claims["sid"] == nil {
				t.Errorf("ID token from SSO: sub %v sid %v, want alice's session", claims["sub"], claims["sid"])
			}
		})
	}

	// prompt=none with an expired max_age must not show a page.
	res, _ := oidcGet(t, browser, oidcAuthorizeURL(tn, map[string]string{"prompt": "none", "max_age": "0"}))
	if p := redirectParams(t, res, webCallback, "query"); p.Get("error") != "login_required" {
		t.Errorf("prompt=none max_age=0: %v, want login_required", p)
	}
}

func TestAuthorizeImplicitAndFormPost(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	browser := oidcBrowser(t)
	oidcPasswordLogin(t, browser, oidcAuthorizeURL(tn, nil), "bob@example.com", "bob-password")

	for _, rt := range []string{"id_token", "token id_token", "id_token token"} {
		t.Run(rt, func(t *testing.T) {
			res, _ := oidcGet(t, browser, oidcAuthorizeURL(tn, map[string]string{"response_type": rt, "audience": demoAPI}))
			p := redirectParams(t, res, webCallback, "fragment")
			claims := jwtPayload(t, p.Get("id_token"))
			if claims["sub"] != "auth0|bob" || claims["nonce"] != "n0nce" || p.Get("state") != "st4te" {
				t.Errorf("fragment %v with claims %v", p, claims)
			}
			at := p.Get("access_token")
			if (rt == "id_token") != (at == "") {
				t.Fatalf("access_token %q for response_type %q", at, rt)
			}
			if at == "" {
				return
			}
			if claims["at_hash"] != atHash(at) || p.Get("token_type") != "Bearer" {
				t.Errorf("at_hash %v token_type %q, want the access token's hash and Bearer", claims["at_hash"], p.Get("token_type"))
			}
			if claims := jwtClaims(jwtPayload(t, at)); !claims.hasAudience(demoAPI) {
				t.Errorf("access token aud = %v, want %s", claims["aud"], demoAPI)
			}
		})
	}

	t.Run("form_post", func(t *testing.T) {
		res, page := oidcGet(t, browser, oidcAuthorizeURL(tn, map[string]string{"response_type": "id_token", "response_mode": "form_post"}))
		if res.StatusCode != http.StatusOK || res.Header.Get("Location") != "" {
			t.Fatalf("status %d Location %q, want a 200 page", res.StatusCode, res.Header.Get("Location"))
		}
		m := regexp.MustCompile(`<form method="post" action="([^"]*)">`).FindStringSubmatch(page)
		if m == nil || m[1] != webCallback || !strings.Contains(page, "document.forms[0].submit()") {
			t.Fatalf("page is not an auto-submitting form to the callback:\n%s", page)
		}
		if !strings.Contains(page, `name="id_token" value="ey`) || !strings.Contains(page, `name="state" value="st4te"`) {
			t.Errorf("form lacks id_token or state:\n%s", page)
		}
	})
}

func TestAuthorizeSocialLoginYieldsPrimarySub(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	for _, secondary := range []string{"github|4242", "auth0|bob"} {
		if err := tn.LinkUsers("auth0|alice", secondary); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name, connection, userID, wantSub string
	}{
		{"linked GitHub identity", "github", "github|4242", "auth0|alice"},
		{"standalone GitHub user", "github", "github|9001", "github|9001"},
		{"standalone Google user", "google-oauth2", "google-oauth2|1077", "google-oauth2|1077"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			browser := oidcBrowser(t)
			res, page := oidcGet(t, browser, oidcAuthorizeURL(tn, map[string]string{"response_type": "id_token", "connection": tc.connection}))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want the account chooser", res.StatusCode)
			}
			if !strings.Contains(page, `data-user-id="`+tc.userID+`"`) {
				t.Fatalf("chooser has no button for %s:\n%s", tc.userID, page)
			}
			if strings.Contains(page, `id="database-login"`) {
				t.Errorf("a social connection's page shows the password form")
			}
			action, fields := htmlForm(t, page, "social-login")
			fields.Set("user_id", tc.userID)
			res, body := oidcPostForm(t, browser, action, fields)
			if res.StatusCode != http.StatusFound {
				t.Fatalf("status %d:\n%s", res.StatusCode, body)
			}
			claims := jwtPayload(t, redirectParams(t, res, webCallback, "fragment").Get("id_token"))
			if claims["sub"] != tc.wantSub {
				t.Errorf("sub = %v, want %s", claims["sub"], tc.wantSub)
			}
		})
	}

	t.Run("linked database identity", func(t *testing.T) {
		res := oidcPasswordLogin(t, oidcBrowser(t), oidcAuthorizeURL(tn, map[string]string{"response_type": "id_token"}), "bob@example.com", "bob-password")
		if sub := jwtPayload(t, redirectParams(t, res, webCallback, "fragment").Get("id_token"))["sub"]; sub != "auth0|alice" {
			t.Errorf("sub = %v, want the primary auth0|alice", sub)
		}
	})

	t.Run("account of another connection", func(t *testing.T) {
		browser := oidcBrowser(t)
		_, page := oidcGet(t, browser, oidcAuthorizeURL(tn, map[string]string{"response_type": "id_token", "connection": "github"}))
		action, fields := htmlForm(t, page, "social-login")
		fields.Set("user_id", "google-oauth2|1077")
		if res, _ := oidcPostForm(t, browser, action, fields); res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
			t.Errorf("status %d Location %q, want 400 and no answer", res.StatusCode, res.Header.Get("Location"))
		}
	})
}

func TestAuthorizeNativeClientPKCE(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	verifier, challenge := pkcePair("abc")
	authURL := oidcAuthorizeURL(tn, map[string]string{
		"client_id": nativeClientID, "redirect_uri": nativeCallback,
		"code_challenge": challenge, "code_challenge_method": "S256",
	})
	res := oidcPasswordLogin(t, oidcBrowser(t), authURL, "alice@example.com", "alice-password")
	code := redirectParams(t, res, nativeCallback, "query").Get("code")

	redeem := func(verifier string) (int, map[string]any) {
		form := url.Values{"grant_type": {"authorization_code"}, "client_id": {nativeClientID}, "code": {code},
			"redirect_uri": {nativeCallback}, "code_verifier": {verifier}}
		res, body := oidcPostForm(t, http.DefaultClient, tn.Issuer()+"oauth/token", form)
		return res.StatusCode, decodeJSON(t, body)
	}
	wrongVerifier, _ := pkcePair("xyz")
	if status, body := redeem(wrongVerifier); status != http.StatusForbidden || body["error"] != "invalid_grant" || body["error_description"] != "Failed to verify code verifier" {
		t.Errorf("wrong verifier: %d %v", status, body)
	}
	if status, body := redeem(verifier); status != http.StatusOK || body["id_token"] == nil {
		t.Errorf("right verifier after a wrong one: %d %v, want tokens", status, body)
	}
}

func TestCrossOriginLoginTicket(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	coAuth := func(origin string, body map[string]any) (*http.Response, map[string]any) {
		t.Helper()
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, tn.Issuer()+"co/authenticate", strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		res, resp := oidcDo(t, http.DefaultClient, req)
		return res, decodeJSON(t, resp)
	}
	creds := func(kv ...string) map[string]any {
		m := map[string]any{"client_id": webClientID, "username": "alice@example.com", "password": "alice-password",
			"realm": "Username-Password-Authentication", "credential_type": grantPasswordRealm}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	for _, tc := range []struct {
		name, origin        string
		body                map[string]any
		wantStatus          int
		wantError, wantDesc string
	}{
		{"wrong password", webOrigin, creds("password", "nope"), 403, "access_denied", "Wrong email or password."},
		{"origin not allowed", "http://evil.example", creds(), 403, "access_denied", "Cross origin login not allowed for origin http://evil.example"},
		{"social realm", webOrigin, creds("realm", "github"), 400, "invalid_request", "Realm is not a database connection: github"},
		{"unknown client", webOrigin, creds("client_id", "nope"), 401, "access_denied", "Unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := coAuth(tc.origin, tc.body)
			wantTokenError(t, res.StatusCode, body, tc.wantStatus, tc.wantError, tc.wantDesc)
		})
	}

	res, body := coAuth(webOrigin, creds())
	ticket, _ := body["login_ticket"].(string)
	if res.StatusCode != http.StatusOK || ticket == "" || body["co_verifier"] == nil || body["co_id"] == nil {
		t.Fatalf("got %d %v, want a login ticket", res.StatusCode, body)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != webOrigin || res.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("CORS headers %v, want the origin allowed with credentials", res.Header)
	}

	browser := oidcBrowser(t)
	withTicket := oidcAuthorizeURL(tn, map[string]string{"response_type": "id_token", "login_ticket": ticket,
		"realm": "Username-Password-Authentication"})
	res, _ = oidcGet(t, browser, withTicket)
	if sub := jwtPayload(t, redirectParams(t, res, webCallback, "fragment").Get("id_token"))["sub"]; sub != "auth0|alice" {
		t.Errorf("sub = %v, want auth0|alice", sub)
	}
	// The ticket started a tenant session, as a login does.
	res, _ = oidcGet(t, browser, oidcAuthorizeURL(tn, map[string]string{"prompt": "none"}))
	if p := redirectParams(t, res, webCallback, "query"); p.Get("code") == "" {
		t.Errorf("prompt=none after the ticket: %v, want a code", p)
	}
	// A ticket is single use.
	res, _ = oidcGet(t, oidcBrowser(t), withTicket)
	if p := redirectParams(t, res, webCallback, "fragment"); p.Get("error") != "access_denied" || p.Has("id_token") {
		t.Errorf("reused ticket: %v, want access_denied", p)
	}
}
