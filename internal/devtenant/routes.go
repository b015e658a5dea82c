package devtenant

import "net/http"

// Endpoints, as the route patterns that request counters and faults are keyed by.
const (
	EndpointDiscovery      = "GET /.well-known/openid-configuration"
	EndpointJWKS           = "GET /.well-known/jwks.json"
	EndpointAuthorize      = "GET /authorize"
	EndpointLogin          = "POST /authorize/login"
	EndpointToken          = "POST /oauth/token"
	EndpointUserinfo       = "GET /userinfo"
	EndpointLogout         = "GET /v2/logout"
	EndpointClientInfo     = "GET /client/{file}"
	EndpointGetUser        = "GET /api/v2/users/{id}"
	EndpointPatchUser      = "PATCH /api/v2/users/{id}"
	EndpointUsersByEmail   = "GET /api/v2/users-by-email"
	EndpointLinkIdentity   = "POST /api/v2/users/{id}/identities"
	EndpointUnlinkIdentity = "DELETE /api/v2/users/{id}/identities/{provider}/{user_id}"

	// EndpointCrossOriginAuth is where auth0.js (and so Lock) sends a database login
	// from the application's page; its login_ticket is then redeemed at /authorize.
	EndpointCrossOriginAuth = "POST /co/authenticate"
)

// routes lists every route of the tenant.
func (t *Tenant) routes() http.Handler {
	mux := http.NewServeMux()

	// OpenID Connect and the authentication API.
	t.handle(mux, EndpointDiscovery, t.cors(t.handleDiscovery))
	t.handle(mux, EndpointJWKS, t.cors(t.handleJWKS))
	t.handle(mux, EndpointAuthorize, t.handleAuthorize)
	t.handle(mux, EndpointLogin, t.handleLogin)
	t.handle(mux, EndpointToken, t.cors(t.handleToken))
	t.handle(mux, EndpointUserinfo, t.cors(t.handleUserinfo))
	t.handle(mux, "POST /userinfo", t.cors(t.handleUserinfo))
	t.handle(mux, EndpointLogout, t.handleLogout)
	t.handle(mux, EndpointClientInfo, t.cors(t.handleClientInfo))
	t.handle(mux, EndpointCrossOriginAuth, t.cors(t.handleCrossOriginAuth))
	mux.HandleFunc("OPTIONS /", t.handlePreflight)

	// Management API v2.
	t.handle(mux, EndpointGetUser, t.handleGetUser)
	t.handle(mux, EndpointPatchUser, t.handlePatchUser)
	t.handle(mux, EndpointUsersByEmail, t.handleUsersByEmail)
	t.handle(mux, EndpointLinkIdentity, t.handleLinkIdentity)
	t.handle(mux, EndpointUnlinkIdentity, t.handleUnlinkIdentity)

	// Test knobs.
	if t.devAPI {
		mux.HandleFunc("POST /__dev/tokens", t.handleDevMint)
		mux.HandleFunc("GET /__dev/requests", t.handleDevRequests)
		mux.HandleFunc("DELETE /__dev/requests", t.handleDevResetRequests)
		mux.HandleFunc("POST /__dev/faults", t.handleDevSetFault)
		mux.HandleFunc("DELETE /__dev/faults", t.handleDevClearFaults)
		mux.HandleFunc("PUT /__dev/rate-limit", t.handleDevRateLimit)
		mux.HandleFunc("POST /__dev/keys/rotate", t.handleDevRotateKeys)
		mux.HandleFunc("GET /__dev/users/{id}", t.handleDevUser)
	}

	mux.HandleFunc("/", t.handleNotFound)
	return mux
}
