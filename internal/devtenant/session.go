package devtenant

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

const (
	// sessionCookie names the tenant's session cookie. Browsers share cookies across
	// ports of one host, so the name must not collide with the application's.
	sessionCookie = "devtenant_sid"
	// sessionTTL is Auth0's default absolute session lifetime ("Require log in after").
	sessionTTL = 7 * 24 * time.Hour
)

// session is the tenant's memory of who logged in in this browser (Auth0's SSO session).
type session struct {
	SID        string // public id, the ID tokens' sid claim (never the cookie value)
	Identity   string // the "provider|id" that logged in; its primary user may change
	Connection string
	AuthTime   time.Time
	Expires    time.Time
	// Clients are the clients the session issued tokens to: their back-channel
	// logout URLs hear of its end.
	Clients []string
}

// currentSession returns a copy of the browser's live session, or nil.
func (t *Tenant) currentSession(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.sessions[c.Value]
	if !ok || time.Now().After(s.Expires) || t.primaryForLocked(s.Identity) == nil {
		return nil
	}
	cp := *s
	cp.Clients = slices.Clone(s.Clients)
	return &cp
}

// startSession replaces the browser's session with a new one for identity.
func (t *Tenant) startSession(w http.ResponseWriter, r *http.Request, identity, connection string) *session {
	now := time.Now()
	s := &session{SID: randomToken(16), Identity: identity, Connection: connection, AuthTime: now, Expires: now.Add(sessionTTL)}
	key := randomToken(32)
	t.mu.Lock()
	if old, err := r.Cookie(sessionCookie); err == nil {
		delete(t.sessions, old.Value)
	}
	t.sweepExpiredLocked(now)
	t.sessions[key] = s
	t.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: key, Path: "/", Expires: s.Expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: t.secureCookies(),
	})
	cp := *s
	return &cp
}

// endSession forgets the browser's session and clears its cookie.
func (t *Tenant) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		t.mu.Lock()
		delete(t.sessions, c.Value)
		t.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: t.secureCookies(),
	})
}

func (t *Tenant) secureCookies() bool { return strings.HasPrefix(t.issuer, "https://") }

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
	ended := t.currentSession(r)
	t.endSession(w, r)
	if ended != nil {
		t.sendLogoutTokens(r.Context(), ended)
	}
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
