package server

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/identity"
)

var _ api.ServerInterface = (*server)(nil)

func (s *server) caller(r *http.Request) string {
	p, _ := auth.FromContext(r.Context()) // requireAuth guarantees it on /me routes
	return p.Subject
}

// ListIdentities implements GET /me/identities for the generated interface; routes.go
// routes the request to listIdentities directly (see there).
func (s *server) ListIdentities(w http.ResponseWriter, r *http.Request, _ api.ListIdentitiesParams) {
	s.listIdentities(w, r)
}

// listIdentities serves GET /me/identities: the view's Doc as it is (no encoding),
// with its ETag, or 304 Not Modified when If-None-Match holds that tag.
func (s *server) listIdentities(w http.ResponseWriter, r *http.Request) {
	v, err := s.deps.Identities.List(r.Context(), s.caller(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	doc := viewDoc(v)
	h := w.Header()
	h["Etag"] = doc.ETagList
	// private: the list is the caller's; no-cache (not no-store): a browser may keep
	// it, but asks again (with If-None-Match) before each use.
	h["Cache-Control"] = s.hdr.privateNoCache
	addShared(h, "Vary", s.hdr.varyCredential) // after CORS's Vary: Origin, if any
	if inm, ok := r.Header["If-None-Match"]; ok && ifNoneMatch(inm, doc.ETag) {
		// RFC 9110 15.4.5: the 304 carries the 200's ETag, Cache-Control and Vary,
		// and no body or Content-Type.
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = s.hdr.json
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc.JSON)
}

// viewDoc is v's Doc; the identity service seals every view it returns, so the
// encoding here happens only for a view built elsewhere (a test's fake).
func viewDoc(v identity.View) *identity.Doc {
	if v.Doc == nil {
		return identity.Seal(v).Doc
	}
	return v.Doc
}

// writeView writes v's Doc as a JSON response that no cache keeps (the answer to a
// link or unlink).
func writeView(w http.ResponseWriter, status int, v identity.View) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(viewDoc(v).JSON)
}

// CreateLinkNonce implements POST /me/identities/nonce. (X-CSRF, in the params, is
// checked by the middleware of cookie-authenticated requests.)
func (s *server) CreateLinkNonce(w http.ResponseWriter, r *http.Request, _ api.CreateLinkNonceParams) {
	in, err := s.deps.Identities.NewIntent(r.Context(), s.caller(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.LinkNonce{Nonce: in.Nonce, ExpiresIn: int(in.ExpiresIn.Seconds())})
}

// LinkIdentity implements POST /me/identities.
func (s *server) LinkIdentity(w http.ResponseWriter, r *http.Request, _ api.LinkIdentityParams) {
	var req api.LinkRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.LinkWith == "" {
		p := fault.New(fault.InvalidBody, "link_with is required.")
		p.Fields = []fault.FieldError{{Field: "link_with", Message: "required: the ID token of the secondary login"}}
		s.fail(w, r, p)
		return
	}
	v, err := s.deps.Identities.Link(r.Context(), s.caller(r), req.LinkWith)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeView(w, http.StatusCreated, v)
}

// UnlinkIdentity implements DELETE /me/identities/{provider}/{user_id}.
func (s *server) UnlinkIdentity(w http.ResponseWriter, r *http.Request, provider, userID string, _ api.UnlinkIdentityParams) {
	v, err := s.deps.Identities.Unlink(r.Context(), s.caller(r), provider, userID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeView(w, http.StatusOK, v)
}

// GetHealth implements GET /healthz: the process is up.
func (s *server) GetHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
}

// readyTimeout bounds the readiness check.
const readyTimeout = 3 * time.Second

// GetReadiness implements GET /readyz: the process can reach what it needs. The
// checks run at once, so a slow dependency does not eat another's time.
func (s *server) GetReadiness(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		checks = make(map[string]string, len(s.deps.Ready))
		status = http.StatusOK
	)
	for name, check := range s.deps.Ready {
		wg.Go(func() {
			err := check(ctx)
			mu.Lock()
			defer mu.Unlock()
			checks[name] = "ok"
			if err != nil {
				s.deps.Logger.Warn("not ready", "check", name, "err", err)
				checks[name] = "unreachable"
				if nr, ok := errors.AsType[*NotReadyError](err); ok {
					checks[name] = nr.State
				}
				status = http.StatusServiceUnavailable
			}
		})
	}
	wg.Wait()
	res := api.Readiness{Status: "ok", Checks: checks}
	if status != http.StatusOK {
		res.Status = "unavailable"
	}
	writeJSON(w, status, res)
}

// NotReadyError is a readiness check's failure that says in a word what is wrong;
// /readyz shows that word for the check (any other error shows "unreachable").
type NotReadyError struct {
	State string // e.g. "refused", "draining"
	Err   error
}

// NotReady returns err as a readiness failure shown as state.
func NotReady(state string, err error) error { return &NotReadyError{State: state, Err: err} }

func (e *NotReadyError) Error() string { return e.State + ": " + e.Err.Error() }
func (e *NotReadyError) Unwrap() error { return e.Err }

// GetOpenAPISpec implements GET /openapi.yaml.
func (s *server) GetOpenAPISpec(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(s.deps.OpenAPI)
}

// GetMetrics implements GET /metrics: Prometheus text exposition of s.deps.Metrics.
func (s *server) GetMetrics(w http.ResponseWriter, r *http.Request) {
	s.metricsHTTP.ServeHTTP(w, r)
}

// GetClientConfig implements GET /config.json: what the page needs to start Lock.
func (s *server) GetClientConfig(w http.ResponseWriter, _ *http.Request) {
	c := s.cfg.Client
	out := api.ClientConfig{
		Domain:               c.Domain,
		ClientID:             c.ClientID,
		Issuer:               c.Issuer,
		ConfigurationBaseURL: c.ConfigurationBaseURL,
		JwksURI:              c.Issuer + ".well-known/jwks.json",
		Connections:          append([]string{}, c.Connections...), // [] rather than null when empty
	}
	if c.Tenant != "" {
		out.Tenant = &c.Tenant
	}
	if c.Audience != "" {
		out.Audience = &c.Audience
	}
	writeJSON(w, http.StatusOK, out)
}
