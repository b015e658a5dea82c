package devtenant

import (
	"net/http"
	"strings"
)

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

// route is one endpoint of the tenant.
type route struct {
	// pattern is the http.ServeMux pattern; it also names the endpoint for request
	// counters and faults (the Endpoint constants).
	pattern string
	serve   func(t *Tenant, w http.ResponseWriter, r *http.Request)
	// cors lets a page on a client's web origin read the answers, and pass the
	// preflight of a request to this route.
	cors bool
	// dev marks a /__dev/ test knob: gone with Options.DisableDevEndpoints, neither
	// counted nor subject to faults, so that a test's own bookkeeping never shows in
	// what it measures, and answered only to local callers (devOnly).
	dev bool
}

// routeTable is the one list of the tenant's routes: the mux, Endpoints() and the
// CORS preflight are all derived from it.
func routeTable() []route {
	return []route{
		// OpenID Connect and the authentication API.
		{pattern: EndpointDiscovery, serve: (*Tenant).handleDiscovery, cors: true},
		{pattern: EndpointJWKS, serve: (*Tenant).handleJWKS, cors: true},
		{pattern: EndpointAuthorize, serve: (*Tenant).handleAuthorize},
		{pattern: EndpointLogin, serve: (*Tenant).handleLogin},
		{pattern: EndpointToken, serve: (*Tenant).handleToken, cors: true},
		{pattern: EndpointUserinfo, serve: (*Tenant).handleUserinfo, cors: true},
		{pattern: "POST /userinfo", serve: (*Tenant).handleUserinfo, cors: true},
		{pattern: EndpointLogout, serve: (*Tenant).handleLogout},
		{pattern: EndpointClientInfo, serve: (*Tenant).handleClientInfo, cors: true},
		{pattern: EndpointCrossOriginAuth, serve: (*Tenant).handleCrossOriginAuth, cors: true},

		// Management API v2: the scopes each operation accepts, and its success status.
		{pattern: EndpointGetUser, serve: mgmtEndpoint(scopesReadUser(), http.StatusOK, (*Tenant).getUser)},
		{pattern: EndpointPatchUser, serve: mgmtEndpoint(scopesPatch(), http.StatusOK, (*Tenant).patchUser)},
		{pattern: EndpointUsersByEmail, serve: mgmtEndpoint(scopesByEmail(), http.StatusOK, (*Tenant).getUsersByEmail)},
		{pattern: EndpointLinkIdentity, serve: mgmtEndpoint(scopesLink(), http.StatusCreated, (*Tenant).linkIdentity)},
		{pattern: EndpointUnlinkIdentity, serve: mgmtEndpoint(scopesLink(), http.StatusOK, (*Tenant).unlinkIdentity)},

		// Test knobs.
		{pattern: "POST /__dev/tokens", serve: (*Tenant).handleDevMint, dev: true},
		{pattern: "GET /__dev/requests", serve: (*Tenant).handleDevRequests, dev: true},
		{pattern: "DELETE /__dev/requests", serve: (*Tenant).handleDevResetRequests, dev: true},
		{pattern: "POST /__dev/faults", serve: (*Tenant).handleDevSetFault, dev: true},
		{pattern: "DELETE /__dev/faults", serve: (*Tenant).handleDevClearFaults, dev: true},
		{pattern: "PUT /__dev/rate-limit", serve: (*Tenant).handleDevRateLimit, dev: true},
		{pattern: "POST /__dev/keys/rotate", serve: (*Tenant).handleDevRotateKeys, dev: true},
		{pattern: "GET /__dev/users/{id}", serve: (*Tenant).handleDevUser, dev: true},
	}
}

// Endpoints lists the route patterns that request counters and faults are keyed by:
// every route but the /__dev/ knobs.
func Endpoints() []string {
	var out []string
	for _, rt := range routeTable() {
		if !rt.dev {
			out = append(out, rt.pattern)
		}
	}
	return out
}

// isManagementPath reports whether path belongs to the Management API, which rate
// limits every request (unknown paths included) as Auth0's does.
func isManagementPath(path string) bool { return strings.HasPrefix(path, "/api/v2/") }

// routes builds the mux from the route table, and indexes the routes it serves by
// pattern. Request counting and faults wrap every
// route but the knobs, CORS wraps the routes that allow it, and two fallbacks answer
// what no route matches: CORS preflights and unknown paths or methods.
func (t *Tenant) routes() (*http.ServeMux, map[string]route) {
	mux := http.NewServeMux()
	byPattern := map[string]route{}
	for _, rt := range routeTable() {
		if rt.dev && !t.devAPI {
			continue
		}
		h := func(w http.ResponseWriter, r *http.Request) { rt.serve(t, w, r) }
		if rt.cors {
			h = t.cors(h)
		}
		if rt.dev {
			h = devOnly(h)
		} else {
			h = t.instrument(rt.pattern, h)
		}
		mux.HandleFunc(rt.pattern, h)
		byPattern[rt.pattern] = rt
	}
	mux.HandleFunc("OPTIONS /", t.handlePreflight)
	mux.HandleFunc("/", t.handleNotFound)
	return mux, byPattern
}

// methodsFor lists the methods whose route for r's path passes keep. The fallbacks
// are no routes: they never count.
func (t *Tenant) methodsFor(r *http.Request, keep func(route) bool) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		_, pattern := t.mux.Handler(probe)
		if rt, ok := t.byPattern[pattern]; ok && keep(rt) {
			out = append(out, m)
		}
	}
	return out
}

// handleNotFound answers paths no route matches. Under /api/v2/ it answers 404 for a
// wrong method too, as Auth0's API server does, and still carries the rate limit
// headers of every Management API response. Elsewhere a known path with another
// method answers 405 with Allow.
func (t *Tenant) handleNotFound(w http.ResponseWriter, r *http.Request) {
	if isManagementPath(r.URL.Path) {
		if t.admitManagementRequest(w) {
			writeMgmtError(w, http.StatusNotFound, http.StatusText(http.StatusNotFound), "")
		}
		return
	}
	if allow := t.methodsFor(r, func(route) bool { return true }); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeMgmtError(w, http.StatusMethodNotAllowed, http.StatusText(http.StatusMethodNotAllowed), "")
		return
	}
	writeMgmtError(w, http.StatusNotFound, http.StatusText(http.StatusNotFound), "")
}
