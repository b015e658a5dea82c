package devtenant

import (
	"errors"
	"net/http"
)

// mgmtMaxBody caps Management API and /__dev/ request bodies; Auth0's API server (hapi)
// uses the same 1 MiB default.
const mgmtMaxBody = 1 << 20

// apiError is an Auth0-shaped Management API error (status, message, errorCode) that
// operations return and mgmtEndpoint answers.
type apiError struct {
	status  int
	message string
	code    string
}

func (e *apiError) Error() string { return e.message }

// writeAPIError answers err in the Management API's error shape: an *apiError as it
// says, anything else as a 500.
func writeAPIError(w http.ResponseWriter, err error) {
	if ae, ok := errors.AsType[*apiError](err); ok {
		writeMgmtError(w, ae.status, ae.message, ae.code)
		return
	}
	writeMgmtError(w, http.StatusInternalServerError, err.Error(), "")
}

// Auth0's answer for an unknown user id. Its API reference says "User not found."
// for GET/PATCH /api/v2/users/{id}, but the body it actually sends is this one
// (captured responses, e.g. sillsdev/web-xforge AuthServiceTests); clients should
// switch on the status, not the text.
const (
	msgUserNotFound  = "The user does not exist."
	codeUserNotFound = "inexistent_user"
)

func errUserNotFound() *apiError {
	return &apiError{http.StatusNotFound, msgUserNotFound, codeUserNotFound}
}

// mgmtOp is a Management API operation, called once the caller is known and allowed.
// It returns the answer's body, or an error to answer (see writeAPIError).
type mgmtOp func(t *Tenant, r *http.Request, c *mgmtCaller) (any, error)

// mgmtEndpoint makes op a route handler with the steps every Management API
// endpoint shares: the body size cap, the bearer token and scope check (against the
// user of the path's {id}, if any), then the answer, status on success. The rate
// limit and its headers come before, in instrument, as they apply to unknown paths
// too.
func mgmtEndpoint(rule scopeRule, status int, op mgmtOp) func(*Tenant, http.ResponseWriter, *http.Request) {
	return func(t *Tenant, w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, mgmtMaxBody)
		c := t.authorize(w, r, rule, r.PathValue("id"))
		if c == nil {
			return
		}
		body, err := op(t, r, c)
		if err != nil {
			writeAPIError(w, err)
			return
		}
		writeJSON(w, status, body)
	}
}

// withUser runs f on the user whose primary user_id is id, with t.mu held, and
// returns what f returns. An id that is no user's primary id answers 404, as every
// /api/v2/users/{id} endpoint does (a linked identity's id included).
func (t *Tenant) withUser(id string, f func(u *userRecord) (any, error)) (any, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.users[id]
	if !ok {
		return nil, errUserNotFound()
	}
	return f(u)
}
