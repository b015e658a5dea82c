package devtenant

import "net/http"

// Placeholders until the OIDC side lands; delete this file when implementing them.

func (t *Tenant) cors(h http.HandlerFunc) http.HandlerFunc               { return h }
func (t *Tenant) handlePreflight(w http.ResponseWriter, r *http.Request) { notImplemented(w) }
func (t *Tenant) handleDiscovery(w http.ResponseWriter, r *http.Request) { notImplemented(w) }
func (t *Tenant) handleJWKS(w http.ResponseWriter, r *http.Request)      { writeJSON(w, 200, t.keys.jwks()) }
func (t *Tenant) handleAuthorize(w http.ResponseWriter, r *http.Request) { notImplemented(w) }
func (t *Tenant) handleLogin(w http.ResponseWriter, r *http.Request)     { notImplemented(w) }
func (t *Tenant) handleToken(w http.ResponseWriter, r *http.Request)     { notImplemented(w) }
func (t *Tenant) handleUserinfo(w http.ResponseWriter, r *http.Request)  { notImplemented(w) }
func (t *Tenant) handleLogout(w http.ResponseWriter, r *http.Request)    { notImplemented(w) }
func (t *Tenant) handleClientInfo(w http.ResponseWriter, r *http.Request) {
	notImplemented(w)
}

func notImplemented(w http.ResponseWriter) { writeMgmtError(w, 501, "not implemented yet", "") }
