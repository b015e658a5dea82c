package devtenant

import (
	"net/http"
	"net/url"
	"slices"
	"time"
)

// loginTicketTTL bounds the hop from /co/authenticate to /authorize.
const loginTicketTTL = 2 * time.Minute

// loginTicket is a verified database login waiting to be redeemed at /authorize.
type loginTicket struct {
	ClientID   string
	Identity   string
	Connection string
	Expires    time.Time
}

// handleCrossOriginAuth checks database credentials sent cross-origin and answers a
// one-time login_ticket. Auth0 also sets a verification cookie here (and falls back to
// a co_verifier page without third-party cookies); the dev tenant relies on the
// ticket being single use, short-lived and bound to the client instead.
func (t *Tenant) handleCrossOriginAuth(w http.ResponseWriter, r *http.Request) {
	p, terr := readTokenRequest(w, r)
	if terr == nil {
		terr = t.checkCrossOrigin(r, p)
	}
	if terr != nil {
		writeOAuthError(w, terr.status, terr.code, terr.description)
		return
	}
	realm := p.Get("realm")
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.connections[realm]; !ok || c.Strategy != strategyDatabase {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Realm is not a database connection: "+realm)
		return
	}
	identity := t.checkPasswordLocked(realm, p.Get("username"), p.Get("password"))
	if identity == "" {
		writeOAuthError(w, http.StatusForbidden, "access_denied", "Wrong email or password.")
		return
	}
	ticket := randomToken(32)
	t.tickets[ticket] = &loginTicket{ClientID: p.Get("client_id"), Identity: identity, Connection: realm, Expires: time.Now().Add(loginTicketTTL)}
	writeJSON(w, http.StatusOK, map[string]string{"login_ticket": ticket, "co_verifier": randomToken(32), "co_id": randomToken(12)})
}

// checkCrossOrigin checks the request's shape, its client and, from a browser, that the
// page's origin is one of the client's web origins.
func (t *Tenant) checkCrossOrigin(r *http.Request, p url.Values) *tokenError {
	if p.Get("credential_type") != grantPasswordRealm {
		return &tokenError{http.StatusBadRequest, "invalid_request", "credential_type must be " + grantPasswordRealm}
	}
	if terr := requireParams(p, "client_id", "username", "password", "realm"); terr != nil {
		return terr
	}
	t.mu.Lock()
	c, ok := t.clients[p.Get("client_id")]
	t.mu.Unlock()
	if !ok {
		return unauthorizedClient()
	}
	if origin := r.Header.Get("Origin"); origin != "" && !slices.Contains(c.WebOrigins, origin) {
		return &tokenError{http.StatusForbidden, "access_denied", "Cross origin login not allowed for origin " + origin}
	}
	return nil
}

// redeemLoginTicket consumes a login ticket issued to clientID.
func (t *Tenant) redeemLoginTicket(ticket, clientID string) (*loginTicket, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	lt, ok := t.tickets[ticket]
	delete(t.tickets, ticket)
	if !ok || lt.ClientID != clientID || time.Now().After(lt.Expires) {
		return nil, false
	}
	t.recordLoginLocked(lt.Identity)
	return lt, true
}

// answerLoginTicket logs in the person a login ticket was issued for, starting the
// tenant session, and answers req.
func (t *Tenant) answerLoginTicket(w http.ResponseWriter, r *http.Request, req *authRequest, ticket string) {
	lt, ok := t.redeemLoginTicket(ticket, req.ClientID)
	if !ok || (req.Connection != "" && req.Connection != lt.Connection) {
		t.deliver(w, r, req, errorParams("access_denied", "Invalid or expired login_ticket"))
		return
	}
	t.answer(w, r, req, t.startSession(w, r, lt.Identity, lt.Connection))
}
