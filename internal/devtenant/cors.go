package devtenant

import (
	"net/http"
	"slices"
	"strings"
)

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

// handlePreflight answers CORS preflight requests (OPTIONS): only for a path with a
// CORS route (see routeTable), from an allowed web origin, and allowing the methods
// of those routes.
func (t *Tenant) handlePreflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	methods := t.methodsFor(r, func(rt route) bool { return rt.cors })
	if len(methods) == 0 || !t.allowedOrigin(origin) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
	h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, Auth0-Client")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}
