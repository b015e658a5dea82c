package devtenant

import (
	"net/http"
	"strings"
	"time"
)

const (
	// sessionCookie names the tenant's session cookie. Browsers share cookies across
	// ports of one host, so the name must not collide with the application's.
	sessionCookie = "devtenant_sid"
	// sessionTTL is Auth0's default absolute session lifetime ("Require log in after").
	sessionTTL = 7 * 24 * time.Hour
	// loginTxnTTL bounds how long a login page stays usable.
	loginTxnTTL = 30 * time.Minute
	// codeTTL is how long an authorization code can be exchanged.
	codeTTL = 10 * time.Minute
)

// session is the tenant's memory of who logged in in this browser (Auth0's SSO session).
type session struct {
	SID        string // public id, the ID tokens' sid claim (never the cookie value)
	Identity   string // the "provider|id" that logged in; its primary user may change
	Connection string
	AuthTime   time.Time
	Expires    time.Time
}

// loginTxn is an /authorize request waiting for the person to log in.
type loginTxn struct {
	req     *authRequest
	expires time.Time
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
	if !ok || time.Now().After(s.Expires) || t.primaryFor(s.Identity) == nil {
		return nil
	}
	cp := *s
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
	t.sweepExpired(now)
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

// newLoginTxn stores req under a fresh one-time transaction id.
func (t *Tenant) newLoginTxn(req *authRequest) string {
	id := randomToken(24)
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweepExpired(now)
	t.logins[id] = &loginTxn{req: req, expires: now.Add(loginTxnTTL)}
	return id
}

// loginTxn returns the pending request of transaction id, or nil.
func (t *Tenant) loginTxn(id string) *authRequest {
	t.mu.Lock()
	defer t.mu.Unlock()
	txn, ok := t.logins[id]
	if !ok || time.Now().After(txn.expires) {
		return nil
	}
	return txn.req
}

// finishLoginTxn consumes transaction id; false if it was already used.
func (t *Tenant) finishLoginTxn(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.logins[id]
	delete(t.logins, id)
	return ok
}

// sweepExpired drops expired sessions, login transactions, login tickets and codes, so a long-running
// tenant does not grow without bound. Callers hold t.mu.
func (t *Tenant) sweepExpired(now time.Time) {
	for k, s := range t.sessions {
		if now.After(s.Expires) {
			delete(t.sessions, k)
		}
	}
	for k, l := range t.logins {
		if now.After(l.expires) {
			delete(t.logins, k)
		}
	}
	for k, lt := range t.tickets {
		if now.After(lt.Expires) {
			delete(t.tickets, k)
		}
	}
	for k, c := range t.codes {
		if now.After(c.Expires) {
			delete(t.codes, k)
		}
	}
}
