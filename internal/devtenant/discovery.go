package devtenant

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// maxBodyBytes bounds every form or JSON body the authentication API reads.
const maxBodyBytes = 64 << 10

func (t *Tenant) userinfoAudience() string { return t.issuer + "userinfo" }

// handleDiscovery serves the OpenID Provider metadata, shaped like Auth0's but listing
// only what this tenant implements.
func (t *Tenant) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                 t.issuer,
		"authorization_endpoint": t.issuer + "authorize",
		"token_endpoint":         t.issuer + "oauth/token",
		"userinfo_endpoint":      t.userinfoAudience(),
		"jwks_uri":               t.issuer + ".well-known/jwks.json",
		"scopes_supported":       []string{"openid", "profile", "email", "offline_access"},
		"response_types_supported": []string{
			"code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token",
		},
		"code_challenge_methods_supported":      []string{"S256"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"grant_types_supported": []string{
			"authorization_code", "implicit", "refresh_token", "client_credentials", "password", grantPasswordRealm,
		},
		"claims_supported": []string{
			"aud", "auth_time", "email", "email_verified", "exp", "iat", "iss", "name", "nickname",
			"nonce", "picture", "sid", "sub", "updated_at",
		},
		"request_parameter_supported":     false,
		"request_uri_parameter_supported": false,
	})
}

func (t *Tenant) handleJWKS(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, t.keys.jwks())
}

// allowedOrigin reports whether origin is one of any client's web_origins (Auth0's
// "Allowed Web Origins", compared exactly).
func (t *Tenant) allowedOrigin(origin string) bool {
	if origin == "" {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.clients {
		if slices.Contains(c.WebOrigins, origin) {
			return true
		}
	}
	return false
}

// cors lets browsers on an allowed web origin read h's answers (Lock fetches the JWKS
// and SPAs call /oauth/token cross-origin).
func (t *Tenant) cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		if origin := r.Header.Get("Origin"); t.allowedOrigin(origin) {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			// auth0.js sends /co/authenticate with credentials (cookies).
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate")
		}
		h(w, r)
	}
}

// corsPath reports whether path's handler is wrapped in cors; only those may pass a
// preflight.
func corsPath(path string) bool {
	switch path {
	case "/.well-known/openid-configuration", "/.well-known/jwks.json", "/oauth/token", "/userinfo", "/co/authenticate":
		return true
	}
	return strings.HasPrefix(path, "/client/")
}

// handlePreflight answers CORS preflight requests (OPTIONS) for the CORS endpoints.
func (t *Tenant) handlePreflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if !corsPath(r.URL.Path) || !t.allowedOrigin(origin) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, Auth0-Client")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// handleUserinfo returns the profile of the user an access token was issued for.
func (t *Tenant) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(auth, " ")
	if auth == "" || !strings.EqualFold(scheme, "Bearer") || token == "" {
		// RFC 6750 §3.1: no error code when the request carried no credentials.
		w.Header().Set("WWW-Authenticate", `Bearer realm="Users"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	claims, problem := t.verifyAccessToken(strings.TrimSpace(token), t.userinfoAudience())
	if problem != "" {
		writeInvalidToken(w, problem)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.primaryFor(claims.str("sub"))
	if u == nil {
		writeInvalidToken(w, "The user of this token no longer exists")
		return
	}
	writeJSON(w, http.StatusOK, profileClaims(u, claims.str("scope")))
}

func writeInvalidToken(w http.ResponseWriter, description string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="Users", error="invalid_token", error_description=%q`, description))
	http.Error(w, "Unauthorized", http.StatusUnauthorized)
}

// verifyAccessToken checks an access token with the tenant's JWT verifier and that
// its audience includes audience; it returns the claims, or what is wrong with the
// token (for WWW-Authenticate).
func (t *Tenant) verifyAccessToken(token, audience string) (jwtClaims, string) {
	claims, problem := t.verifyJWT(token, time.Now())
	switch problem {
	case jwtOK:
	case jwtExpired:
		return nil, "The token has expired"
	case jwtBadSig:
		return nil, "The token signature is invalid"
	case jwtBadIssuer:
		return nil, "The token was issued by another issuer"
	default:
		return nil, "The token is malformed"
	}
	if !claims.hasAudience(audience) {
		return nil, "The token audience does not include " + audience
	}
	return claims, ""
}

// handleLogout ends the tenant session and sends the browser to returnTo, which must
// be one of the client's Allowed Logout URLs.
func (t *Tenant) handleLogout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	returnTo, clientID := q.Get("returnTo"), q.Get("client_id")
	allowed, known := t.logoutURLs(clientID)
	if clientID != "" && !known {
		t.errorPage(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("Unknown client: %s", clientID))
		return
	}
	if returnTo != "" && !slices.Contains(allowed, returnTo) {
		t.errorPage(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf(
			`The "returnTo" querystring parameter %q is not defined as a valid URL in "Allowed Logout URLs".`, returnTo))
		return
	}
	t.endSession(w, r)
	if returnTo == "" && clientID != "" && len(allowed) > 0 {
		// Auth0 sends the browser to the client's first Allowed Logout URL.
		returnTo = allowed[0]
	}
	if returnTo == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "OK")
		return
	}
	http.Redirect(w, r, returnTo, http.StatusFound)
}

// logoutURLs returns the Allowed Logout URLs of clientID or, without a client, of every
// client (standing in for the tenant-wide list Auth0 checks then).
func (t *Tenant) logoutURLs(clientID string) (urls []string, known bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if clientID != "" {
		c, ok := t.clients[clientID]
		if !ok {
			return nil, false
		}
		return c.AllowedLogoutURLs, true
	}
	for _, c := range t.clients {
		urls = append(urls, c.AllowedLogoutURLs...)
	}
	return urls, false
}

// errorPage shows an error to the person in the browser, as Auth0 does when it cannot
// trust the redirect_uri (or returnTo) to carry it back to the application.
func (t *Tenant) errorPage(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = t.pages.ExecuteTemplate(w, "error", struct{ Code, Description string }{code, description})
}
