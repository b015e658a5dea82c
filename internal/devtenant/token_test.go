package devtenant

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// tokenCall is one request to /oauth/token.
type tokenCall struct {
	form        url.Values     // sent as a form unless json is set
	json        map[string]any // sent as JSON
	rawBody     string         // sent as is, with contentType
	contentType string
	basic       [2]string // client id and secret for HTTP Basic
}

func postToken(t *testing.T, tn *Tenant, call tokenCall) (int, map[string]any) {
	t.Helper()
	body, ct := call.rawBody, call.contentType
	switch {
	case call.json != nil:
		b, err := json.Marshal(call.json)
		if err != nil {
			t.Fatal(err)
		}
		body, ct = string(b), "application/json"
	case call.form != nil:
		body, ct = call.form.Encode(), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequest(http.MethodPost, tn.Issuer()+"oauth/token", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if call.basic[0] != "" {
		req.SetBasicAuth(call.basic[0], call.basic[1])
	}
	res, respBody := oidcDo(t, http.DefaultClient, req)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
	return res.StatusCode, decodeJSON(t, respBody)
}

// wantTokenError checks an OAuth error answer.
func wantTokenError(t *testing.T, status int, body map[string]any, wantStatus int, wantError, wantDesc string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantError || body["error_description"] != wantDesc {
		t.Errorf("got %d %v, want %d error=%q error_description=%q", status, body, wantStatus, wantError, wantDesc)
	}
}

func webForm(kv ...string) url.Values {
	v := url.Values{"client_id": {webClientID}, "client_secret": {webClientSecret}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestTokenClientAuthenticationAndGrantChecks(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	mgmt := tn.ManagementAudience()
	cc := func(kv ...string) url.Values {
		return webForm(append([]string{"grant_type", "client_credentials", "audience", mgmt}, kv...)...)
	}
	tests := []struct {
		name                string
		call                tokenCall
		wantStatus          int
		wantError, wantDesc string
	}{
		{"wrong secret in the body", tokenCall{form: cc("client_secret", "wrong")}, 401, "access_denied", "Unauthorized"},
		{"no secret for a confidential client", tokenCall{form: cc("client_secret", "")}, 401, "access_denied", "Unauthorized"},
		{"wrong secret in Basic", tokenCall{form: url.Values{"grant_type": {"client_credentials"}, "audience": {mgmt}}, basic: [2]string{webClientID, "wrong"}}, 401, "access_denied", "Unauthorized"},
		{"unknown client", tokenCall{form: cc("client_id", "nope")}, 401, "access_denied", "Unauthorized"},
		{"Basic and a different body client_id", tokenCall{form: cc("client_id", nativeClientID), basic: [2]string{webClientID, webClientSecret}}, 400, "invalid_request", "client_id does not match the Authorization header"},
		{"missing grant_type", tokenCall{form: webForm()}, 400, "invalid_request", "Missing required parameter: grant_type"},
		{"unknown grant", tokenCall{form: webForm("grant_type", "urn:ietf:params:oauth:grant-type:device_code")}, 400, "unsupported_grant_type", "Unsupported grant type: urn:ietf:params:oauth:grant-type:device_code"},
		{"grant not allowed for the client", tokenCall{form: url.Values{"client_id": {nativeClientID}, "grant_type": {"client_credentials"}, "audience": {mgmt}}}, 403, "unauthorized_client", "Grant type 'client_credentials' not allowed for the client."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postToken(t, tn, tc.call)
			wantTokenError(t, status, body, tc.wantStatus, tc.wantError, tc.wantDesc)
		})
	}
}

func TestTokenMalformedBodies(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	tests := []struct {
		name       string
		call       tokenCall
		wantStatus int
	}{
		{"invalid JSON", tokenCall{rawBody: `{"grant_type":`, contentType: "application/json"}, 400},
		{"JSON array", tokenCall{rawBody: `["client_credentials"]`, contentType: "application/json"}, 400},
		{"JSON null", tokenCall{rawBody: `null`, contentType: "application/json"}, 400},
		{"JSON object value", tokenCall{json: map[string]any{"grant_type": map[string]any{"x": 1}}}, 400},
		{"two JSON documents", tokenCall{rawBody: `{"a":"b"} {"c":"d"}`, contentType: "application/json"}, 400},
		{"invalid form encoding", tokenCall{rawBody: "grant_type=%zz", contentType: "application/x-www-form-urlencoded"}, 400},
		{"unsupported content type", tokenCall{rawBody: "grant_type=client_credentials", contentType: "text/plain"}, 400},
		{"body over 64 KiB", tokenCall{rawBody: "grant_type=client_credentials&pad=" + strings.Repeat("a", 70<<10), contentType: "application/x-www-form-urlencoded"}, 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postToken(t, tn, tc.call)
			if status != tc.wantStatus || body["error"] != "invalid_request" || body["error_description"] == "" {
				t.Errorf("got %d %v, want %d invalid_request with a description", status, body, tc.wantStatus)
			}
		})
	}
}

// loginCode gets an authorization code for alice through the login page.
func loginCode(t *testing.T, tn *Tenant, overrides map[string]string) string {
	t.Helper()
	res := oidcPasswordLogin(t, oidcBrowser(t), oidcAuthorizeURL(tn, overrides), "alice@example.com", "alice-password")
	code := redirectParams(t, res, webCallback, "query").Get("code")
	if code == "" {
		t.Fatal("no code")
	}
	return code
}

func TestTokenAuthorizationCode(t *testing.T) {
	tn := startOIDCTenant(t, seedWithClients(codeFlowClient("other-web", "other-secret")))
	verifier, challenge := pkcePair("q")
	pkce := map[string]string{"code_challenge": challenge, "code_challenge_method": "S256"}
	invalidCode := [3]any{403, "invalid_grant", "Invalid authorization code"}

	tests := []struct {
		name      string
		overrides map[string]string // for /authorize
		form      func(code string) url.Values
		want      [3]any // status, error, description
	}{
		{"wrong redirect_uri", nil, func(code string) url.Values {
			return webForm("grant_type", "authorization_code", "code", code, "redirect_uri", "http://localhost:3000/auth/callback")
		}, [3]any{403, "invalid_grant", "redirect_uri does not match the one the code was issued for"}},
		{"PKCE verifier mismatch", pkce, func(code string) url.Values {
			wrong, _ := pkcePair("z")
			return webForm("grant_type", "authorization_code", "code", code, "redirect_uri", webCallback, "code_verifier", wrong)
		}, [3]any{403, "invalid_grant", "Failed to verify code verifier"}},
		{"PKCE verifier missing", pkce, func(code string) url.Values {
			return webForm("grant_type", "authorization_code", "code", code, "redirect_uri", webCallback)
		}, [3]any{403, "invalid_grant", "Failed to verify code verifier"}},
		{"verifier for a code without challenge", nil, func(code string) url.Values {
			return webForm("grant_type", "authorization_code", "code", code, "redirect_uri", webCallback, "code_verifier", verifier)
		}, [3]any{403, "invalid_grant", "Failed to verify code verifier"}},
		{"code of another client", nil, func(code string) url.Values {
			return url.Values{"client_id": {"other-web"}, "client_secret": {"other-secret"}, "grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {webCallback}}
		}, invalidCode},
		{"unknown code", nil, func(string) url.Values {
			return webForm("grant_type", "authorization_code", "code", "made-up", "redirect_uri", webCallback)
		}, invalidCode},
		{"missing code", nil, func(string) url.Values {
			return webForm("grant_type", "authorization_code", "redirect_uri", webCallback)
		}, [3]any{400, "invalid_request", "Missing required parameter: code"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := loginCode(t, tn, tc.overrides)
			status, body := postToken(t, tn, tokenCall{form: tc.form(code)})
			wantTokenError(t, status, body, tc.want[0].(int), tc.want[1].(string), tc.want[2].(string))
		})
	}

	t.Run("success, then reuse", func(t *testing.T) {
		code := loginCode(t, tn, map[string]string{"scope": "openid profile offline_access", "audience": demoAPI,
			"code_challenge": challenge, "code_challenge_method": "S256"})
		form := webForm("grant_type", "authorization_code", "code", code, "redirect_uri", webCallback, "code_verifier", verifier)
		status, body := postToken(t, tn, tokenCall{form: form})
		if status != 200 || body["token_type"] != "Bearer" || body["expires_in"] != float64(86400) ||
			body["scope"] != "openid profile offline_access" || body["refresh_token"] == nil || body["id_token"] == nil {
			t.Fatalf("got %d %v", status, body)
		}
		at := jwtPayload(t, body["access_token"].(string))
		if at["sub"] != "auth0|alice" || at["azp"] != webClientID || !jwtClaims(at).hasAudience(demoAPI) || !jwtClaims(at).hasAudience(tn.Issuer()+"userinfo") {
			t.Errorf("access token claims %v", at)
		}
		status, body = postToken(t, tn, tokenCall{form: form})
		wantTokenError(t, status, body, 403, "invalid_grant", "Invalid authorization code")
	})

	t.Run("failed attempts do not burn the code", func(t *testing.T) {
		code := loginCode(t, tn, pkce)
		wrong, _ := pkcePair("w")
		postToken(t, tn, tokenCall{form: webForm("grant_type", "authorization_code", "code", code, "redirect_uri", webCallback, "code_verifier", wrong)})
		status, body := postToken(t, tn, tokenCall{form: webForm("grant_type", "authorization_code", "code", code, "redirect_uri", webCallback, "code_verifier", verifier)})
		if status != 200 {
			t.Errorf("got %d %v, want tokens", status, body)
		}
	})

	t.Run("no openid scope, no ID token", func(t *testing.T) {
		code := loginCode(t, tn, map[string]string{"scope": "read:identities", "audience": demoAPI})
		status, body := postToken(t, tn, tokenCall{form: webForm("grant_type", "authorization_code", "code", code, "redirect_uri", webCallback)})
		if status != 200 || body["id_token"] != nil || body["refresh_token"] != nil {
			t.Errorf("got %d %v, want only an access token", status, body)
		}
	})
}

func TestTokenClientCredentials(t *testing.T) {
	noGrants := Client{ClientID: "m2m-none", ClientSecret: "s", Name: "no grants", AppType: "non_interactive", GrantTypes: []string{"client_credentials"}}
	nativeWithSecret := Client{ClientID: "m2m-native", ClientSecret: "s", Name: "native with secret", AppType: "native", GrantTypes: []string{"client_credentials"},
		APIGrants: map[string][]string{}}
	tn := startOIDCTenant(t, seedWithClients(noGrants, nativeWithSecret))
	mgmt := tn.ManagementAudience()
	notAuthorized := func(aud string) string {
		return `Client is not authorized to access "` + aud + `". You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants`
	}
	cc := func(client, secret, aud, scope string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "client_secret": {secret}}
		if aud != "" {
			v.Set("audience", aud)
		}
		if scope != "" {
			v.Set("scope", scope)
		}
		return v
	}

	errorCases := []struct {
		name                string
		call                tokenCall
		wantStatus          int
		wantError, wantDesc string
	}{
		{"Management API without a grant", tokenCall{form: cc("m2m-none", "s", mgmt, "")}, 403, "access_denied", notAuthorized(mgmt)},
		{"API without a grant, not first-party web", tokenCall{form: cc("m2m-native", "s", demoAPI, "")}, 403, "access_denied", notAuthorized(demoAPI)},
		{"scope not granted", tokenCall{form: cc(webClientID, webClientSecret, mgmt, "read:users delete:users create:users")}, 403, "access_denied", "Client has not been granted scopes: delete:users, create:users"},
		{"unknown audience", tokenCall{form: cc(webClientID, webClientSecret, "https://nope.example/", "")}, 403, "access_denied", "Service not found: https://nope.example/"},
		{"no audience", tokenCall{form: cc(webClientID, webClientSecret, "", "")}, 403, "access_denied", "No audience parameter was provided, and no default audience has been configured"},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postToken(t, tn, tc.call)
			wantTokenError(t, status, body, tc.wantStatus, tc.wantError, tc.wantDesc)
		})
	}

	okCases := []struct {
		name      string
		call      tokenCall
		wantAud   string
		wantScope string
	}{
		{"Management API, all granted scopes", tokenCall{form: cc(webClientID, webClientSecret, mgmt, "")}, mgmt, "read:users update:users"},
		{"Management API, a subset", tokenCall{form: cc(webClientID, webClientSecret, mgmt, "read:users")}, mgmt, "read:users"},
		{"Management API with Basic auth", tokenCall{form: url.Values{"grant_type": {"client_credentials"}, "audience": {mgmt}}, basic: [2]string{webClientID, webClientSecret}}, mgmt, "read:users update:users"},
		{"JSON body", tokenCall{json: map[string]any{"grant_type": "client_credentials", "client_id": webClientID, "client_secret": webClientSecret, "audience": mgmt}}, mgmt, "read:users update:users"},
		{"first-party web client gets all API scopes", tokenCall{form: cc(webClientID, webClientSecret, demoAPI, "")}, demoAPI, "read:identities write:identities"},
	}
	for _, tc := range okCases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postToken(t, tn, tc.call)
			if status != 200 || body["scope"] != tc.wantScope || body["token_type"] != "Bearer" || body["expires_in"] != float64(86400) || body["id_token"] != nil {
				t.Fatalf("got %d %v, want a token with scope %q and no id_token", status, body, tc.wantScope)
			}
			c := jwtPayload(t, body["access_token"].(string))
			if c["sub"] != webClientID+"@clients" || c["gty"] != "client-credentials" || c["azp"] != webClientID ||
				c["aud"] != tc.wantAud || c["scope"] != tc.wantScope || c["iss"] != tn.Issuer() {
				t.Errorf("access token claims %v", c)
			}
		})
	}
}

func TestTokenPasswordGrants(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	pw := func(kv ...string) url.Values {
		return webForm(append([]string{"grant_type", "password", "username", "alice@example.com", "password", "alice-password"}, kv...)...)
	}
	realm := func(kv ...string) url.Values {
		return pw(append([]string{"grant_type", grantPasswordRealm, "realm", "Username-Password-Authentication"}, kv...)...)
	}
	errorCases := []struct {
		name                string
		form                url.Values
		wantStatus          int
		wantError, wantDesc string
	}{
		{"wrong password", pw("password", "nope"), 403, "invalid_grant", "Wrong email or password."},
		{"unknown user", realm("username", "carol@example.com"), 403, "invalid_grant", "Wrong email or password."},
		{"another user's password", realm("password", "bob-password"), 403, "invalid_grant", "Wrong email or password."},
		{"social realm", realm("realm", "github"), 400, "invalid_request", "Realm is not a database connection: github"},
		{"missing realm", realm("realm", ""), 400, "invalid_request", "Missing required parameter: realm"},
		{"missing username", pw("username", ""), 400, "invalid_request", "Missing required parameter: username"},
		{"unknown audience", pw("audience", "https://nope.example/"), 403, "access_denied", "Service not found: https://nope.example/"},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postToken(t, tn, tokenCall{form: tc.form})
			wantTokenError(t, status, body, tc.wantStatus, tc.wantError, tc.wantDesc)
		})
	}
	for name, form := range map[string]url.Values{
		"password grant uses the default directory": pw("scope", "openid email"),
		"password-realm grant":                      realm("scope", "openid email"),
		"public native client":                      {"grant_type": {grantPasswordRealm}, "client_id": {nativeClientID}, "realm": {"Username-Password-Authentication"}, "username": {"alice@example.com"}, "password": {"alice-password"}, "scope": {"openid email"}},
	} {
		t.Run(name, func(t *testing.T) {
			status, body := postToken(t, tn, tokenCall{form: form})
			if status != 200 || body["id_token"] == nil {
				t.Fatalf("got %d %v", status, body)
			}
			if c := jwtPayload(t, body["id_token"].(string)); c["sub"] != "auth0|alice" || c["email"] != "alice@example.com" {
				t.Errorf("ID token claims %v", c)
			}
		})
	}
}

func TestTokenRefresh(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	status, body := postToken(t, tn, tokenCall{form: webForm("grant_type", "password", "username", "bob@example.com",
		"password", "bob-password", "scope", "openid email offline_access", "audience", demoAPI)})
	rt, _ := body["refresh_token"].(string)
	if status != 200 || rt == "" {
		t.Fatalf("got %d %v, want a refresh token", status, body)
	}

	status, body = postToken(t, tn, tokenCall{form: webForm("grant_type", "refresh_token", "refresh_token", rt)})
	if status != 200 || body["refresh_token"] != nil || body["id_token"] == nil {
		t.Fatalf("refresh: %d %v, want new tokens and no new refresh token", status, body)
	}
	if c := jwtPayload(t, body["access_token"].(string)); c["sub"] != "auth0|bob" || !jwtClaims(c).hasAudience(demoAPI) {
		t.Errorf("refreshed access token %v", c)
	}
	status, body = postToken(t, tn, tokenCall{form: webForm("grant_type", "refresh_token", "refresh_token", rt, "scope", "openid")})
	if status != 200 || body["scope"] != "openid" {
		t.Errorf("narrowed refresh: %d %v", status, body)
	}

	for name, form := range map[string]url.Values{
		"unknown token":    webForm("grant_type", "refresh_token", "refresh_token", "made-up"),
		"another client's": {"grant_type": {"refresh_token"}, "client_id": {nativeClientID}, "refresh_token": {rt}},
	} {
		t.Run(name, func(t *testing.T) {
			status, body := postToken(t, tn, tokenCall{form: form})
			wantTokenError(t, status, body, 403, "invalid_grant", "Unknown or invalid refresh token.")
		})
	}
	t.Run("wider scope", func(t *testing.T) {
		status, body := postToken(t, tn, tokenCall{form: webForm("grant_type", "refresh_token", "refresh_token", rt, "scope", "openid profile")})
		if status != 403 || body["error"] != "invalid_scope" {
			t.Errorf("got %d %v, want invalid_scope", status, body)
		}
	})
}
