package devtenant

import "net/http"

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
		// OIDC Back-Channel Logout 1.0 §2.1: logout tokens are posted, with sid.
		"backchannel_logout_supported":         true,
		"backchannel_logout_session_supported": true,
	})
}

func (t *Tenant) handleJWKS(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, t.keys.jwks())
}
