package devtenant

import "net/http"

// Placeholders until the Management API side lands; delete this file when implementing them.

func (t *Tenant) handleGetUser(w http.ResponseWriter, r *http.Request)        { notImplemented(w) }
func (t *Tenant) handlePatchUser(w http.ResponseWriter, r *http.Request)      { notImplemented(w) }
func (t *Tenant) handleUsersByEmail(w http.ResponseWriter, r *http.Request)   { notImplemented(w) }
func (t *Tenant) handleLinkIdentity(w http.ResponseWriter, r *http.Request)   { notImplemented(w) }
func (t *Tenant) handleUnlinkIdentity(w http.ResponseWriter, r *http.Request) { notImplemented(w) }
func (t *Tenant) handleDevMint(w http.ResponseWriter, r *http.Request)        { notImplemented(w) }
func (t *Tenant) handleDevRequests(w http.ResponseWriter, r *http.Request)    { notImplemented(w) }
func (t *Tenant) handleDevResetRequests(w http.ResponseWriter, r *http.Request) {
	notImplemented(w)
}
func (t *Tenant) handleDevSetFault(w http.ResponseWriter, r *http.Request)    { notImplemented(w) }
func (t *Tenant) handleDevClearFaults(w http.ResponseWriter, r *http.Request) { notImplemented(w) }
func (t *Tenant) handleDevRateLimit(w http.ResponseWriter, r *http.Request)   { notImplemented(w) }
func (t *Tenant) handleDevRotateKeys(w http.ResponseWriter, r *http.Request)  { notImplemented(w) }
func (t *Tenant) handleNotFound(w http.ResponseWriter, r *http.Request)       { notImplemented(w) }
