package devtenant

import (
	"encoding/json"
	"net/http"
	"strings"
)

// tenantName is what the client info reports as the tenant; Lock only displays it.
const tenantName = "devtenant"

// handleClientInfo serves GET /client/{clientID}.js, the JSONP script Lock loads to
// learn a client's connections: Auth0.setClient({...});
func (t *Tenant) handleClientInfo(w http.ResponseWriter, r *http.Request) {
	clientID, ok := strings.CutSuffix(r.PathValue("file"), ".js")
	info, known := t.clientInfo(clientID)
	if !ok || !known {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	// json.Marshal escapes <, >, & and U+2028/U+2029, so the object is safe inside a
	// script.
	b, err := json.Marshal(info)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("Auth0.setClient(" + string(b) + ");"))
}

// clientInfo builds the object Lock reads (src/core/client/index.js in auth0/lock):
// id must equal the client id; strategies[].connections[] carry, for databases,
// passwordPolicy, showSignup, showForgot and requires_username.
func (t *Tenant) clientInfo(clientID string) (map[string]any, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.clients[clientID]
	if !ok {
		return nil, false
	}
	callback := ""
	if len(c.Callbacks) > 0 {
		callback = c.Callbacks[0]
	}
	return map[string]any{
		"id":                clientID,
		"tenant":            tenantName,
		"subscription":      "free",
		"authorize":         t.issuer + "authorize",
		"callback":          callback,
		"hasAllowedOrigins": len(c.WebOrigins) > 0,
		"strategies":        t.strategiesLocked(),
	}, true
}

// strategiesLocked groups the connections by strategy, in name order. Every
// connection is enabled for every client here.
func (t *Tenant) strategiesLocked() []map[string]any {
	var out []map[string]any
	index := map[string]int{}
	for _, name := range t.connectionNamesLocked() {
		strategy := t.connections[name].Strategy
		conn := map[string]any{"name": name}
		if strategy == strategyDatabase {
			// No signup or password reset endpoints exist here, so Lock must not offer them.
			conn["showSignup"] = false
			conn["showForgot"] = false
			conn["passwordPolicy"] = "none"
			conn["requires_username"] = false
		}
		i, seen := index[strategy]
		if !seen {
			i = len(out)
			index[strategy] = i
			out = append(out, map[string]any{"name": strategy, "connections": []map[string]any{}})
		}
		out[i]["connections"] = append(out[i]["connections"].([]map[string]any), conn)
	}
	return out
}
