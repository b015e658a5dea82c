package devtenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// The /__dev/ endpoints are thin HTTP wrappers over the Go test knobs (Mint,
// Requests, InjectFault, SetRateLimit, RotateKeys...), for tests and tools that run the
// tenant in another process. They answer JSON; errors use the Management API shape.

// devOnly guards a /__dev/ knob: it answers only requests addressed to a loopback
// name (Host localhost, 127.0.0.1 or [::1], with any port), so that a web page
// cannot reach it by pointing a DNS name of its own at 127.0.0.1 (DNS rebinding),
// and, when they carry a body, only JSON ones, which a page on another origin cannot
// send without a CORS preflight that the knobs never pass (a form post is refused).
func devOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			writeMgmtError(w, http.StatusForbidden, "the /__dev/ endpoints answer only requests to localhost, 127.0.0.1 or [::1]", "")
			return
		}
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				w.Header().Set("Accept-Post", "application/json")
				writeMgmtError(w, http.StatusUnsupportedMediaType, "the /__dev/ endpoints take application/json bodies", "")
				return
			}
		}
		h(w, r)
	}
}

// loopbackHost reports whether a Host header names this machine's loopback
// interface: localhost, a 127.0.0.0/8 address or ::1 (in brackets), with or without a
// port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.IsLoopback()
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
