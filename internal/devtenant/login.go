package devtenant

import (
	"crypto/subtle"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const strategyDatabase = "auth0"

// loginTxnTTL bounds how long a login page stays usable.
const loginTxnTTL = 30 * time.Minute

// loginTxn is an /authorize request waiting for the person to log in.
type loginTxn struct {
	req     *authRequest
	expires time.Time
}

// newLoginTxn stores req under a fresh one-time transaction id.
func (t *Tenant) newLoginTxn(req *authRequest) string {
	id := randomToken(24)
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweepExpiredLocked(now)
	t.logins[id] = &loginTxn{req: req, expires: now.Add(loginTxnTTL)}
	return id
}

// pendingLogin returns the request of login transaction id, or nil.
func (t *Tenant) pendingLogin(id string) *authRequest {
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

// renderLogin shows the login page of transaction tx.
func (t *Tenant) renderLogin(w http.ResponseWriter, status int, tx string, req *authRequest, problem string) {
	page := t.loginPageFor(tx, req)
	page.Error = problem
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = t.pages.ExecuteTemplate(w, "login", page)
}

// loginPageFor decides what the login page offers: the asked-for connection only, or
// the database form plus a link per social connection.
func (t *Tenant) loginPageFor(tx string, req *authRequest) loginPage {
	page := loginPage{
		Action: t.issuer + "authorize/login", Tx: tx, ClientID: req.ClientID,
		ClientName: req.ClientName, LoginHint: req.LoginHint,
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch c := t.connections[req.Connection]; {
	case req.Connection == "":
		page.Database = t.defaultDatabaseLocked()
		for _, name := range t.connectionNamesLocked() {
			if t.connections[name].Strategy == strategyDatabase {
				continue
			}
			q := maps.Clone(req.Query) // Set replaces, never mutates, the shared slices
			q.Set("connection", name)
			page.Links = append(page.Links, connectionLink{Name: name, URL: t.issuer + "authorize?" + q.Encode()})
		}
	case c.Strategy == strategyDatabase:
		page.Database = req.Connection
	default:
		page.Social = req.Connection
		page.Users = t.identitiesOnLocked(req.Connection)
	}
	return page
}

// identitiesOnLocked lists every identity of a connection, standalone or linked into
// another user, as the social provider's accounts to choose from.
func (t *Tenant) identitiesOnLocked(connection string) []loginUser {
	var out []loginUser
	for _, u := range t.users {
		for i, id := range u.Identities {
			if id.Connection != connection {
				continue
			}
			p := u.profile()
			if i > 0 {
				p = id.ProfileData
			}
			name, _ := p["name"].(string)
			email, _ := p["email"].(string)
			out = append(out, loginUser{ID: id.key(), Name: name, Email: email})
		}
	}
	slices.SortFunc(out, func(a, b loginUser) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// handleLogin receives the login page's form: it authenticates the person, starts the
// tenant session and answers the pending authorize request.
func (t *Tenant) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		t.errorPage(w, http.StatusBadRequest, "invalid_request", "The login form could not be read.")
		return
	}
	tx := r.PostForm.Get("tx")
	req := t.pendingLogin(tx)
	if req == nil {
		t.errorPage(w, http.StatusBadRequest, "invalid_request", "This login is unknown, already finished or expired; start again from the application.")
		return
	}
	connection := r.PostForm.Get("connection")
	identity, status, problem := t.authenticate(req, connection, r.PostForm)
	if problem != "" {
		// The transaction stays usable, so the person can try again.
		t.renderLogin(w, status, tx, req, problem)
		return
	}
	if !t.finishLoginTxn(tx) {
		t.errorPage(w, http.StatusBadRequest, "invalid_request", "This login is already finished.")
		return
	}
	t.answer(w, r, req, t.startSession(w, r, identity, connection))
}

// authenticate checks the submitted credentials (database) or chosen account (social)
// and records the login; it returns the identity that logged in, or a status and a
// problem to show on the login page.
func (t *Tenant) authenticate(req *authRequest, connection string, form url.Values) (identity string, status int, problem string) {
	if req.Connection != "" && connection != req.Connection {
		return "", http.StatusBadRequest, "This login is for the " + req.Connection + " connection."
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.connections[connection]
	if !ok {
		return "", http.StatusBadRequest, "Unknown connection."
	}
	if c.Strategy == strategyDatabase {
		identity = t.checkPasswordLocked(connection, form.Get("email"), form.Get("password"))
		if identity == "" {
			return "", http.StatusUnauthorized, "Wrong email or password."
		}
	} else {
		identity = form.Get("user_id")
		if !slices.ContainsFunc(t.identitiesOnLocked(connection), func(u loginUser) bool { return u.ID == identity }) {
			return "", http.StatusBadRequest, "Choose one of the listed accounts."
		}
	}
	t.recordLoginLocked(identity)
	return identity, 0, ""
}

// checkPasswordLocked returns the database identity of connection with that email
// and password, or "".
func (t *Tenant) checkPasswordLocked(connection, email, password string) string {
	if email == "" || password == "" {
		return ""
	}
	for _, u := range t.users {
		for i, id := range u.Identities {
			if id.Connection != connection {
				continue
			}
			idEmail := u.Email
			if i > 0 {
				idEmail, _ = id.ProfileData["email"].(string)
			}
			stored, ok := t.passwords[id.key()]
			if ok && strings.EqualFold(idEmail, email) && subtle.ConstantTimeCompare([]byte(stored), []byte(password)) == 1 {
				return id.key()
			}
		}
	}
	return ""
}

// recordLoginLocked updates the login statistics of the identity's primary user,
// which is the user Auth0 logs in.
func (t *Tenant) recordLoginLocked(identity string) {
	if u := t.primaryForLocked(identity); u != nil {
		u.LastLogin = time.Now()
		u.LoginsCount++
	}
}
