package devtenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The /__dev/ endpoints are thin HTTP wrappers over the Go test knobs (Mint,
// Requests, InjectFault, SetRateLimit, RotateKeys...), for tests and tools that run the
// tenant in another process. They answer JSON; errors use the Management API shape.

// Endpoints lists the route patterns that request counters and faults are keyed by.
func Endpoints() []string {
	return []string{EndpointDiscovery, EndpointJWKS, EndpointAuthorize, EndpointLogin, EndpointToken,
		EndpointUserinfo, "POST /userinfo", EndpointLogout, EndpointClientInfo, EndpointCrossOriginAuth,
		EndpointGetUser, EndpointPatchUser, EndpointUsersByEmail, EndpointLinkIdentity, EndpointUnlinkIdentity}
}

// decodeDevBody decodes a size-limited JSON body into v, rejecting unknown fields so
// that a typo in a knob does not silently do nothing.
func decodeDevBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, mgmtMaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeMgmtError(w, http.StatusRequestEntityTooLarge, err.Error(), "")
			return false
		}
		writeMgmtError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error(), "invalid_body")
		return false
	}
	return true
}

// handleDevMint serves POST /__dev/tokens: a MintRequest in, Tokens out.
func (t *Tenant) handleDevMint(w http.ResponseWriter, r *http.Request) {
	var req MintRequest
	if !decodeDevBody(w, r, &req) {
		return
	}
	if req.UserID == "" || req.ClientID == "" {
		writeMgmtError(w, http.StatusBadRequest, "user_id and client_id are required", "invalid_body")
		return
	}
	toks, err := t.Mint(req)
	switch {
	case errors.Is(err, ErrUnknown):
		writeMgmtError(w, http.StatusNotFound, err.Error(), "")
	case err != nil:
		writeMgmtError(w, http.StatusInternalServerError, err.Error(), "")
	default:
		writeJSON(w, http.StatusOK, toks)
	}
}

// devRequests is the body of GET /__dev/requests.
type devRequests struct {
	Requests           map[string]int `json:"requests"`
	ManagementRequests int            `json:"management_requests"`
}

func (t *Tenant) handleDevRequests(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, devRequests{Requests: t.Requests(), ManagementRequests: t.ManagementRequests()})
}

func (t *Tenant) handleDevResetRequests(w http.ResponseWriter, r *http.Request) {
	t.ResetRequests()
	w.WriteHeader(http.StatusNoContent)
}

// devFault is the body of POST /__dev/faults: the endpoint and the Fault fields.
type devFault struct {
	Endpoint string `json:"endpoint"`
	Fault
}

func (t *Tenant) handleDevSetFault(w http.ResponseWriter, r *http.Request) {
	var f devFault
	if !decodeDevBody(w, r, &f) {
		return
	}
	if msg := f.problem(); msg != "" {
		writeMgmtError(w, http.StatusBadRequest, msg, "invalid_body")
		return
	}
	t.InjectFault(f.Endpoint, f.Fault)
	w.WriteHeader(http.StatusNoContent)
}

func (f devFault) problem() string {
	switch {
	case !slices.Contains(Endpoints(), f.Endpoint):
		return fmt.Sprintf("unknown endpoint %q (want one of: %s)", f.Endpoint, strings.Join(Endpoints(), "; "))
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return "status must be an HTTP error status (400-599)"
	case f.Count < 0 || f.RetryAfter < 0 || f.Latency < 0:
		return "count, retry_after and latency cannot be negative"
	case f.Status == 0 && !f.Reset && f.Latency == 0:
		return "a fault needs status, reset or latency"
	}
	return ""
}

func (t *Tenant) handleDevClearFaults(w http.ResponseWriter, r *http.Request) {
	t.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

// devRateLimit is the body of PUT /__dev/rate-limit; per_second 0 turns it off.
type devRateLimit struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst"`
}

func (t *Tenant) handleDevRateLimit(w http.ResponseWriter, r *http.Request) {
	var rl devRateLimit
	if !decodeDevBody(w, r, &rl) {
		return
	}
	if rl.PerSecond < 0 || rl.Burst < 0 {
		writeMgmtError(w, http.StatusBadRequest, "per_second and burst cannot be negative", "invalid_body")
		return
	}
	t.SetRateLimit(rl.PerSecond, rl.Burst)
	w.WriteHeader(http.StatusNoContent)
}

func (t *Tenant) handleDevRotateKeys(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Step KeyRotationStep `json:"step"`
	}
	if !decodeDevBody(w, r, &body) {
		return
	}
	if err := t.RotateKeys(body.Step); err != nil {
		writeMgmtError(w, http.StatusBadRequest, err.Error(), "invalid_body")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"signing_kid": t.SigningKeyID()})
}

// handleDevUser serves GET /__dev/users/{id}: the stored user with IdP tokens, outside
// the Management API (no token, not counted, not rate limited).
func (t *Tenant) handleDevUser(w http.ResponseWriter, r *http.Request) {
	u, ok := t.UserSnapshot(r.PathValue("id"))
	if !ok {
		writeAPIError(w, errUserNotFound())
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// handleNotFound answers paths no route matches. Under /api/v2/ it answers 404 for a
// wrong method too, as Auth0's API server does, and still carries the rate limit
// headers of every Management API response. Elsewhere a known path with another
// method answers 405 with Allow.
func (t *Tenant) handleNotFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/v2/") {
		if !t.knobs.rateLimit(w.Header()) {
			writeMgmtError(w, http.StatusTooManyRequests, "Global limit has been reached", "too_many_requests")
			return
		}
		writeMgmtError(w, http.StatusNotFound, http.StatusText(http.StatusNotFound), "")
		return
	}
	if allow := t.allowedMethods(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeMgmtError(w, http.StatusMethodNotAllowed, http.StatusText(http.StatusMethodNotAllowed), "")
		return
	}
	writeMgmtError(w, http.StatusNotFound, http.StatusText(http.StatusNotFound), "")
}

// allowedMethods asks the router which methods have a route for r's path. The
// catch-all "/" (and the CORS preflight on every path) do not count.
func (t *Tenant) allowedMethods(r *http.Request) []string {
	mux, ok := t.handler.(*http.ServeMux)
	if !ok {
		return nil
	}
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" && !strings.HasPrefix(pattern, "OPTIONS ") {
			allow = append(allow, m)
		}
	}
	return allow
}

// ManagementToken mints a Management API access token as the client credentials
// grant would for clientID: sub "{client_id}@clients", azp clientID, gty
// "client-credentials", the given scope and lifetime (24h when ttl is 0; negative for
// an already expired token). It is a test knob: it does not check the client's grants.
func (t *Tenant) ManagementToken(clientID, scope string, ttl time.Duration) (string, error) {
	t.mu.Lock()
	_, ok := t.clients[clientID]
	t.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("%w: client %q", ErrUnknown, clientID)
	}
	now := time.Now()
	c := t.accessTokenClaims(clientID+"@clients", clientID, t.ManagementAudience(), scope, now, "client-credentials")
	if ttl != 0 {
		c["exp"] = now.Add(ttl).Unix()
	}
	return t.signClaims(c)
}
